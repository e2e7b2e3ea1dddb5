"""Attendance: check-ins, corrections, the live platform's reports (which enrol the viewers of
an open broadcast), and `absent` for everyone left without a record when a session completes.
Anomalies are flagged, never dropped.

The log (`attendance`) is append-only; `attendance_current` holds each (enrolment, session)'s
latest entry so that the effective status is one indexed read. Each class's entries are a hash
chain (`entry_hash`), which `verify` walks: see "the chain" below.
"""

import hashlib
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace

from sqlalchemy import and_, exists, func, select, union_all

from services.kit.database import take_turns
from services.kit.errors import DomainError, InvalidInput, RetryLater
from services.kit.sql import insert_returning, insert_rows, pairs_in, utcnow

from . import completion, domain, events
from .enrolment import enrol_viewers, session_or_404, session_times
from .models import (
    AnomalyFlag,
    AttendanceEntry,
    CurrentAttendance,
    Enrollment,
    Member,
    Organisation,
    TrainingClass,
    TrainingSession,
    ViewingReport,
)

STATUSES = ("present", "online", "leave", "absent")

# Anomaly kinds (their labels: contracts.vocabulary.ANOMALY_KINDS)
OVERLAPPING = "overlapping_sessions"
OUTSIDE_TIME = "checkin_outside_time"
NOT_ENROLLED = "online_not_enrolled"
LATE_REPORT = "online_report_after_deadline"
NOT_LIVE = "online_session_not_live"
AFTER_COMPLETION = "online_report_after_completion"

# Who made the entries no person makes (`recorded_by`).
LIVE_PLATFORM = "live_platform"
COMPLETION = "session_completed"


# -- the chain ----------------------------------------------------------------------------------
# Each class's entries, in the order they were written, are a chain: an entry's sha256 covers
# its content and the hash of the entry before it in the class (GENESIS for the first). An
# entry changed, removed or slipped in behind the service's back no longer fits. Appending
# takes the class's turn (an advisory lock held to the commit) and reads the head in the same
# transaction; a unique (class_id, chain_seq) refuses a fork whatever happens.

GENESIS = "0" * 64
# What an entry's hash covers, beside the previous entry's hash. Never change what this makes
# of a stored entry: every chain already written would break.
CHAINED = ("enrollment_id", "session_id", "class_id", "member_no", "status", "hours_earned",
           "source", "correction", "checked_in_at", "reason", "recorded_at", "recorded_by",
           "device", "chain_seq")
CHAIN_LOCK = "peixun.enrollment.attendance_chain.{}"


def _canonical(name: str, value):
    if value is None:
        return None
    if name in ("checked_in_at", "recorded_at"):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if name == "hours_earned":
        return repr(float(value))    # the shortest text that reads back as the same double
    if name == "correction":
        return bool(value)
    if name == "chain_seq":
        return int(value)
    return str(value)


def entry_hash(entry, prev_hash: str) -> str:
    """sha256 (hex) of an entry (a mapping, or anything with the CHAINED attributes) chained to
    the hash of the entry before it: canonical JSON, keys sorted, UTF-8."""
    get = entry.get if isinstance(entry, dict) else lambda name: getattr(entry, name)
    content = {name: _canonical(name, get(name)) for name in CHAINED}
    content["prev_hash"] = prev_hash
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False,
                                     separators=(",", ":")).encode()).hexdigest()


def chain_heads(db, class_ids) -> dict[str, tuple[int, str]]:
    """Each class's newest entry: {class_id: (chain_seq, entry_hash)}, for classes with any.
    One newest-first index probe per class, whatever the chain's length: a GROUP BY max()
    reads every entry of the class, and a broadcast class's chain grows to tens of thousands."""
    log = AttendanceEntry.__table__.c
    newest = [select(log.class_id, log.chain_seq, log.entry_hash).where(log.class_id == class_id)
              .order_by(log.chain_seq.desc()).limit(1).subquery()
              for class_id in sorted(set(class_ids))]
    if not newest:
        return {}
    return {class_id: (seq, head) for class_id, seq, head in db.execute(
        union_all(*(select(probe) for probe in newest)))}


def _chain(db, rows: list[dict]) -> None:
    """Give each new row (in the order they happened) its place in its class's chain. The
    class's turn is held until the commit, so two writers of one class chain one after the
    other instead of both onto the same head."""
    classes = {row["class_id"] for row in rows}
    take_turns(db, {CHAIN_LOCK.format(class_id) for class_id in classes})
    heads = chain_heads(db, classes)
    for row in rows:
        seq, prev = heads.get(row["class_id"], (0, GENESIS))
        row.update(chain_seq=seq + 1, prev_hash=prev)
        row["entry_hash"] = entry_hash(row, prev)
        heads[row["class_id"]] = (seq + 1, row["entry_hash"])


def attendance_event(entry) -> dict:
    """attendance_recorded for an entry: what DESIGN §2 lists, and the class's chain head it
    made (`chain_head`, `chain_sequence`), so that a filed record can carry what it summarised."""
    return {**events.attendance_data(entry), "chain_head": entry.entry_hash,
            "chain_sequence": entry.chain_seq}


# -- writing the log --------------------------------------------------------------------------

def _set_current(db, rows: list[dict]) -> None:
    """Point each (enrolment, session) at its newest entry; an older writer never wins."""
    insert_rows(db, CurrentAttendance.__table__, rows, ["enrollment_id", "session_id"],
                unless_newer="position")


def append_many(db, rows: list[dict]) -> list[SimpleNamespace]:
    """Append entries (dicts of the log's columns, in the order they happened) to the log in
    one statement, chained to their classes' heads, and point attendance_current at the newest
    of each (enrolment, session) in another. Answers the entries as written, each with its
    position and its place in the chain."""
    if not rows:
        return []
    _chain(db, rows)
    positions = insert_returning(db, AttendanceEntry.__table__, rows, "position")
    entries = [SimpleNamespace(**row, position=position)
               for row, (position,) in zip(rows, positions, strict=True)]
    newest = {(e.enrollment_id, e.session_id): e for e in entries}
    _set_current(db, [{"enrollment_id": e.enrollment_id, "session_id": e.session_id,
                       "class_id": e.class_id, "member_no": e.member_no,
                       "status": e.status, "position": e.position}
                      for e in newest.values()])
    return entries


def _log_row(enrolment, training_session, status: str, source: str, correction: bool,
             now: datetime, checked_in_at: datetime | None = None,
             reason: str | None = None, by: str | None = None,
             device: str | None = None) -> dict:
    return {"enrollment_id": enrolment.enrollment_id, "session_id": training_session.session_id,
            "class_id": enrolment.class_id, "member_no": enrolment.member_no, "status": status,
            "hours_earned": domain.hours_earned(status, training_session.hours),
            "source": source, "correction": correction, "checked_in_at": checked_in_at,
            "reason": reason, "recorded_at": now, "recorded_by": by, "device": device}


def current_status(db, enrollment_id: str, session_id: str) -> str | None:
    return db.execute(select(CurrentAttendance.status).where(
        CurrentAttendance.enrollment_id == enrollment_id,
        CurrentAttendance.session_id == session_id)).scalar_one_or_none()


def flag(db, kind: str, member_no: str, now: datetime, *, org_code=None, class_id=None,
         session_id=None, **detail) -> AnomalyFlag:
    row = AnomalyFlag(flag_id=str(uuid.uuid4()), kind=kind, member_no=member_no,
                      org_code=org_code, class_id=class_id, session_id=session_id,
                      detail=detail, created_at=now)
    db.add(row)
    return row


# -- check-in and corrections -------------------------------------------------------------------

@dataclass
class Recorded:
    """What a batch of check-ins or corrections did. `refused` holds, per refused entry, its
    index in the batch, member_no, rule and reason (and the field errors, for one entry)."""

    entries: list[SimpleNamespace] = field(default_factory=list)
    unchanged: int = 0
    refused: list[dict] = field(default_factory=list)
    flags: list[AnomalyFlag] = field(default_factory=list)


def _refusal(index: int, member_no: str, status: str, allowed, enrolment) -> dict | None:
    """Why this entry may not be recorded, or None: the status, and an enrolment that took
    part (confirmed, or decided after completion)."""
    if status not in allowed:
        return {"index": index, "member_no": member_no, "rule": "status",
                "reason": f"{status!r} is not a status that can be recorded here",
                "errors": {"status": [f"one of {', '.join(allowed)}"]}}
    if enrolment is None:
        return {"index": index, "member_no": member_no, "rule": "enrolled",
                "reason": f"{member_no} is not enrolled in the session's class",
                "errors": {"member_no": ["not enrolled in this class"]}}
    if enrolment.status not in domain.ENROLLED:
        return {"index": index, "member_no": member_no, "rule": "enrolled",
                "reason": f"{member_no}'s enrolment is {enrolment.status}, not confirmed",
                "errors": {"member_no": [f"enrolment is {enrolment.status}"]}}
    return None


def record_many(db, session_id: str, entries: list[dict], emit, *, source: str,
                now: datetime | None = None, by: str | None = None,
                device: str | None = None) -> Recorded:
    """Check-ins (`present`/`leave`, source `checkin`) or corrections (any status), in order:
    `entries` are `{"member_no", "status", "at" (check-ins), "reason" (corrections)}`.

    The same rules as one at a time, in a handful of statements whatever the batch's size.
    The session must be known, not cancelled and still open for changes (until 23:59 Shanghai
    of the 7th day after it; the services' clock): otherwise the whole batch is refused. Each
    entry is then recorded, left unchanged (the person already has that status), or refused
    (status not allowed here, not enrolled, enrolment not confirmed) without stopping the
    rest. A present check-in far outside the session's time, or while present at an
    overlapping session, is flagged; a change in a completed class decides completion again.
    `by` (a person or token) and `device` are kept on each entry: who made it, from where."""
    now = now or utcnow()
    allowed = domain.CHECKIN_STATUSES if source == "checkin" else STATUSES
    training_session = session_or_404(db, session_id)
    if training_session.status == "cancelled":
        raise DomainError("the session was cancelled", rule="session_cancelled")
    starts, ends = session_times(training_session)
    if not domain.may_correct(ends, now):
        deadline = domain.correction_deadline(ends)
        raise DomainError(f"attendance for this session can no longer be changed: the "
                          f"window closed at {deadline:%Y-%m-%d %H:%M} (Asia/Shanghai)",
                          rule="correction_window")
    enrolments, current = _enrolments_with_current(db, training_session,
                                                   {e["member_no"] for e in entries})
    result = Recorded()
    rows, changes, present_at = [], [], []
    for index, entry in enumerate(entries):
        member_no, status = entry["member_no"], entry["status"]
        enrolment = enrolments.get(member_no)
        refusal = _refusal(index, member_no, status, allowed, enrolment)
        if refusal is not None:
            result.refused.append(refusal)
            continue
        before = current.get(enrolment.enrollment_id)
        if before == status:
            result.unchanged += 1
            continue
        current[enrolment.enrollment_id] = status
        at = (entry.get("at") or now).astimezone(UTC)
        rows.append(_log_row(enrolment, training_session, status, source,
                             correction=before is not None, now=now,
                             checked_in_at=at if source == "checkin" else None,
                             reason=entry.get("reason"), by=by, device=device))
        changes.append((enrolment, training_session, before, status))
        present_at.append(at if status == "present" and source == "checkin" else None)
    result.entries = append_many(db, rows)
    result.flags = _check_anomalies(db, training_session, starts, ends, changes,
                                    present_at, now)
    for entry in result.entries:
        emit("attendance_recorded", attendance_event(entry))
    _after_changes(db, changes, emit, now)
    return result


def record(db, session_id: str, member_no: str, status: str, emit, *, source: str,
           now: datetime | None = None, at: datetime | None = None,
           reason: str | None = None, by: str | None = None,
           device: str | None = None) -> tuple[SimpleNamespace | None, list[AnomalyFlag]]:
    """One check-in or correction: `record_many` with one entry, its refusal raised. Answers
    the entry written (None: the person already had that status) and its flags."""
    done = record_many(db, session_id, [
        {"member_no": member_no, "status": status, "at": at, "reason": reason}], emit,
        source=source, now=now, by=by, device=device)
    if done.refused:
        [refused] = done.refused
        if refused["rule"] == "status":
            raise InvalidInput("not a status that can be recorded here",
                               errors=refused["errors"])
        raise DomainError(refused["reason"], rule=refused["rule"], errors=refused["errors"])
    return (done.entries[0] if done.entries else None), done.flags


def _enrolments_with_current(db, training_session, member_nos) -> tuple[dict, dict]:
    """The class's enrolments of these people by member_no, and the current status for the
    session of those that have one, by enrollment_id.
    Two plain indexed reads rather than one join: right after a bulk write the planner's
    statistics are stale, and a join it then plans as a nested loop over a sequential scan
    is slow for a large batch."""
    rows = db.execute(select(Enrollment.__table__).where(
        Enrollment.class_id == training_session.class_id,
        Enrollment.member_no.in_(list(member_nos)))).all()
    current = dict(db.execute(
        select(CurrentAttendance.enrollment_id, CurrentAttendance.status).where(
            CurrentAttendance.session_id == training_session.session_id,
            CurrentAttendance.enrollment_id.in_([r.enrollment_id for r in rows]))).all()) \
        if rows else {}
    return {r.member_no: r for r in rows}, current


def _check_anomalies(db, training_session, starts, ends, changes, present_at, now):
    """Flags for the present check-ins (`present_at` holds their times, None for the other
    changes): far outside the session's time, and present at an overlapping session (one query
    for the whole batch)."""
    checked_in = [(enrolment, at) for (enrolment, *_), at in zip(changes, present_at,
                                                                  strict=True)
                  if at is not None]
    if not checked_in:
        return []
    overlapping = defaultdict(list)
    for member_no, other_session, other_class in db.execute(
            select(CurrentAttendance.member_no, TrainingSession.session_id,
                   TrainingSession.class_id)
            .join(CurrentAttendance, CurrentAttendance.session_id == TrainingSession.session_id)
            .where(CurrentAttendance.member_no.in_({e.member_no for e, _ in checked_in}),
                   CurrentAttendance.status == "present",
                   TrainingSession.session_id != training_session.session_id,
                   TrainingSession.status != "cancelled",
                   TrainingSession.starts_at < ends, TrainingSession.ends_at > starts)
            .order_by(TrainingSession.starts_at, TrainingSession.session_id)):
        overlapping[member_no].append((other_session, other_class))
    flags = []
    for enrolment, at in checked_in:
        where = {"org_code": enrolment.org_code, "class_id": enrolment.class_id,
                 "session_id": training_session.session_id}
        if domain.outside_session_time(at, starts, ends):
            flags.append(flag(db, OUTSIDE_TIME, enrolment.member_no, now, **where,
                              checked_in_at=at.isoformat(), starts_at=starts.isoformat(),
                              ends_at=ends.isoformat(), tolerance_minutes=int(
                                  domain.CHECKIN_TOLERANCE.total_seconds() // 60)))
        for other_session, other_class in overlapping[enrolment.member_no]:
            flags.append(flag(db, OVERLAPPING, enrolment.member_no, now, **where,
                              other_session_id=other_session, other_class_id=other_class))
    return flags


def _after_changes(db, changes, emit, now) -> None:
    """Changes in a class that has completed decide its enrolments' completion again."""
    class_ids = {enrolment.class_id for enrolment, *_ in changes}
    if not class_ids:
        return
    completed = {k.class_id: k for k in db.execute(select(TrainingClass).where(
        TrainingClass.class_id.in_(class_ids),
        TrainingClass.status == "completed")).scalars()}
    for class_id, klass in completed.items():
        completion.decide_again(db, klass, [c for c in changes if c[0].class_id == class_id],
                                emit, now)


# -- the live platform ----------------------------------------------------------------------------

def record_viewing(db, reports: list[dict], emit, now: datetime | None = None) -> dict:
    """Several `viewer_attended` at once. Every report is kept; a person whose reports for a
    session add up to 80% of it is `online`. A viewer of an open class's broadcast who was
    never enrolled in it is enrolled online first (origin `live`) when its audience admits
    them. Flagged, and credited to no one: a report for a session not broadcast live, one that
    arrives after the session completed, and one for someone not enrolled (nor admitted)."""
    now = now or utcnow()
    session_ids = {r["session_id"] for r in reports}
    # Batches with the same person's minutes for a session take turns: they may come in two
    # batches at once, and each must see the other's to add them up to 80%.
    take_turns(db, {f"peixun.enrollment.viewing.{r['session_id']}.{r['member_no']}"
                    for r in reports})
    sessions = {s.session_id: s for s in db.execute(select(TrainingSession).where(
        TrainingSession.session_id.in_(session_ids))).scalars()}
    missing = session_ids - set(sessions)
    if missing:
        raise RetryLater(f"session {sorted(missing)[0]} is not known yet")
    pairs = {(sessions[r["session_id"]].class_id, r["member_no"]) for r in reports}
    enrolments = {(e.class_id, e.member_no): e for e in db.execute(
        select(Enrollment.__table__).where(pairs_in(Enrollment.class_id, Enrollment.member_no,
                                                     pairs)))}
    refusals = {}
    watchable = {sid for sid, s in sessions.items()
                 if _viewing_anomaly(s) is None and s.status != "cancelled"}
    strangers = {(sessions[r["session_id"]].class_id, r["member_no"]) for r in reports
                 if r["session_id"] in watchable} - set(enrolments)
    if strangers:
        enrolled, refusals = enrol_viewers(db, strangers, emit, now)
        enrolments.update(enrolled)
    orgs = dict(db.execute(select(Member.member_no, Member.org_code).where(
        Member.member_no.in_({r["member_no"] for r in reports}))).all())

    rows, touched, sites = [], {}, {}
    for report in reports:
        training_session = sessions[report["session_id"]]
        pair = (training_session.class_id, report["member_no"])
        enrolment = enrolments.get(pair)
        anomaly = _viewing_anomaly(training_session)
        counted = anomaly is None and enrolment is not None and \
            enrolment.status in domain.ENROLLED
        rows.append({"event_id": report.get("event_id"), "session_id": report["session_id"],
                     "member_no": report["member_no"],
                     "enrollment_id": enrolment.enrollment_id if counted else None,
                     "watched_minutes": report["watched_minutes"], "site": report.get("site"),
                     "received_at": now})
        if counted:
            touched[(report["session_id"], report["member_no"])] = enrolment
            sites[(report["session_id"], report["member_no"])] = report.get("site")
            continue
        refusal = refusals.get(pair)
        flag(db, anomaly or NOT_ENROLLED, report["member_no"], now,
             org_code=enrolment.org_code if enrolment else orgs.get(report["member_no"]),
             class_id=training_session.class_id, session_id=report["session_id"],
             watched_minutes=report["watched_minutes"], site=report.get("site"),
             enrolment_status=enrolment.status if enrolment else None,
             event_id=report.get("event_id"),
             **({"rule": refusal.rule, "reason": refusal.reason} if refusal else {}))
    insert_rows(db, ViewingReport.__table__, rows)
    recorded = _online_from_reports(db, sessions, touched, sites, emit, now)
    return {"reports": len(rows), "online": recorded, "flagged": len(rows) - sum(
        1 for r in rows if r["enrollment_id"])}


def _viewing_anomaly(training_session: TrainingSession) -> str | None:
    """What is wrong with any viewing of this session: it was not broadcast live, or it is
    over (its attendance decided, the absent told; a clerk corrects within the window)."""
    if not training_session.live:
        return NOT_LIVE
    if training_session.status == "completed":
        return AFTER_COMPLETION
    return None


def _online_from_reports(db, sessions, touched: dict, sites: dict, emit, now) -> int:
    """`online` for each (session, person) whose reports now add up to 80%, in one append,
    made by the live platform from the viewing site of the person's last report."""
    if not touched:
        return 0
    totals = dict(((s, m), w) for s, m, w in db.execute(
        select(ViewingReport.session_id, ViewingReport.member_no,
               func.sum(ViewingReport.watched_minutes))
        .where(pairs_in(ViewingReport.session_id, ViewingReport.member_no, touched))
        .group_by(ViewingReport.session_id, ViewingReport.member_no)).all())
    current = {(s, e): st for e, s, st in db.execute(
        select(CurrentAttendance.enrollment_id, CurrentAttendance.session_id,
               CurrentAttendance.status)
        .where(pairs_in(CurrentAttendance.enrollment_id, CurrentAttendance.session_id,
                        [(e.enrollment_id, s) for (s, _m), e in touched.items()]))).all()}
    rows, changes = [], []
    for (session_id, member_no), enrolment in touched.items():
        training_session = sessions[session_id]
        if training_session.status == "cancelled":
            continue
        starts, ends = session_times(training_session)
        before = current.get((session_id, enrolment.enrollment_id))
        if not domain.watched_enough(totals.get((session_id, member_no), 0), starts, ends):
            continue
        if not domain.online_report_upgrades(before):
            continue
        if not domain.may_correct(ends, now):
            flag(db, LATE_REPORT, member_no, now, org_code=enrolment.org_code,
                 class_id=enrolment.class_id, session_id=session_id,
                 watched_minutes=totals[(session_id, member_no)])
            continue
        rows.append(_log_row(enrolment, training_session, "online", "live",
                             correction=before is not None, now=now, by=LIVE_PLATFORM,
                             device=sites.get((session_id, member_no))))
        changes.append((enrolment, training_session, before, "online"))
    for entry in append_many(db, rows):
        emit("attendance_recorded", attendance_event(entry))
    _after_changes(db, changes, emit, now)
    return len(rows)


# -- a completed session -------------------------------------------------------------------------

def mark_absent(db, training_session: TrainingSession, emit,
                now: datetime | None = None) -> int:
    """`absent` for every enrolled person of the class without a record for this session (by
    member number, so that the chain's order is the same whoever runs it), appended at once,
    and an attendance_recorded for each."""
    now = now or utcnow()
    e = Enrollment.__table__.c
    missing = db.execute(select(e.enrollment_id, e.class_id, e.member_no).where(
        e.class_id == training_session.class_id, e.status.in_(domain.ENROLLED),
        ~exists().where(CurrentAttendance.enrollment_id == e.enrollment_id,
                        CurrentAttendance.session_id == training_session.session_id))
        .order_by(e.member_no)).all()
    entries = append_many(db, [
        _log_row(enrolment, training_session, "absent", "completion", correction=False,
                 now=now, by=COMPLETION) for enrolment in missing])
    for entry in entries:
        emit("attendance_recorded", attendance_event(entry))
    return len(entries)


# -- reading ---------------------------------------------------------------------------------------

def session_sheet(db, session_id: str, within_path: str | None, page: int, per_page: int):
    """Everyone enrolled in the session's class with their effective status (None: no record)."""
    training_session = session_or_404(db, session_id)
    query = (select(Enrollment, Member.name, CurrentAttendance.status)
             .join(Member, Member.member_no == Enrollment.member_no, isouter=True)
             .join(CurrentAttendance, and_(
                 CurrentAttendance.enrollment_id == Enrollment.enrollment_id,
                 CurrentAttendance.session_id == session_id), isouter=True)
             .where(Enrollment.class_id == training_session.class_id,
                    Enrollment.status.in_(domain.ENROLLED)))
    if within_path is not None:
        query = query.join(Organisation, Organisation.org_code == Enrollment.org_code).where(
            Organisation.path.startswith(within_path, autoescape=True))
    total = db.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = db.execute(query.order_by(Enrollment.member_no)
                      .offset((page - 1) * per_page).limit(per_page)).all()
    counts = defaultdict(int)
    for status, n in db.execute(
            select(CurrentAttendance.status, func.count())
            .where(CurrentAttendance.session_id == session_id)
            .group_by(CurrentAttendance.status)).all():
        counts[status] = n
    return training_session, rows, total, dict(counts)


def history(db, session_id: str, member_no: str) -> list[AttendanceEntry]:
    return db.execute(select(AttendanceEntry).where(
        AttendanceEntry.session_id == session_id, AttendanceEntry.member_no == member_no)
        .order_by(AttendanceEntry.position)).scalars().all()


def list_flags(db, *, class_id=None, session_id=None, kind=None, member_no=None,
               within_path=None, page=1, per_page=50):
    query = select(AnomalyFlag)
    for column, value in ((AnomalyFlag.class_id, class_id), (AnomalyFlag.session_id, session_id),
                          (AnomalyFlag.kind, kind), (AnomalyFlag.member_no, member_no)):
        if value is not None:
            query = query.where(column == value)
    if within_path is not None:
        query = query.join(Organisation, Organisation.org_code == AnomalyFlag.org_code).where(
            Organisation.path.startswith(within_path, autoescape=True))
    total = db.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = db.execute(query.order_by(AnomalyFlag.created_at, AnomalyFlag.flag_id)
                      .offset((page - 1) * per_page).limit(per_page)).scalars().all()
    return rows, total


# -- checking the chains ---------------------------------------------------------------------------

def verify(db, class_id: str | None = None) -> dict:
    """Walk every class's chain (or one class's) in order and check each entry: its place
    (1, 2, … without a gap), its link (the hash of the entry before it) and its content (its
    sha256 recomputed). Then that each effective status points at an entry that holds it.
    Answers {"classes", "entries", "heads": {class_id: [seq, head]} (one class only),
    "broken": the first entry that does not hold (None when all do)}."""
    log = AttendanceEntry.__table__
    query = select(log).order_by(log.c.class_id, log.c.chain_seq)
    if class_id is not None:
        query = query.where(log.c.class_id == class_id)
    classes = entries = 0
    current, expected, prev, prev_position = None, 1, GENESIS, None
    heads = {}
    for entry in db.execute(query.execution_options(yield_per=5000)):
        if entry.class_id != current:
            classes += 1
            current, expected, prev, prev_position = entry.class_id, 1, GENESIS, None
        entries += 1
        what = None
        if entry.chain_seq != expected:
            what = (f"entry #{expected} of the class's chain is missing (this one is "
                    f"#{entry.chain_seq}): removed"
                    if entry.chain_seq > expected else
                    f"a second entry #{entry.chain_seq} in the class's chain")
        elif entry_hash(entry, entry.prev_hash) != entry.entry_hash:
            what = _what_changed(db, entry)
        elif entry.prev_hash != prev:
            what = (f"its link to the entry before it (id {prev_position}) does not match "
                    f"that entry's sha256: one of the two was rewritten")
        if what is not None:
            return {"classes": classes, "entries": entries, "heads": {},
                    "broken": _broken(entry, what)}
        expected, prev, prev_position = entry.chain_seq + 1, entry.entry_hash, entry.position
        heads[entry.class_id] = [entry.chain_seq, entry.entry_hash]
    broken = _current_without_entry(db, class_id)
    return {"classes": classes, "entries": entries,
            "heads": heads if class_id is not None else {}, "broken": broken}


def _broken(entry, what: str) -> dict:
    return {"class_id": entry.class_id, "entry_id": entry.position,
            "chain_seq": entry.chain_seq, "member_no": entry.member_no,
            "session_id": entry.session_id, "what": what}


def _what_changed(db, entry) -> str:
    """What of an entry that no longer matches its sha256 was changed, where a small guess
    finds it (its status, hours and correction flag as they could have been); else that its
    content was."""
    session_hours = db.execute(select(TrainingSession.hours).where(
        TrainingSession.session_id == entry.session_id)).scalar_one_or_none()
    stored = dict(entry._mapping)
    for status in STATUSES:
        hours = {stored["hours_earned"]} | (
            {domain.hours_earned(status, session_hours)} if session_hours is not None else set())
        for hours_earned in sorted(hours):
            for correction in (stored["correction"], not stored["correction"]):
                was = {**stored, "status": status, "hours_earned": hours_earned,
                       "correction": correction}
                if was != stored and entry_hash(was, entry.prev_hash) == entry.entry_hash:
                    changed = [f"{name} was {was[name]!r}, now {stored[name]!r}"
                               for name in ("status", "hours_earned", "correction")
                               if was[name] != stored[name]]
                    return "its content no longer matches its sha256: " + "; ".join(changed)
    return "its content no longer matches its sha256 (status " \
        f"{stored['status']!r}, hours {stored['hours_earned']!r} as stored now)"


def _current_without_entry(db, class_id: str | None) -> dict | None:
    """The first effective status (attendance_current) whose entry is gone or says otherwise."""
    log = AttendanceEntry.__table__.c
    query = (select(CurrentAttendance, log.status.label("logged"),
                    log.position.label("logged_at"))
             .join(AttendanceEntry, log.position == CurrentAttendance.position, isouter=True)
             .where((log.position.is_(None)) | (log.status != CurrentAttendance.status)
                    | (log.enrollment_id != CurrentAttendance.enrollment_id)
                    | (log.session_id != CurrentAttendance.session_id))
             .order_by(CurrentAttendance.class_id, CurrentAttendance.position).limit(1))
    if class_id is not None:
        query = query.where(CurrentAttendance.class_id == class_id)
    row = db.execute(query).first()
    if row is None:
        return None
    current = row.CurrentAttendance
    what = (f"the effective status {current.status!r} points at entry {current.position}, "
            "which the log no longer holds: removed" if row.logged_at is None else
            f"the effective status is {current.status!r} but its entry says {row.logged!r}")
    return {"class_id": current.class_id, "entry_id": current.position, "chain_seq": None,
            "member_no": current.member_no, "session_id": current.session_id, "what": what}
