"""Classes and sessions as scheduling tells them; nominations and their review, seats, the
waitlist, quotas, and the viewers an open live broadcast enrols.

Every change to a class's places locks the class's row first (PostgreSQL `FOR UPDATE`), so
that two nominations at once cannot both take the last seat and promotions stay in order.
"""

import uuid
from datetime import datetime

from sqlalchemy import delete, func, select, update

from services.kit.errors import DomainError, InvalidInput, NotFound, RetryLater
from services.kit.sql import aware, pairs_in, utcnow

from . import domain, events
from .models import Enrollment, Member, Organisation, Quota, TrainingClass, TrainingSession

TERMINAL = ("cancelled", "completed")


# -- what scheduling says -------------------------------------------------------------------

def lock_class(db, class_id: str) -> TrainingClass | None:
    return db.execute(
        select(TrainingClass).where(TrainingClass.class_id == class_id).with_for_update()
        .execution_options(populate_existing=True)).scalar_one_or_none()


def get_class(db, class_id: str) -> TrainingClass:
    klass = db.get(TrainingClass, class_id)
    if klass is None:
        raise NotFound(f"no class {class_id}", entity="class")
    return klass


def _class_fields(data: dict) -> dict:
    audience = data.get("audience") or {}
    return {
        "program_id": data["program_id"], "year": data["year"], "track": data["track"],
        "organiser_org_code": data["organiser_org_code"], "title": data["title"],
        "sector": audience.get("sector"), "module": audience.get("module"),
        "category": audience.get("category"), "offline_capacity": data["offline_capacity"],
        "delivery": data["delivery"], "start_date": data["start_date"],
        "end_date": data["end_date"], "online_open": data.get("online_open", False),
        "review_nominations": data.get("review_nominations", False),
        "sequence": data.get("sequence", 0),
    }


def apply_class(db, data: dict, status: str) -> tuple[TrainingClass, bool]:
    """Create or update the class from a class event. The fields of the highest `sequence`
    seen win: an older change arriving late (another queue) changes none of them. A cancelled
    or completed class stays so. Returns the class and whether it is new."""
    klass = lock_class(db, data["class_id"])
    fields = _class_fields(data)
    if klass is None:
        klass = TrainingClass(class_id=data["class_id"], status=status, next_queue_no=1,
                              **fields)
        db.add(klass)
        db.flush()
        return klass, True
    if fields["sequence"] >= klass.sequence:
        for name, value in fields.items():
            setattr(klass, name, value)
    if klass.status not in TERMINAL:
        klass.status = status
    return klass, False


def class_published(db, data: dict, emit) -> TrainingClass:
    klass, _new = apply_class(db, data, "published")
    if klass.status == "published":
        promote(db, klass, emit)   # a larger capacity frees seats for the waitlist
    return klass


def class_changed(db, data: dict, emit) -> TrainingClass:
    """A published class changed (dates, capacity, audience, online_open, review…): as a
    publication. A larger capacity promotes the waitlist; a smaller one unseats no one
    (scheduling refuses one below the people seated; `class_places` tells it how many)."""
    return class_published(db, data, emit)


def class_cancelled(db, data: dict, emit) -> TrainingClass:
    klass, _new = apply_class(db, data, "cancelled")
    release_all(db, klass, data.get("reason") or "the class was cancelled", emit)
    return klass


SESSION_STATUS = {"session_scheduled": "scheduled", "session_rescheduled": "scheduled",
                  "session_cancelled": "cancelled", "session_completed": "completed"}


def apply_session(db, data: dict, event_type: str) -> tuple[TrainingSession, bool]:
    """Create or update a session from any session event. Returns the session and whether
    this event completed it. A session of a class not seen yet waits for the class."""
    if db.get(TrainingClass, data["class_id"]) is None:
        raise RetryLater(f"class {data['class_id']} is not known yet")
    row = db.execute(select(TrainingSession).where(
        TrainingSession.session_id == data["session_id"]).with_for_update()
        .execution_options(populate_existing=True)).scalar_one_or_none()
    status = SESSION_STATUS[event_type]
    if row is None:
        row = TrainingSession(session_id=data["session_id"], class_id=data["class_id"],
                              starts_at=data["starts_at"], ends_at=data["ends_at"],
                              hours=data["hours"], live=data["live"],
                              sequence=data["sequence"], status=status)
        db.add(row)
        db.flush()
        return row, status == "completed"
    if data["sequence"] >= row.sequence:   # events of one session may come in any order
        row.starts_at, row.ends_at = data["starts_at"], data["ends_at"]
        row.hours, row.live, row.sequence = data["hours"], data["live"], data["sequence"]
    completed_now = status == "completed" and row.status != "completed"
    if status != "scheduled" and row.status != "completed":
        row.status = status   # completed and cancelled never go back to scheduled
    db.flush()
    return row, completed_now


# -- places ------------------------------------------------------------------------------------

def offline_confirmed(db, class_id: str) -> int:
    return db.execute(select(func.count()).where(
        Enrollment.class_id == class_id, Enrollment.status == "confirmed",
        Enrollment.mode == "offline")).scalar_one()


def promote(db, klass: TrainingClass, emit, now: datetime | None = None) -> list:
    """Give free offline seats to the waitlist, first come first served."""
    now = now or utcnow()
    taken = offline_confirmed(db, klass.class_id)
    waiting = db.execute(select(Enrollment).where(
        Enrollment.class_id == klass.class_id, Enrollment.status == "waitlisted")
        .order_by(Enrollment.queue_no)
        .limit(max(klass.offline_capacity - taken, 0))).scalars().all()
    promoted = waiting[:domain.seats_to_promote(klass.offline_capacity, taken, len(waiting))]
    for enrolment in promoted:
        enrolment.status, enrolment.reason, enrolment.updated_at = "confirmed", None, now
        emit("enrollment_confirmed", events.enrollment_data(enrolment))
    return promoted


def release_all(db, klass: TrainingClass, reason: str, emit, statuses=domain.ACTIVE,
                now: datetime | None = None) -> int:
    """Everyone holding or awaiting a place is released (a cancelled class)."""
    now = now or utcnow()
    released = db.execute(select(Enrollment.__table__).where(
        Enrollment.class_id == klass.class_id, Enrollment.status.in_(statuses))).all()
    if not released:
        return 0
    db.execute(update(Enrollment).where(
        Enrollment.class_id == klass.class_id, Enrollment.status.in_(statuses))
        .values(status="released", reason=reason, updated_at=now)
        .execution_options(synchronize_session=False))
    for enrolment in released:
        emit("enrollment_withdrawn", events.enrollment_data(enrolment, status="released",
                                                            reason=reason))
    return len(released)


def _class_facts(klass: TrainingClass) -> domain.ClassFacts:
    return domain.ClassFacts(track=klass.track, status=klass.status, delivery=klass.delivery,
                             start_date=klass.start_date, sector=klass.sector,
                             category=klass.category, online_open=klass.online_open)


def _person_facts(member: Member | None, orgs: dict) -> domain.PersonFacts | None:
    if member is None:
        return None
    secretary_org = orgs.get(member.secretary_of) if member.secretary_of else None
    return domain.PersonFacts(
        member_no=member.member_no, active=member.active, joined_on=member.joined_on,
        employment=member.employment, secretary_of=member.secretary_of,
        secretary_org_sector=secretary_org.sector if secretary_org else None)


def _people(db, member_nos) -> tuple[dict, dict]:
    """The members by number, and the organisations they sit in or are secretary of."""
    people = {m.member_no: m for m in db.execute(
        select(Member).where(Member.member_no.in_(member_nos))).scalars()}
    orgs = {o.org_code: o for o in db.execute(select(Organisation).where(
        Organisation.org_code.in_({m.org_code for m in people.values()}
                                  | {m.secretary_of for m in people.values()
                                     if m.secretary_of}))).scalars()}
    return people, orgs


def _seat_person(enrolment: Enrollment, member: Member, org: Organisation,
                 klass: TrainingClass) -> None:
    """Where the person sits and what they are, as of now: figures count them there for good."""
    enrolment.org_code, enrolment.committee_code = member.org_code, org.committee_code
    enrolment.sector = org.sector
    enrolment.category = domain.member_category(member.joined_on, member.employment,
                                                klass.start_date)


def _nominations_used(db, class_id: str) -> dict:
    """Per committee, its nominations holding or awaiting a place (waiting review included);
    people enrolled by watching the open broadcast were nominated by no one."""
    return dict(db.execute(
        select(Enrollment.committee_code, func.count()).where(
            Enrollment.class_id == class_id, Enrollment.status.in_(domain.ACTIVE),
            Enrollment.origin == "nomination")
        .group_by(Enrollment.committee_code)).all())


def nominate(db, class_id: str, member_nos: list[str], emit, by_org_code: str | None = None,
             mode: str | None = None, now: datetime | None = None) -> dict:
    """A committee (or the district) nominates people into a class. Each one is enrolled
    (confirmed or waitlisted; `nominated`, waiting for the organiser, in a reviewed class) or
    refused with a reason; one refusal does not stop the rest."""
    now = now or utcnow()
    klass = lock_class(db, class_id)
    if klass is None:
        raise NotFound(f"no class {class_id}", entity="class")
    scope = None
    if by_org_code is not None:
        scope = db.get(Organisation, by_org_code)
        if scope is None:
            raise NotFound(f"no organisation {by_org_code}", entity="organisation")

    people, orgs = _people(db, member_nos)
    existing = {e.member_no: e for e in db.execute(select(Enrollment).where(
        Enrollment.class_id == class_id, Enrollment.member_no.in_(member_nos))).scalars()}
    quotas = dict(db.execute(select(Quota.committee_code, Quota.seats)
                             .where(Quota.class_id == class_id)).all())
    used = _nominations_used(db, class_id)
    taken = offline_confirmed(db, class_id)
    facts = _class_facts(klass)
    chosen = domain.choose_mode(klass.delivery, mode)

    enrolled, refused, named = [], [], set()
    for member_no in member_nos:
        member = people.get(member_no)
        org = orgs.get(member.org_code) if member else None
        refusal = _refusal(facts, member, org, orgs, named, existing, scope, chosen, quotas, used)
        named.add(member_no)
        if refusal is not None:
            refused.append({"member_no": member_no, "rule": refusal.rule,
                            "reason": refusal.reason})
            continue
        status = domain.nomination_status(klass.review_nominations, chosen, taken,
                                          klass.offline_capacity)
        enrolment = existing.get(member_no)
        if enrolment is None:
            enrolment = Enrollment(enrollment_id=str(uuid.uuid4()), class_id=class_id,
                                   member_no=member_no, created_at=now)
            db.add(enrolment)
        _seat_person(enrolment, member, org, klass)
        enrolment.mode, enrolment.status, enrolment.reason = chosen, status, None
        enrolment.origin = "nomination"
        enrolment.queue_no, enrolment.nominated_by = klass.next_queue_no, by_org_code
        enrolment.updated_at = now
        klass.next_queue_no += 1
        if status == "confirmed" and chosen == "offline":
            taken += 1
        used[org.committee_code] = used.get(org.committee_code, 0) + 1
        emit(events.enrollment_event_type(status), events.enrollment_data(enrolment))
        enrolled.append(enrolment)
    db.flush()
    return {"enrolled": enrolled, "refused": refused}


def _refusal(facts, member, org, orgs, named, existing, scope, chosen, quotas, used):
    if member is not None and member.member_no in named:
        return domain.Refusal("duplicate", "named twice in this nomination")
    if isinstance(chosen, domain.Refusal):
        return chosen
    refusal = domain.eligibility_refusal(facts, _person_facts(member, orgs))
    if refusal is not None:
        return refusal
    if org is None:
        return domain.Refusal("member", f"the member's organisation {member.org_code} is not "
                                        "known")
    if scope is not None and not org.path.startswith(scope.path):
        return domain.Refusal("scope", f"not under {scope.org_code}: a committee nominates its "
                                       "own people")
    before = existing.get(member.member_no)
    if before is not None and before.status not in ("withdrawn", "released", "rejected"):
        return domain.Refusal("one_enrolment", f"already enrolled in this class ({before.status})")
    return domain.quota_refusal(quotas.get(org.committee_code),
                                used.get(org.committee_code, 0), org.committee_code)


def withdraw(db, enrollment_id: str, emit, reason: str | None = None,
             now: datetime | None = None) -> Enrollment:
    """The person leaves the class; an offline seat they held goes to the first waitlisted."""
    now = now or utcnow()
    enrolment = get_enrolment(db, enrollment_id)
    klass = lock_class(db, enrolment.class_id)
    db.refresh(enrolment)
    if enrolment.status not in domain.ACTIVE:
        raise DomainError(f"the enrolment is {enrolment.status}; only a nominated, confirmed "
                          "or waitlisted one can be withdrawn", rule="withdraw")
    held_seat = enrolment.status == "confirmed" and enrolment.mode == "offline"
    enrolment.status, enrolment.reason, enrolment.updated_at = "withdrawn", reason, now
    emit("enrollment_withdrawn", events.enrollment_data(enrolment))
    db.flush()
    if held_seat and klass.status == "published":
        promote(db, klass, emit, now)
    return enrolment


def _waiting_nomination(db, enrollment_id: str, decision: str):
    """The nomination and its class, locked; only a nomination waiting for review is decided."""
    enrolment = get_enrolment(db, enrollment_id)
    klass = lock_class(db, enrolment.class_id)
    db.refresh(enrolment)
    if enrolment.status != "nominated":
        raise DomainError(f"the enrolment is {enrolment.status}; only a nomination waiting "
                          f"for review can be {decision}", rule="review")
    return enrolment, klass


def accept(db, enrollment_id: str, emit, by: str | None = None,
           now: datetime | None = None) -> Enrollment:
    """The organiser accepts a waiting nomination: an offline seat while one is free, else the
    end of the waitlist (first accepted, first promoted); an online place is never capped."""
    now = now or utcnow()
    enrolment, klass = _waiting_nomination(db, enrollment_id, "accepted")
    if klass.status != "published":
        raise DomainError(f"the class is {klass.status}; only a published class takes "
                          "enrolments", rule="class_status")
    status = domain.place(enrolment.mode, offline_confirmed(db, klass.class_id),
                          klass.offline_capacity)
    enrolment.status, enrolment.reason, enrolment.updated_at = status, None, now
    enrolment.queue_no, enrolment.reviewed_by = klass.next_queue_no, by
    klass.next_queue_no += 1
    emit(events.enrollment_event_type(status), events.enrollment_data(enrolment))
    db.flush()
    return enrolment


def reject(db, enrollment_id: str, reason: str, emit, by: str | None = None,
           now: datetime | None = None) -> Enrollment:
    """The organiser turns a waiting nomination down, saying why."""
    now = now or utcnow()
    if not reason or not reason.strip():
        raise InvalidInput("a rejection says why", errors={"reason": ["required"]})
    enrolment, _klass = _waiting_nomination(db, enrollment_id, "rejected")
    enrolment.status, enrolment.reason, enrolment.updated_at = "rejected", reason.strip(), now
    enrolment.reviewed_by = by
    emit("enrollment_rejected", events.enrollment_data(enrolment))
    db.flush()
    return enrolment


def enrol_viewers(db, pairs, emit, now: datetime | None = None) -> tuple[dict, dict]:
    """Viewers of a live broadcast who have no enrolment in its class, as (class_id,
    member_no): each one the class is open to (online_open, and its audience admits them as it
    would a nomination) is enrolled online, origin `live`, confirmed. Answers the enrolments
    by pair (one made meanwhile by another batch included) and the refusal of each other pair.
    """
    now = now or utcnow()
    pairs = sorted(set(pairs))
    classes = {k.class_id: k for k in db.execute(select(TrainingClass).where(
        TrainingClass.class_id.in_({c for c, _ in pairs}))).scalars()}
    refusals = {(c, m): domain.live_enrolment_refusal(_class_facts(classes[c]), None)
                for c, m in pairs if not classes[c].online_open}
    wanted = [pair for pair in pairs if pair not in refusals]
    if not wanted:
        return {}, refusals
    for class_id in sorted({c for c, _ in wanted}):   # in one order: batches never deadlock
        lock_class(db, class_id)
    existing = {(e.class_id, e.member_no): e for e in db.execute(
        select(Enrollment).where(pairs_in(Enrollment.class_id, Enrollment.member_no, wanted))
        .execution_options(populate_existing=True)).scalars()}
    people, orgs = _people(db, {m for _, m in wanted})
    enrolled = {}
    for class_id, member_no in wanted:
        if (class_id, member_no) in existing:
            enrolled[(class_id, member_no)] = existing[(class_id, member_no)]
            continue
        klass, member = classes[class_id], people.get(member_no)
        org = orgs.get(member.org_code) if member else None
        refusal = domain.live_enrolment_refusal(_class_facts(klass),
                                                _person_facts(member, orgs))
        if refusal is None and org is None:
            refusal = domain.Refusal("member", f"the member's organisation {member.org_code} "
                                               "is not known")
        if refusal is not None:
            refusals[(class_id, member_no)] = refusal
            continue
        enrolment = Enrollment(enrollment_id=str(uuid.uuid4()), class_id=class_id,
                               member_no=member_no, mode="online", status="confirmed",
                               origin="live", queue_no=klass.next_queue_no, nominated_by=None,
                               reason=None, created_at=now, updated_at=now)
        _seat_person(enrolment, member, org, klass)
        klass.next_queue_no += 1
        db.add(enrolment)
        emit("enrollment_confirmed", events.enrollment_data(enrolment))
        enrolled[(class_id, member_no)] = enrolment
    db.flush()
    return enrolled, refusals


def get_enrolment(db, enrollment_id: str) -> Enrollment:
    enrolment = db.get(Enrollment, enrollment_id)
    if enrolment is None:
        raise NotFound(f"no enrolment {enrollment_id}", entity="enrollment")
    return enrolment


def set_quota(db, class_id: str, committee_code: str, seats: int | None) -> dict:
    get_class(db, class_id)
    org = db.get(Organisation, committee_code)
    if org is None:
        raise NotFound(f"no organisation {committee_code}", entity="organisation")
    if org.committee_code != committee_code:
        raise InvalidInput("quotas are per party committee", errors={
            "committee_code": [f"{committee_code} is not a party (work) committee"]})
    if seats is None:
        db.execute(delete(Quota).where(Quota.class_id == class_id,
                                       Quota.committee_code == committee_code))
        return {"class_id": class_id, "committee_code": committee_code, "seats": None}
    if not isinstance(seats, int) or isinstance(seats, bool) or seats < 0:
        raise InvalidInput("seats must be a whole number ≥ 0", errors={"seats": ["≥ 0"]})
    quota = db.get(Quota, (class_id, committee_code))
    if quota is None:
        db.add(Quota(class_id=class_id, committee_code=committee_code, seats=seats))
    else:
        quota.seats = seats
    db.flush()
    return {"class_id": class_id, "committee_code": committee_code, "seats": seats}


def quotas(db, class_id: str) -> list[dict]:
    used = _nominations_used(db, class_id)
    return [{"committee_code": q.committee_code, "seats": q.seats,
             "used": used.get(q.committee_code, 0)}
            for q in db.execute(select(Quota).where(Quota.class_id == class_id)
                                .order_by(Quota.committee_code)).scalars()]


def places(db, klass: TrainingClass) -> dict:
    counts = {(mode, status): n for mode, status, n in db.execute(
        select(Enrollment.mode, Enrollment.status, func.count())
        .where(Enrollment.class_id == klass.class_id)
        .group_by(Enrollment.mode, Enrollment.status)).all()}
    offline = counts.get(("offline", "confirmed"), 0)
    return {
        "offline_capacity": klass.offline_capacity, "offline_confirmed": offline,
        "offline_free": max(klass.offline_capacity - offline, 0),
        "online_confirmed": counts.get(("online", "confirmed"), 0),
        "waitlisted": sum(n for (_m, s), n in counts.items() if s == "waitlisted"),
        "nominated": sum(n for (_m, s), n in counts.items() if s == "nominated"),
        "completed": sum(n for (_m, s), n in counts.items() if s == "completed"),
        "incomplete": sum(n for (_m, s), n in counts.items() if s == "incomplete"),
    }


def class_places(db, class_id: str) -> dict:
    """What scheduling asks before it changes a class's capacity: the people seated, waiting
    and awaiting review. A class this service has not heard of yet has no one."""
    klass = db.get(TrainingClass, class_id)
    if klass is None:
        return {"class_id": class_id, "known": False, "offline_confirmed": 0, "waitlisted": 0,
                "nominated": 0}
    return {"class_id": class_id, "known": True, **places(db, klass)}


def list_enrolments(db, class_id: str, status: str | None, within_path: str | None,
                    page: int, per_page: int):
    query = select(Enrollment, Member.name).join(
        Member, Member.member_no == Enrollment.member_no, isouter=True).where(
        Enrollment.class_id == class_id)
    if status is not None:
        query = query.where(Enrollment.status == status)
    if within_path is not None:
        query = query.join(Organisation, Organisation.org_code == Enrollment.org_code).where(
            Organisation.path.startswith(within_path, autoescape=True))
    total = db.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = db.execute(query.order_by(Enrollment.queue_no)
                      .offset((page - 1) * per_page).limit(per_page)).all()
    return rows, total


def session_or_404(db, session_id: str) -> TrainingSession:
    row = db.get(TrainingSession, session_id)
    if row is None:
        raise NotFound(f"no session {session_id}", entity="session")
    return row


def session_times(row: TrainingSession) -> tuple[datetime, datetime]:
    return aware(row.starts_at), aware(row.ends_at)
