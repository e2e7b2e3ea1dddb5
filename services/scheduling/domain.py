"""Scheduling's rules, in plain Python: no nameko, no broker.

Commands take the class (or session) they change, the catalogue items it names (`Catalogue`)
and a way to find other classes' sessions that may collide (`Bookings`), check every rule,
change the objects, and return the events to write as `[(event_type, data), ...]`.
Every refusal names its rule (`rule=`) and the sessions involved.
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from services.contracts import rules
from services.contracts.vocabulary import CATEGORIES
from services.kit import clock
from services.kit.clock import as_utc, local
from services.kit.errors import DomainError, InvalidInput

from .models import Course, Instructor, Program, Site, TrainingClass, TrainingSession, Venue

# Rule names, as refusals carry them (`rule` in problem details).
TWO_THIRDS = "two_thirds_core_theory"
CLASS_HAS_SESSIONS = "class_has_sessions"
CLASS_DOUBLE_BOOKED = "class_double_booked"
VENUE_DOUBLE_BOOKED = "venue_double_booked"
SITE_DOUBLE_BOOKED = "site_double_booked"
INSTRUCTOR_DOUBLE_BOOKED = "instructor_double_booked"
VENUE_CAPACITY = "venue_capacity"
SITE_CAPACITY = "site_capacity"
SITE_AUDIENCE = "site_audience"
WITHIN_CLASS_DATES = "within_class_dates"
LIVE_DELIVERY = "live_delivery"
CLASS_AUDIENCE = "class_audience"
NO_SILENT_EDITS = "no_silent_edits"
CLASS_LIFECYCLE = "class_lifecycle"
SESSION_LIFECYCLE = "session_lifecycle"
CLASS_COMPLETION = "class_completion"
ONE_PROGRAM = "one_program_per_year_track_organiser"
CATALOGUE_REFERENCE = "catalogue_reference"
FIXED_AFTER_PUBLISHING = "fixed_after_publishing"
CAPACITY_BELOW_SEATED = "capacity_below_seated"
SESSION_NOT_ENDED = "session_not_ended"


@dataclass
class Catalogue:
    """The catalogue items a command refers to, by id."""
    courses: dict[str, Course] = field(default_factory=dict)
    venues: dict[str, Venue] = field(default_factory=dict)
    sites: dict[str, Site] = field(default_factory=dict)
    instructors: dict[str, Instructor] = field(default_factory=dict)


class Bookings(Protocol):
    def overlapping(self, sessions: list[TrainingSession],
                    exclude_class_id: str) -> list[TrainingSession]:
        """Non-cancelled sessions of other non-cancelled classes that overlap any of
        `sessions` in time and share its venue, site or instructor."""


class NoBookings:
    def overlapping(self, sessions, exclude_class_id):
        return []


class Seats(Protocol):
    def seated(self, class_id: str) -> int:
        """How many people hold an offline seat of the class now (enrollment knows them)."""


Events = list[tuple[str, dict]]


def new_id() -> str:
    return str(uuid.uuid4())


def now_utc() -> datetime:
    return clock.now()


def live_sessions(sessions):
    return [s for s in sessions if s.status != "cancelled"]


def in_order(sessions):
    return sorted(sessions, key=lambda s: as_utc(s.starts_at))


def label(session: TrainingSession) -> str:
    """How a refusal names a session: course, Shanghai time, id."""
    starts, ends = local(session.starts_at), local(session.ends_at)
    return (f"《{session.course_title}》 {starts:%Y-%m-%d %H:%M}–{ends:%H:%M} "
            f"(session {session.id})")


# -- the two-thirds rule ------------------------------------------------------------------------

def core_theory_ratio(sessions) -> float:
    """Share of the class's non-cancelled sessions (not distinct courses) that are core theory."""
    counted = live_sessions(sessions)
    if not counted:
        return 0.0
    return sum(1 for s in counted if s.core_theory) / len(counted)


def passes_two_thirds(sessions) -> bool:
    """The two-thirds rule (contracts.rules) over the class's non-cancelled sessions."""
    counted = live_sessions(sessions)
    return rules.passes_two_thirds(sum(1 for s in counted if s.core_theory), len(counted))


def check_two_thirds(sessions) -> None:
    counted = live_sessions(sessions)
    if not counted:
        raise DomainError("class_has_sessions: a class without sessions cannot be published",
                          rule=CLASS_HAS_SESSIONS)
    if not passes_two_thirds(counted):
        raise two_thirds_refusal(counted, "are", "to be published", "sessions")


def two_thirds_refusal(counted, verb: str, purpose: str, field_name: str) -> DomainError:
    """The refusal when `counted` (non-cancelled sessions) fall below two thirds."""
    core = sum(1 for s in counted if s.core_theory)
    missing = rules.core_sessions_missing(core, len(counted))
    return DomainError(
        f"{TWO_THIRDS}: {core} of {len(counted)} sessions {verb} core theory "
        f"({core / len(counted):.1%}); a class needs at least two thirds (3 × core ≥ 2 × all) "
        f"{purpose}: add {missing} core-theory session(s) or drop non-core ones",
        rule=TWO_THIRDS, core_sessions=core, sessions=len(counted),
        ratio=round(core / len(counted), 4),
        errors={field_name: [f"{core}/{len(counted)} core theory, below two thirds"]})


# -- programs ---------------------------------------------------------------------------------

def new_program(data: dict, existing: Program | None = None) -> Program:
    if existing is not None:
        raise DomainError(
            f"{ONE_PROGRAM}: {existing.organiser_org_code} already has a {existing.year} "
            f"{existing.track} program ({existing.id}); change that one instead",
            rule=ONE_PROGRAM, program_id=existing.id)
    return Program(id=new_id(), **data)


def change_program(program: Program, changes: dict) -> None:
    for name, value in changes.items():
        setattr(program, name, value)


# -- classes ----------------------------------------------------------------------------------

def audience_errors(track: str, audience: dict) -> dict:
    """A secretary class names a module and a sector (or none: every sector); a member class
    names a category."""
    errors = {}
    if track == "members":
        if audience.get("sector"):
            errors["audience.sector"] = ["member classes name a category, not a sector"]
        if audience.get("module"):
            errors["audience.module"] = ["member classes name a category, not a module"]
        if not audience.get("category"):
            errors["audience.category"] = ["a member class names its category"]
    else:
        if audience.get("category"):
            errors["audience.category"] = ["secretary classes name a sector and a module"]
        if not audience.get("module"):
            errors["audience.module"] = ["a secretary class names its module"]
    return errors


def _set_audience(training_class: TrainingClass, track: str, audience: dict) -> None:
    errors = audience_errors(track, audience)
    if errors:
        raise InvalidInput(f"{CLASS_AUDIENCE}: " + "; ".join(
            f"{k}: {' '.join(v)}" for k, v in errors.items()), errors=errors, rule=CLASS_AUDIENCE)
    training_class.sector = audience.get("sector")
    training_class.module = audience.get("module")
    training_class.category = audience.get("category")


def default_online_open(track: str, delivery: str) -> bool:
    """DESIGN §1: the live broadcast of a secretaries' class reaches every secretary it is for."""
    return track == "secretaries" and delivery in ("live", "hybrid")


def new_class(data: dict, program: Program, catalogue: Catalogue | None = None,
              bookings: Bookings | None = None, now: datetime | None = None) -> TrainingClass:
    """A draft class with its sessions, every scheduling rule checked."""
    catalogue = catalogue or Catalogue()
    online_open = data.get("online_open")
    training_class = TrainingClass(
        id=new_id(), program_id=program.id, program=program, title=data["title"],
        offline_capacity=data["offline_capacity"], delivery=data["delivery"],
        start_date=data["start_date"], end_date=data["end_date"], status="draft",
        online_open=default_online_open(program.track, data["delivery"])
        if online_open is None else online_open,
        review_nominations=data.get("review_nominations", False), sequence=0,
    )
    _set_audience(training_class, program.track, data.get("audience") or {})
    errors = {}
    for index, session_data in enumerate(data.get("sessions", [])):
        try:
            new_session(session_data, training_class, catalogue, now=now)
        except InvalidInput as exc:
            errors.update({f"sessions.{index}.{k}": v for k, v in exc.errors.items()})
    if errors:
        raise InvalidInput("a session names what the catalogue does not have: " + "; ".join(
            f"{k}: {' '.join(v)}" for k, v in errors.items()), errors=errors,
            rule=CATALOGUE_REFERENCE)
    check_within_class_dates(training_class)
    check_schedule(training_class, catalogue, bookings or NoBookings())
    return training_class


# What only a draft may change: the people a class is for and how it is held decide who was
# nominated and how, so a published class keeps them (cancel it and make another instead).
FIXED_ONCE_PUBLISHED = ("audience", "delivery")


def change_class(training_class: TrainingClass, changes: dict, catalogue: Catalogue,
                 bookings: Bookings, seats: Seats | None = None,
                 now: datetime | None = None) -> Events:
    """A change of the class's own fields (`venue_id`: every still-scheduled session held in a
    classroom moves to that classroom). A draft changes silently; a published or running class
    is checked by every rule and tells the world in one `class_changed` with a higher
    sequence (and a `session_rescheduled` for each session it moved)."""
    _require_changeable(training_class, "changed")
    published = training_class.status != "draft"
    fixed = [name for name in FIXED_ONCE_PUBLISHED if name in changes] if published else []
    if fixed:
        raise DomainError(
            f"{FIXED_AFTER_PUBLISHING}: class {training_class.id} is {training_class.status}; "
            f"its {' and '.join(fixed)} no longer change: cancel it and create another class",
            rule=FIXED_AFTER_PUBLISHING,
            errors={name: ["fixed once the class is published"] for name in fixed})
    merged_start = changes.get("start_date", training_class.start_date)
    merged_end = changes.get("end_date", training_class.end_date)
    if merged_end < merged_start:
        raise InvalidInput("end_date is before start_date",
                           errors={"end_date": ["must not be before start_date"]})
    before = class_data(training_class)
    track = training_class.program.track
    if "audience" in changes:
        _set_audience(training_class, track, changes["audience"])
    for name in ("title", "offline_capacity", "delivery", "start_date", "end_date",
                 "review_nominations"):
        if name in changes:
            setattr(training_class, name, changes[name])
    if "online_open" in changes or "delivery" in changes:
        # A new delivery brings its default unless the same change says otherwise.
        chosen = changes.get("online_open")
        training_class.online_open = default_online_open(track, training_class.delivery) \
            if chosen is None else chosen
    moved = _move_to_venue(training_class, changes["venue_id"], catalogue, now) \
        if changes.get("venue_id") else []
    check_within_class_dates(training_class)
    check_schedule(training_class, catalogue, bookings,
                   only=[s for s in training_class.sessions if s.status == "scheduled"])
    if not published:
        return []
    if training_class.offline_capacity < before["offline_capacity"]:
        check_seats(training_class, seats)
    changed = [name for name, value in class_data(training_class).items()
               if value != before.get(name)] + (["venue"] if moved else [])
    if not changed:
        return []
    events: Events = []
    for session in moved:
        session.sequence += 1
        events.append(("session_rescheduled", {**session_data(session), "reason": None}))
    training_class.sequence += 1
    return events + [("class_changed", {**class_data(training_class), "changed": changed})]


def _move_to_venue(training_class: TrainingClass, venue_id: str, catalogue: Catalogue,
                   now: datetime | None) -> list[TrainingSession]:
    venue = catalogue.venues.get(venue_id)
    if venue is None:
        raise InvalidInput(f"no venue {venue_id} in the catalogue", rule=CATALOGUE_REFERENCE,
                           errors={"venue_id": [f"no venue {venue_id} in the catalogue"]})
    moved = [s for s in training_class.sessions
             if s.status == "scheduled" and s.venue_id and s.venue_id != venue.id]
    for session in moved:
        session.venue_id, session.venue_name = venue.id, venue.name
        session.updated_at = now or now_utc()
    return moved


def check_seats(training_class: TrainingClass, seats: Seats | None) -> None:
    """A published class's offline capacity never falls below the people already seated."""
    seated = (seats or NoSeats()).seated(training_class.id)
    if training_class.offline_capacity < seated:
        raise DomainError(
            f"{CAPACITY_BELOW_SEATED}: {seated} people hold an offline seat of class "
            f"{training_class.id}; its capacity cannot fall to {training_class.offline_capacity}"
            ": withdraw people first", rule=CAPACITY_BELOW_SEATED, seated=seated,
            errors={"offline_capacity": [f"below the {seated} people seated"]})


class NoSeats:
    """Nobody is seated (a class enrollment has not heard of)."""

    def seated(self, class_id):
        return 0


def require_draft(training_class: TrainingClass, verb: str) -> None:
    if training_class.status != "draft":
        raise DomainError(
            f"{NO_SILENT_EDITS}: class {training_class.id} is {training_class.status}; a "
            f"session of a published class is not {verb}: it is rescheduled or cancelled, "
            "each with its own event", rule=NO_SILENT_EDITS)


def publish(training_class: TrainingClass, catalogue: Catalogue, bookings: Bookings,
            now: datetime | None = None, schedule_checked: bool = False) -> Events:
    """`schedule_checked`: the class's schedule was checked in this same transaction (it was
    just created), so the conflict and capacity rules need not run twice."""
    if training_class.status != "draft":
        raise DomainError(f"{CLASS_LIFECYCLE}: class {training_class.id} is "
                          f"{training_class.status}; only a draft is published",
                          rule=CLASS_LIFECYCLE)
    check_two_thirds(training_class.sessions)
    if not schedule_checked:
        check_within_class_dates(training_class)
        check_schedule(training_class, catalogue, bookings)
    training_class.status = "published"
    training_class.published_at = now or now_utc()
    events: Events = [("class_published", class_data(training_class))]
    events += [("session_scheduled", session_data(s))
               for s in in_order(live_sessions(training_class.sessions))]
    return events


def cancel_class(training_class: TrainingClass, reason: str | None = None,
                 now: datetime | None = None) -> Events:
    """Cancels the class and its scheduled sessions. A draft was never seen by anyone, so its
    cancellation says nothing; a published class's is one `class_cancelled`."""
    if training_class.status in ("cancelled", "completed"):
        raise DomainError(f"{CLASS_LIFECYCLE}: class {training_class.id} is already "
                          f"{training_class.status}", rule=CLASS_LIFECYCLE)
    now = now or now_utc()
    was_published = training_class.status != "draft"
    for session in training_class.sessions:
        if session.status == "scheduled":
            session.status = "cancelled"
            session.sequence += 1
            session.cancel_reason = reason
            session.updated_at = now
    training_class.status = "cancelled"
    training_class.cancel_reason = reason
    if not was_published:
        return []
    training_class.sequence += 1
    return [("class_cancelled", {**class_data(training_class), "reason": reason})]


def complete_class(training_class: TrainingClass) -> Events:
    """An explicit close: allowed once every non-cancelled session is completed."""
    if training_class.status not in ("published", "in_progress"):
        raise DomainError(f"{CLASS_LIFECYCLE}: class {training_class.id} is "
                          f"{training_class.status}; only a published or running class is "
                          "closed", rule=CLASS_LIFECYCLE)
    still_open = in_order(s for s in training_class.sessions if s.status == "scheduled")
    if still_open:
        raise DomainError(
            f"{CLASS_COMPLETION}: {len(still_open)} session(s) are still scheduled: "
            + "; ".join(label(s) for s in still_open)
            + ". Complete or cancel each before closing the class",
            rule=CLASS_COMPLETION, sessions=[s.id for s in still_open],
            errors={"sessions": [label(s) for s in still_open]})
    training_class.status = "completed"
    training_class.sequence += 1
    return [("class_completed", class_data(training_class))]


# -- sessions ---------------------------------------------------------------------------------

def _resolve(data: dict, catalogue: Catalogue, delivery: str) -> dict:
    """A session's column values from its input (validated by SessionIn: a free-text session
    never claims core theory): catalogue items by id, else free text."""
    errors = {}

    def lookup(key, items, noun):
        item_id = data.get(key)
        if not item_id:
            return None
        item = items.get(item_id)
        if item is None:
            errors[key] = [f"no {noun} {item_id} in the catalogue"]
        return item

    course = lookup("course_id", catalogue.courses, "course")
    venue = lookup("venue_id", catalogue.venues, "venue")
    site = lookup("site_id", catalogue.sites, "site")
    instructor = lookup("instructor_id", catalogue.instructors, "instructor")
    if errors:
        raise InvalidInput("; ".join(f"{k}: {v[0]}" for k, v in errors.items()), errors=errors,
                           rule=CATALOGUE_REFERENCE)
    instructor_name = data.get("instructor_name")
    if instructor is None and not instructor_name and course is not None:
        instructor = course.default_instructor
    kind = data.get("kind") or (course.default_kind if course else None) or "lecture"
    live = data.get("live")
    if live is None:
        # A hybrid class broadcasts its classroom sessions; visits and ceremonies are local.
        live = delivery == "live" or (delivery == "hybrid" and kind in ("lecture", "seminar"))
    place = venue or site
    return {
        "course_id": course.id if course else None,
        "course_title": course.title if course else data["course_title"],
        "core_theory": course.core_theory if course else bool(data.get("core_theory")),
        "kind": kind,
        "starts_at": as_utc(data["starts_at"]).astimezone(UTC),
        "ends_at": as_utc(data["ends_at"]).astimezone(UTC),
        "hours": data["hours"] if data.get("hours") is not None else course.default_hours,
        "venue_id": venue.id if venue else None,
        "site_id": site.id if site else None,
        "venue_name": place.name if place else data.get("venue_name"),
        "instructor_id": instructor.id if instructor else None,
        "instructor_name": instructor.name if instructor else instructor_name,
        "live": live,
    }


def new_session(data: dict, training_class: TrainingClass, catalogue: Catalogue | None = None,
                now: datetime | None = None) -> TrainingSession:
    values = _resolve(data, catalogue or Catalogue(), training_class.delivery)
    session = TrainingSession(id=new_id(), sequence=0, status="scheduled",
                              updated_at=now or now_utc(), **values)
    training_class.sessions.append(session)
    return session


def add_session(training_class: TrainingClass, data: dict, catalogue: Catalogue,
                bookings: Bookings, now: datetime | None = None
                ) -> tuple[TrainingSession, Events]:
    """A new session; on a published class it is news (`session_scheduled`, and the class's
    ratio and hours move: `class_changed`), and it must keep the class at two thirds."""
    _require_changeable(training_class, "given new sessions")
    before = class_data(training_class)
    session = new_session(data, training_class, catalogue, now)
    check_within_class_dates(training_class, only=[session], keys={session.id: ""})
    check_schedule(training_class, catalogue, bookings, only=[session], keys={session.id: ""})
    if training_class.status == "draft":
        return session, []
    counted = live_sessions(training_class.sessions)
    if not passes_two_thirds(counted):
        raise two_thirds_refusal(counted, "would be", "after adding it", "core_theory")
    return session, [("session_scheduled", session_data(session))] + \
        _class_moved(training_class, before)


def replace_session(session: TrainingSession, data: dict, catalogue: Catalogue,
                    bookings: Bookings, now: datetime | None = None) -> None:
    """A draft's session, edited as a whole."""
    training_class = session.training_class
    require_draft(training_class, "edited")
    for name, value in _resolve(data, catalogue, training_class.delivery).items():
        setattr(session, name, value)
    session.updated_at = now or now_utc()
    check_within_class_dates(training_class, only=[session], keys={session.id: ""})
    check_schedule(training_class, catalogue, bookings, only=[session], keys={session.id: ""})


def remove_session(session: TrainingSession) -> None:
    require_draft(session.training_class, "removed")
    session.training_class.sessions.remove(session)


def _require_changeable(training_class: TrainingClass, verb: str) -> None:
    if training_class.status in ("cancelled", "completed"):
        raise DomainError(f"{CLASS_LIFECYCLE}: class {training_class.id} is "
                          f"{training_class.status}; it is not {verb}", rule=CLASS_LIFECYCLE)


def _require_running(training_class: TrainingClass, verb: str) -> None:
    if training_class.status in ("cancelled", "completed"):
        raise DomainError(f"{CLASS_LIFECYCLE}: class {training_class.id} is "
                          f"{training_class.status}; its sessions are not {verb}",
                          rule=CLASS_LIFECYCLE)


def _require_scheduled(session: TrainingSession, verb: str) -> None:
    if session.status != "scheduled":
        raise DomainError(f"session {session.id} is {session.status}; only a scheduled "
                          f"session can be {verb}", rule=SESSION_LIFECYCLE)


def _class_moved(training_class: TrainingClass, before: dict) -> Events:
    """After a session change of a published class: one `class_changed` (its sequence up by
    one) when the class's core-theory ratio or hours moved, none otherwise."""
    after = class_data(training_class)
    changed = [name for name in ("core_theory_ratio", "class_hours")
               if after[name] != before[name]]
    if not changed or training_class.status == "draft":
        return []
    training_class.sequence += 1
    return [("class_changed", {**class_data(training_class), "changed": changed})]


PLACE_FIELDS = ("venue_id", "site_id", "venue_name")
PEOPLE_FIELDS = ("instructor_id", "instructor_name")
TIME_FIELDS = ("starts_at", "ends_at")


def reschedule(session: TrainingSession, changes: dict, catalogue: Catalogue,
               bookings: Bookings, now: datetime | None = None) -> Events:
    """New times, and optionally a new place or instructor. Once the class is published this
    is the only way a session changes: its sequence rises and consumers hear of it. What the
    change does not name keeps the copy the session was scheduled with, even when the
    catalogue item it came from was edited since."""
    training_class = session.training_class
    _require_running(training_class, "rescheduled")
    _require_scheduled(session, "rescheduled")
    data = {
        "course_title": session.course_title, "kind": session.kind, "hours": session.hours,
        "live": session.live, "starts_at": changes["starts_at"], "ends_at": changes["ends_at"],
        "venue_id": session.venue_id, "site_id": session.site_id,
        "venue_name": session.venue_name, "instructor_id": session.instructor_id,
        "instructor_name": session.instructor_name,
    }
    given = TIME_FIELDS
    if any(name in changes for name in PLACE_FIELDS):
        data.update({name: changes.get(name) for name in PLACE_FIELDS})
        given += PLACE_FIELDS
    if any(name in changes for name in PEOPLE_FIELDS):
        data.update({name: changes.get(name) for name in PEOPLE_FIELDS})
        given += PEOPLE_FIELDS
    resolved = _resolve({**data, **{name: None for name in PLACE_FIELDS + PEOPLE_FIELDS
                                    if name not in given}},
                        catalogue, training_class.delivery)
    values = {name: resolved[name] for name in given}
    before = {name: getattr(session, name) for name in values}
    before["starts_at"], before["ends_at"] = as_utc(session.starts_at), as_utc(session.ends_at)
    if values == before:
        raise DomainError(f"session {session.id} already has these times, place and instructor",
                          rule=SESSION_LIFECYCLE)
    for name, value in values.items():
        setattr(session, name, value)
    check_within_class_dates(training_class, only=[session], keys={session.id: ""})
    check_schedule(training_class, catalogue, bookings, only=[session], keys={session.id: ""})
    session.updated_at = now or now_utc()
    if training_class.status == "draft":
        return []   # a draft is private: an edit, not news
    session.sequence += 1
    return [("session_rescheduled", {**session_data(session), "reason": changes.get("reason")})]


def cancel_session(session: TrainingSession, reason: str | None = None,
                   now: datetime | None = None) -> Events:
    training_class = session.training_class
    if training_class.status == "draft":
        raise DomainError(f"{SESSION_LIFECYCLE}: class {training_class.id} is a draft; remove "
                          "the session instead of cancelling it", rule=SESSION_LIFECYCLE)
    _require_running(training_class, "cancelled")
    _require_scheduled(session, "cancelled")
    others = [s for s in live_sessions(training_class.sessions) if s is not session]
    if not others:
        raise DomainError(f"{CLASS_HAS_SESSIONS}: {label(session)} is the class's last "
                          "session; cancel the class instead", rule=CLASS_HAS_SESSIONS)
    if session.core_theory and not passes_two_thirds(others):
        raise two_thirds_refusal(others, "would be",
                                 f"after cancelling {label(session)}", "session_id")
    before = class_data(training_class)
    session.status = "cancelled"
    session.sequence += 1
    session.cancel_reason = reason
    session.updated_at = now or now_utc()
    events: Events = [("session_cancelled", {**session_data(session), "reason": reason})]
    return events + _class_moved(training_class, before) + _complete_if_done(training_class)


def complete_session(session: TrainingSession, now: datetime | None = None) -> Events:
    """Marks the session held, once it has ended. The class runs from its first completed
    session and completes with its last. Only a published class holds sessions: a draft is
    private and unchecked."""
    training_class = session.training_class
    events: Events = []
    if training_class.status == "draft":
        raise DomainError(f"{CLASS_LIFECYCLE}: class {training_class.id} is a draft; publish it "
                          "before its sessions are held", rule=CLASS_LIFECYCLE)
    _require_running(training_class, "completed")
    _require_scheduled(session, "completed")
    now = now or now_utc()
    if as_utc(session.ends_at) > now:
        raise DomainError(
            f"{SESSION_NOT_ENDED}: {label(session)} has not ended yet; a session is completed "
            "once it is over (completing it marks everyone without attendance absent)",
            rule=SESSION_NOT_ENDED, errors={"session_id": ["the session has not ended"]})
    session.status = "completed"
    session.updated_at = now
    training_class.status = "in_progress"
    events.append(("session_completed", session_data(session)))
    return events + _complete_if_done(training_class)


def _complete_if_done(training_class: TrainingClass) -> Events:
    if all(s.status == "completed" for s in live_sessions(training_class.sessions)):
        training_class.status = "completed"
        training_class.sequence += 1
        return [("class_completed", class_data(training_class))]
    return []


# -- the schedule's rules -----------------------------------------------------------------------

def overlaps(a: TrainingSession, b: TrainingSession) -> bool:
    """Half-open intervals: a session may start the minute another ends."""
    return as_utc(a.starts_at) < as_utc(b.ends_at) and as_utc(b.starts_at) < as_utc(a.ends_at)


def shanghai_days(session: TrainingSession) -> tuple[date, date]:
    """The Shanghai dates a session touches; one ending at midnight ends the day before."""
    last_moment = as_utc(session.ends_at) - timedelta(microseconds=1)
    return local(session.starts_at).date(), max(local(session.starts_at).date(),
                                                local(last_moment).date())


def _keys(training_class: TrainingClass, keys: dict | None) -> dict:
    if keys is not None:
        return keys
    return {s.id: f"sessions.{i}." for i, s in enumerate(training_class.sessions)}


def check_within_class_dates(training_class: TrainingClass, only=None,
                             keys: dict | None = None) -> None:
    keys = _keys(training_class, keys)
    errors, messages = {}, []
    for session in live_sessions(only if only is not None else training_class.sessions):
        first, last = shanghai_days(session)
        if first < training_class.start_date or last > training_class.end_date:
            message = (f"{label(session)} falls outside the class dates "
                       f"{training_class.start_date}–{training_class.end_date} (Asia/Shanghai)")
            errors.setdefault(f"{keys.get(session.id, '')}starts_at", []).append(message)
            messages.append(message)
    if errors:   # a conflict between the class and its sessions, like double booking: 409
        raise DomainError(f"{WITHIN_CLASS_DATES}: " + "; ".join(messages), errors=errors,
                          rule=WITHIN_CLASS_DATES)


@dataclass
class Violation:
    rule: str
    key: str
    message: str
    sessions: list[str]


def check_schedule(training_class: TrainingClass, catalogue: Catalogue, bookings: Bookings,
                   only=None, keys: dict | None = None) -> None:
    """No class, venue, site or instructor in two places at once; rooms and sites big enough
    for the class; sites that suit its members; a live class broadcasts every session."""
    keys = _keys(training_class, keys)
    mine = live_sessions(training_class.sessions)
    checked = live_sessions(only if only is not None else mine)
    violations: list[Violation] = []

    def key(session, name):
        return f"{keys.get(session.id, '')}{name}"

    reported = set()
    for session in checked:
        for other in mine:
            pair = frozenset((session.id, other.id))
            if other is session or pair in reported or not overlaps(session, other):
                continue
            reported.add(pair)
            violations.append(Violation(
                CLASS_DOUBLE_BOOKED, key(session, "starts_at"),
                f"{CLASS_DOUBLE_BOOKED}: {label(session)} overlaps {label(other)} of the same "
                "class", [session.id, other.id]))

    resources = (("venue_id", VENUE_DOUBLE_BOOKED, "venue"),
                 ("site_id", SITE_DOUBLE_BOOKED, "site"),
                 ("instructor_id", INSTRUCTOR_DOUBLE_BOOKED, "instructor"))
    for other in bookings.overlapping(checked, training_class.id):
        for session in checked:
            if other.training_class is training_class or not overlaps(session, other):
                continue
            for attribute, rule, noun in resources:
                if getattr(session, attribute) and \
                        getattr(session, attribute) == getattr(other, attribute):
                    # Instructors are named by id: error messages end up in logs, and logs
                    # carry no personal names.
                    name = other.instructor_id if noun == "instructor" else other.venue_name
                    owner = other.training_class
                    violations.append(Violation(
                        rule, key(session, attribute),
                        f"{rule}: {noun} {name} is taken at {label(session)} by {label(other)} "
                        f"of class {owner.title} ({owner.id})", [session.id, other.id]))

    in_person = training_class.delivery in ("offline", "hybrid")
    for session in checked:
        venue = catalogue.venues.get(session.venue_id) if session.venue_id else None
        site = catalogue.sites.get(session.site_id) if session.site_id else None
        if in_person and venue is not None and venue.seats < training_class.offline_capacity:
            violations.append(Violation(
                VENUE_CAPACITY, key(session, "venue_id"),
                f"{VENUE_CAPACITY}: venue {venue.name} seats {venue.seats}, fewer than the "
                f"class's offline capacity {training_class.offline_capacity}, at "
                f"{label(session)}", [session.id]))
        if in_person and site is not None and \
                site.group_capacity < training_class.offline_capacity:
            violations.append(Violation(
                SITE_CAPACITY, key(session, "site_id"),
                f"{SITE_CAPACITY}: site {site.name} takes groups of {site.group_capacity}, fewer "
                f"than the class's offline capacity {training_class.offline_capacity}, at "
                f"{label(session)}", [session.id]))
        category = training_class.category
        if site is not None and category and site.audiences and category not in site.audiences:
            suits = "、".join(CATEGORIES.get(a, a) for a in site.audiences)
            violations.append(Violation(
                SITE_AUDIENCE, key(session, "site_id"),
                f"{SITE_AUDIENCE}: site {site.name} is for {suits}, not for "
                f"{CATEGORIES.get(category, category)} ({category}), at {label(session)}",
                [session.id]))
        if training_class.delivery == "live" and not session.live:
            violations.append(Violation(
                LIVE_DELIVERY, key(session, "live"),
                f"{LIVE_DELIVERY}: a live class broadcasts every session; {label(session)} is "
                "not broadcast", [session.id]))

    if violations:
        raise schedule_error(violations)


def schedule_error(violations: list[Violation]) -> DomainError:
    rules = list(dict.fromkeys(v.rule for v in violations))
    errors: dict[str, list[str]] = {}
    for violation in violations:
        errors.setdefault(violation.key, []).append(violation.message)
    head = violations[0].message if len(violations) == 1 else \
        f"{len(violations)} scheduling conflicts: " + "; ".join(v.message for v in violations)
    return DomainError(head, rule=",".join(rules), errors=errors,
                       violations=[{"rule": v.rule, "sessions": v.sessions, "message": v.message}
                                   for v in violations])


# -- what events and views carry ----------------------------------------------------------------

def session_data(session: TrainingSession) -> dict:
    """A session as its events and views carry it."""
    return {
        "session_id": session.id,
        "class_id": session.class_id or session.training_class.id,
        "course_title": session.course_title,
        "core_theory": session.core_theory,
        "kind": session.kind,
        "starts_at": as_utc(session.starts_at),
        "ends_at": as_utc(session.ends_at),
        "hours": session.hours,
        "venue_name": session.venue_name,
        "instructor_name": session.instructor_name,
        "live": session.live,
        "sequence": session.sequence,
        "course_id": session.course_id,
        "venue_id": session.venue_id,
        "site_id": session.site_id,
        "instructor_id": session.instructor_id,
    }


def class_hours(sessions) -> float:
    return float(sum(s.hours for s in live_sessions(sessions)))


def class_data(training_class: TrainingClass) -> dict:
    program = training_class.program
    sessions = training_class.sessions
    return {
        "class_id": training_class.id,
        "program_id": program.id,
        "year": program.year,
        "track": program.track,
        "organiser_org_code": program.organiser_org_code,
        "title": training_class.title,
        "audience": {"sector": training_class.sector, "module": training_class.module,
                     "category": training_class.category},
        "offline_capacity": training_class.offline_capacity,
        "delivery": training_class.delivery,
        "start_date": training_class.start_date,
        "end_date": training_class.end_date,
        "core_theory_ratio": core_theory_ratio(sessions),
        "status": training_class.status,
        "class_hours": class_hours(sessions),
        "sessions_completed": sum(1 for s in sessions if s.status == "completed"),
        "online_open": bool(training_class.online_open),
        "review_nominations": bool(training_class.review_nominations),
        "sequence": training_class.sequence or 0,
    }


def program_data(program: Program) -> dict:
    return {
        "program_id": program.id, "year": program.year, "track": program.track,
        "organiser_org_code": program.organiser_org_code, "name": program.name,
        "target_person_times": program.target_person_times,
    }
