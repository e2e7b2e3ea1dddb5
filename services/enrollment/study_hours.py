"""Study hours earned outside this system's classes (其他学时, DESIGN §1): unit-run sessions not
in the system, the remote-education platform's self-study, party-school courses.

An entry is recorded per person and year with its source, title, day and hours, one by one or
from a file (`peixun import hours`), and each is a study_hours_recorded event. A withdrawn entry
stays, marked, and counts no more (its event says `withdrawn`). The same entry again, every field
alike, is the one already recorded: a retried request or a re-imported file counts it once.
A person's yearly figures set these beside the hours credited from the classes completed here
(集中培训学时), against their role's quota.
"""

import math
import uuid
from datetime import date, datetime

from sqlalchemy import select

from services.contracts import rules
from services.contracts.commands.enrollment import MAX_ENTRY_HOURS
from services.contracts.imports import HOUR_SOURCES
from services.contracts.vocabulary import STUDY_HOUR_PARTS, STUDY_HOUR_SOURCES
from services.kit import clock
from services.kit.errors import InvalidInput, NotFound
from services.kit.sql import utcnow

from . import completion, events
from .importers import CODE, ISO_DATE, BadRow
from .models import Member, StudyHourEntry

EARLIEST_YEAR, LATEST_YEAR = 2000, 2100   # the contract's years
CHUNK = 5000   # member numbers per lookup
KEY = ("member_no", "year", "hours", "source", "title", "on")


def entry_problem(year: int, on: date, today: date) -> tuple[str, str] | None:
    """Why an entry's day cannot stand, as (field, reason); None when it can. Hours count in
    the year they were studied, and none are earned ahead of time."""
    if on.year != year:
        return "on", f"{on.isoformat()} is not in {year}"
    if on > today:
        return "on", f"{on.isoformat()} is in the future"
    return None


# -- one entry -----------------------------------------------------------------------------------

def record(db, member_no: str, data: dict, emit, by: str | None = None,
           now: datetime | None = None) -> tuple[StudyHourEntry, bool]:
    """Record one entry for a known person (`data` as StudyHoursIn loads it). Answers the entry
    and whether it is new."""
    now = now or utcnow()
    if db.get(Member, member_no) is None:
        raise NotFound(f"no member {member_no}", entity="member")
    problem = entry_problem(data["year"], data["on"], clock.today(now))
    if problem is not None:
        raise InvalidInput("the entry is not valid", errors={problem[0]: [problem[1]]})
    [(entry, new)] = _keep(db, [{"member_no": member_no, **{k: data[k] for k in KEY[1:]}}],
                           emit, by, now)
    return entry, new


def withdraw(db, member_no: str, entry_id: str, emit, by: str | None = None,
             now: datetime | None = None) -> StudyHourEntry:
    """Withdraw an entry: it counts no more, and reporting hears so. Withdrawing it again
    changes nothing."""
    entry = db.get(StudyHourEntry, entry_id)
    if entry is None or entry.member_no != member_no:
        raise NotFound(f"no study-hour entry {entry_id} of {member_no}", entity="study_hours")
    if entry.withdrawn_at is None:
        entry.withdrawn_at, entry.withdrawn_by = now or utcnow(), by
        db.flush()
        emit("study_hours_recorded", events.study_hours_data(entry))
    return entry


def _keep(db, rows: list[dict], emit, by, now) -> list[tuple[StudyHourEntry, bool]]:
    """Each row (KEY's fields) as its entry: the live one alike in every field, or a new one."""
    live = {}
    numbers = sorted({row["member_no"] for row in rows})
    for start in range(0, len(numbers), CHUNK):
        for entry in db.execute(select(StudyHourEntry).where(
                StudyHourEntry.member_no.in_(numbers[start:start + CHUNK]),
                StudyHourEntry.withdrawn_at.is_(None))).scalars():
            live.setdefault(_key({k: getattr(entry, k) for k in KEY}), entry)
    kept = []
    for row in rows:
        entry = live.get(_key(row))
        if entry is not None:
            kept.append((entry, False))
            continue
        entry = StudyHourEntry(entry_id=str(uuid.uuid4()), recorded_by=by, recorded_at=now,
                               **{k: row[k] for k in KEY})
        db.add(entry)
        live[_key(row)] = entry
        kept.append((entry, True))
    db.flush()
    for entry, new in kept:
        if new:
            emit("study_hours_recorded", events.study_hours_data(entry))
    return kept


def _key(values: dict) -> tuple:
    return tuple(float(values[k]) if k == "hours" else values[k] for k in KEY)


# -- a file of them ------------------------------------------------------------------------------

def import_entries(db, rows: list[dict], emit, by: str | None = None,
                   now: datetime | None = None) -> dict:
    """Keep the good rows of a study-hour file (rows of text, as services.contracts.imports
    reads them), report the bad ones: `{"kept", "bad": [{"row", "field", "reason"}],
    "changed"}` (changed: the entries new to the ledger)."""
    now = now or utcnow()
    numbers = sorted({str(row.get("member_no") or "").strip() for row in rows})
    known = set()
    for start in range(0, len(numbers), CHUNK):
        known.update(db.execute(select(Member.member_no).where(
            Member.member_no.in_(numbers[start:start + CHUNK]))).scalars())
    good, bad = check_hours(rows, known, clock.today(now))
    kept = _keep(db, good, emit, by, now)
    return {"kept": len(good), "bad": [b.__dict__ for b in bad],
            "changed": sum(new for _, new in kept)}


def check_hours(rows: list[dict], known: set[str], today: date
                ) -> tuple[list[dict], list[BadRow]]:
    """The rows of a study-hour file that may be kept (typed, KEY's fields), and one BadRow
    for each that may not: the first field that fails, with its reason."""
    good, bad, seen = [], [], {}
    for row in rows:
        number = row.get("row", 0)
        try:
            entry = _typed(row, known, today)
            first = seen.setdefault(_key(entry), number)
            if first != number:
                raise _Bad("member_no", f"the same entry as row {first}")
        except _Bad as refused:
            bad.append(BadRow(number, refused.field, refused.reason))
            continue
        good.append(entry)
    return good, bad


class _Bad(Exception):
    def __init__(self, field: str, reason: str):
        super().__init__(field, reason)
        self.field, self.reason = field, reason


def _typed(row: dict, known: set[str], today: date) -> dict:
    text = {k: _text(row.get(k)) for k in KEY}
    for field, value in text.items():
        if not value:
            raise _Bad(field, "missing")
    member_no = text["member_no"]
    if not CODE.match(member_no):
        raise _Bad("member_no", "not a valid member number (letters, digits, . _ - ; at most 64)")
    if member_no not in known:
        raise _Bad("member_no", f"no member {member_no}")
    if not (len(text["year"]) == 4 and text["year"].isdigit()):
        raise _Bad("year", f"{text['year']!r} is not a year (YYYY)")
    year = int(text["year"])
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise _Bad("year", f"{year} is not between {EARLIEST_YEAR} and {LATEST_YEAR}")
    try:
        hours = float(text["hours"])
    except ValueError:
        hours = math.nan
    if not math.isfinite(hours):
        raise _Bad("hours", f"{text['hours']!r} is not a number")
    if not 0 < hours <= MAX_ENTRY_HOURS:
        raise _Bad("hours", f"{text['hours']} is not more than 0 and at most {MAX_ENTRY_HOURS}")
    source = HOUR_SOURCES.get(text["source"]) or HOUR_SOURCES.get(text["source"].lower())
    if source is None:
        spelt = ", ".join(f"{code}/{label}" for code, label in STUDY_HOUR_SOURCES.items())
        raise _Bad("source", f"{text['source']!r} is not a valid source ({spelt})")
    if len(text["title"]) > 200:
        raise _Bad("title", "longer than 200 characters")
    on = _day(text["on"])
    problem = entry_problem(year, on, today)
    if problem is not None:
        raise _Bad(*problem)
    return {"member_no": member_no, "year": year, "hours": hours, "source": source,
            "title": text["title"], "on": on}


def _day(value: str) -> date:
    try:
        if ISO_DATE.match(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise _Bad("on", f"{value!r} is not a date (YYYY-MM-DD)")


def _text(value) -> str:
    return "" if value is None else str(value).strip()


# -- a person's year -----------------------------------------------------------------------------

def summary(db, member_no: str, year: int | None = None) -> dict:
    """A person's study hours by year: 集中培训学时 (credited from the classes completed here),
    其他学时 (the live entries) and 合计, against the quota of their role (a sitting secretary's
    or a member's); the class lines and every entry, withdrawn ones marked."""
    member = db.get(Member, member_no)
    if member is None:
        raise NotFound(f"no member {member_no}", entity="member")
    credited = completion.ledger(db, member_no, year)
    query = select(StudyHourEntry).where(StudyHourEntry.member_no == member_no)
    if year is not None:
        query = query.where(StudyHourEntry.year == year)
    entries = db.execute(query.order_by(StudyHourEntry.year, StudyHourEntry.on,
                                        StudyHourEntry.recorded_at)).scalars().all()
    from_classes = {line["year"]: line["hours"] for line in credited["years"]}
    other: dict[int, float] = {}
    for entry in entries:
        if entry.withdrawn_at is None:
            other[entry.year] = other.get(entry.year, 0.0) + entry.hours
    role = "secretary" if member.secretary_of else "member"
    quota = rules.quota_hours(role)
    years = sorted(set(from_classes) | set(other) | ({year} if year is not None else set()))
    return {
        "member_no": member_no, "name": member.name, "role": role, "quota_hours": quota,
        "labels": {f"{part}_hours": text for part, text in STUDY_HOUR_PARTS.items()},
        "years": [_year(y, from_classes.get(y, 0.0), other.get(y, 0.0), quota) for y in years],
        "lines": credited["lines"],
        "entries": [entry_view(entry) for entry in entries],
    }


def _year(year: int, class_hours: float, other_hours: float, quota: float) -> dict:
    total = round(class_hours + other_hours, 6)
    return {"year": year, "class_hours": round(class_hours, 6),
            "other_hours": round(other_hours, 6), "total_hours": total,
            "quota_hours": quota, "reached": total >= quota}


def entry_view(entry: StudyHourEntry) -> dict:
    return {"entry_id": entry.entry_id, "member_no": entry.member_no, "year": entry.year,
            "hours": entry.hours, "source": entry.source, "title": entry.title,
            "on": entry.on.isoformat(), "recorded_by": entry.recorded_by,
            "recorded_at": entry.recorded_at.isoformat(),
            "withdrawn": entry.withdrawn_at is not None,
            "withdrawn_at": entry.withdrawn_at.isoformat() if entry.withdrawn_at else None}
