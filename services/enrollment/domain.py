"""Enrollment's rules (DESIGN §1), in plain Python: no nameko, no broker, no database.

Shares (80% watched, 80% attended) are compared in exact fractions, so that exactly 80% passes
and 79.99…% does not, whatever the floating-point sums would say.
"""

import calendar
import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction

from services.contracts.commands.enrollment import CHECKIN_STATUSES  # noqa: F401 - for attendance
from services.kit.clock import SHANGHAI

NEW_MEMBER_YEARS = 3
ONLINE_SHARE = Fraction(4, 5)          # 5 × watched minutes ≥ 4 × the session's minutes
DEFAULT_COMPLETION_SHARE = "0.8"       # PEIXUN_COMPLETION_SHARE
CORRECTION_DAYS = 7                    # corrections until 23:59 (Shanghai) of the 7th day after
CHECKIN_TOLERANCE = timedelta(hours=2)  # a check-in further than this from the session is flagged

ACTIVE = ("nominated", "confirmed", "waitlisted")    # holding a place or waiting for one
ENROLLED = ("confirmed", "completed", "incomplete")  # took part (attendance applies)
ATTENDED = ("present", "online")                     # earn the session's hours


# -- categories ------------------------------------------------------------------------------

def add_years(day: date, years: int) -> date:
    """The same day `years` later; a 29 February without its twin ends on the month's last day
    (as Chinese civil law counts periods in years)."""
    year = day.year + years
    last = calendar.monthrange(year, day.month)[1]
    return day.replace(year=year, day=min(day.day, last))


def is_new_member(joined_on: date | None, on: date) -> bool:
    """Joined within the last three years, as of `on` (a class's start date)."""
    return joined_on is not None and on < add_years(joined_on, NEW_MEMBER_YEARS)


def member_category(joined_on: date | None, employment: str | None, on: date) -> str | None:
    """new_member, else the employment (institution or enterprise); `other` is no category."""
    if is_new_member(joined_on, on):
        return "new_member"
    if employment in ("institution", "enterprise"):
        return employment
    return None


# -- shares ------------------------------------------------------------------------------------

def exact(value: float | int | str | Decimal) -> Fraction:
    """A number as the decimal it was written as (1.2 hours is 6/5, not 1.19999…)."""
    if isinstance(value, float):
        value = repr(round(value, 9))
    return Fraction(Decimal(str(value)))


def completion_share() -> Fraction:
    share = exact(os.environ.get("PEIXUN_COMPLETION_SHARE", DEFAULT_COMPLETION_SHARE))
    if not 0 < share <= 1:
        raise ValueError("PEIXUN_COMPLETION_SHARE must be in (0, 1]")
    return share


def meets_share(part, whole, share: Fraction) -> bool:
    return exact(part) >= share * exact(whole)


def session_minutes(starts_at: datetime, ends_at: datetime) -> Fraction:
    return Fraction(int((ends_at - starts_at).total_seconds()), 60)


def watched_enough(watched_minutes, starts_at: datetime, ends_at: datetime) -> bool:
    """Online attendance: the reports for one person and session, added up, reach 80%."""
    return exact(watched_minutes) >= ONLINE_SHARE * session_minutes(starts_at, ends_at)


def is_completed(attended_hours, class_hours, share: Fraction | None = None) -> bool:
    """Completion: attended (present or online) hours reach the share of the class's hours.
    A class without hours (no session held) completes no one."""
    if exact(class_hours) <= 0:
        return False
    return meets_share(attended_hours, class_hours, completion_share() if share is None
                       else share)


def hours_earned(status: str, session_hours: float) -> float:
    return session_hours if status in ATTENDED else 0.0


# -- time rules --------------------------------------------------------------------------------

def correction_deadline(session_ends_at: datetime) -> datetime:
    """23:59:59.999999 in Shanghai of the 7th calendar day after the session's day."""
    day = session_ends_at.astimezone(SHANGHAI).date() + timedelta(days=CORRECTION_DAYS)
    return datetime.combine(day, time.max, tzinfo=SHANGHAI)


def may_correct(session_ends_at: datetime, now: datetime) -> bool:
    return now <= correction_deadline(session_ends_at)


def outside_session_time(at: datetime, starts_at: datetime, ends_at: datetime) -> bool:
    """A check-in more than CHECKIN_TOLERANCE before the start or after the end."""
    return at < starts_at - CHECKIN_TOLERANCE or at > ends_at + CHECKIN_TOLERANCE


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


def online_report_upgrades(current_status: str | None) -> bool:
    """A report that reaches 80% makes the person `online` unless they were already present."""
    return current_status not in ATTENDED


# -- eligibility and places ---------------------------------------------------------------------

@dataclass(frozen=True)
class Refusal:
    rule: str
    reason: str


@dataclass(frozen=True)
class ClassFacts:
    track: str
    status: str
    delivery: str
    start_date: date
    sector: str | None = None
    category: str | None = None
    online_open: bool = False


@dataclass(frozen=True)
class PersonFacts:
    member_no: str
    active: bool
    joined_on: date | None
    employment: str | None
    secretary_of: str | None = None
    secretary_org_sector: str | None = None   # sector of the organisation they are secretary of


def modes_offered(delivery: str) -> tuple[str, ...]:
    """offline: seats only; live: online places only; hybrid: both."""
    return {"offline": ("offline",), "live": ("online",), "hybrid": ("offline", "online")}[delivery]


def choose_mode(delivery: str, requested: str | None) -> str | Refusal:
    offered = modes_offered(delivery)
    if requested is None:
        return offered[0]
    if requested not in offered:
        return Refusal("mode", f"the class is {delivery}: it offers no {requested} places")
    return requested


def eligibility_refusal(klass: ClassFacts, person: PersonFacts | None) -> Refusal | None:
    """Why this person may not be enrolled in this class, or None."""
    if klass.status != "published":
        return Refusal("class_status", f"the class is {klass.status}; only a published class "
                                       "takes enrolments")
    if person is None:
        return Refusal("member", "no such member")
    if not person.active:
        return Refusal("member", "the member has left")
    if klass.track == "secretaries":
        if not person.secretary_of:
            return Refusal("eligibility", "not a sitting secretary: a secretary class takes "
                                          "only sitting secretaries")
        if klass.sector is not None and person.secretary_org_sector != klass.sector:
            return Refusal("eligibility", f"secretary of a {person.secretary_org_sector or 'no'}"
                                          f"-sector organisation; the class is for the "
                                          f"{klass.sector} sector")
        return None
    category = member_category(person.joined_on, person.employment, klass.start_date)
    if category is None:
        return Refusal("eligibility", "in no member category (employment other, joined more "
                                      "than three years before the class)")
    if klass.category is not None and category != klass.category:
        return Refusal("eligibility", f"category {category}; the class is for {klass.category}")
    return None


def live_enrolment_refusal(klass: ClassFacts, person: PersonFacts | None) -> Refusal | None:
    """Why a viewer of the class's broadcast who was never enrolled may not be enrolled online
    by watching, or None: the class is open online, and its audience admits them as it would
    a nomination."""
    if not klass.online_open:
        return Refusal("online_open", "the class is not open online: its viewers are nominated")
    if "online" not in modes_offered(klass.delivery):
        return Refusal("mode", f"the class is {klass.delivery}: it offers no online places")
    return eligibility_refusal(klass, person)


def nomination_status(reviewed: bool, mode: str, offline_confirmed: int, capacity: int) -> str:
    """A reviewed class keeps the nomination waiting for its organiser; else it is placed."""
    return "nominated" if reviewed else place(mode, offline_confirmed, capacity)


def place(mode: str, offline_confirmed: int, capacity: int) -> str:
    """Online places are not capped; an offline seat past the cap is a place on the waitlist."""
    if mode == "online" or offline_confirmed < capacity:
        return "confirmed"
    return "waitlisted"


def seats_to_promote(capacity: int, offline_confirmed: int, waiting: int) -> int:
    """How many of the waitlist (first come, first served) now get a seat."""
    return max(0, min(capacity - offline_confirmed, waiting))


def quota_refusal(seats: int | None, used: int, committee_code: str | None) -> Refusal | None:
    if seats is not None and used >= seats:
        return Refusal("quota", f"the quota of {committee_code} for this class ({seats}) is used "
                                "up")
    return None


# -- the organisation tree ------------------------------------------------------------------------

def tree_paths(parents: dict[str, str | None]) -> tuple[dict[str, str], dict[str, str]]:
    """Each organisation's path from its root (`/ROOT/…/CODE/`), and the reason for each one
    that has none: a parent that never appears, or a cycle. Below a bad one, all are bad."""
    paths: dict[str, str] = {}
    bad: dict[str, str] = {}
    for start in parents:
        chain: list[str] = []
        code, base, reason = start, None, None
        while True:
            if code in paths:
                base = paths[code]
                break
            if code in bad:
                reason = f"its ancestor {code} is not valid"
                break
            if code in chain:
                cycle = chain[chain.index(code):]
                for member in cycle:
                    bad[member] = f"forms a cycle ({' → '.join(cycle + [code])})"
                chain = chain[:chain.index(code)]
                reason = f"its ancestor {code} is not valid"
                break
            chain.append(code)
            parent = parents[code]
            if parent is None:
                base = "/"
                break
            if parent not in parents:
                bad[code] = f"parent {parent} never appears"
                chain.pop()
                reason = f"its ancestor {code} is not valid"
                break
            code = parent
        if reason is not None:
            for member in chain:
                bad[member] = reason
            continue
        for member in reversed(chain):
            base = f"{base}{member}/"
            paths[member] = base
    return paths, bad


def ancestors_from_path(path: str) -> list[str]:
    """[self, parent, …, root] from `/ROOT/…/SELF/`."""
    return list(reversed([code for code in path.split("/") if code]))


def committee_of(path: str) -> str | None:
    """The ancestor directly under the root (None for a root itself)."""
    codes = [code for code in path.split("/") if code]
    return codes[1] if len(codes) > 1 else None
