"""Attendance (attendance.py): check-in, corrections within 7 days, an append-only log, online
from the live platform's reports adding up to 80%, `absent` for everyone left when a session
completes, and the anomaly flags."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from services.enrollment import attendance, completion, domain, enrolment
from services.enrollment.events import Emitter
from services.enrollment.models import (
    AnomalyFlag,
    AttendanceEntry,
    CurrentAttendance,
    Enrollment,
    Member,
    StudyHours,
    ViewingReport,
)
from services.kit import RetryLater
from services.kit.errors import DomainError, InvalidInput
from services.kit.sql import aware
from tests.support.databases import BACKENDS, blocked_by, fresh_session
from tests.support.waiting import wait_until
from tests.support.worlds import World, class_data, session_data

DAY = date(2026, 4, 1)
SHANGHAI = domain.SHANGHAI


@pytest.fixture
def lesson(world):
    """A class with E1, E2 and E3 confirmed and one 90-minute session (09:00–10:30 Shanghai)."""
    class_id = world.klass(category="enterprise", capacity=10, delivery="hybrid")
    world.nominate(class_id, "E1", "E2", "E3")
    row = world.session(class_id, DAY, 0, hours=1.5)
    world.forget_events()
    return class_id, row


def during(row, minutes=10):
    return row.starts_at.replace(tzinfo=UTC) + timedelta(minutes=minutes)


def check_in(world, row, member_no, status="present", at=None, now=None):
    at = at or during(row)
    return attendance.record(world.db, row.session_id, member_no, status, world.emit,
                             source="checkin", at=at, now=now or at)


def correct(world, row, member_no, status, now):
    return attendance.record(world.db, row.session_id, member_no, status, world.emit,
                             source="correction", now=now, reason="补录")


def report(row, member_no, minutes, site=None):
    return {"event_id": None, "session_id": row.session_id, "member_no": member_no,
            "watched_minutes": minutes, "site": site}


# -- check-in ------------------------------------------------------------------------------------

def test_a_checkin_records_present_with_the_session_hours(world, lesson):
    _, row = lesson
    entry, flags = check_in(world, row, "E1")
    assert (entry.status, entry.hours_earned, entry.correction, flags) == \
        ("present", 1.5, False, [])
    [event] = world.events("attendance_recorded")
    assert event["status"] == "present" and event["hours_earned"] == 1.5


def test_leave_is_recorded_and_earns_nothing(world, lesson):
    entry, _ = check_in(world, lesson[1], "E1", status="leave")
    assert (entry.status, entry.hours_earned) == ("leave", 0.0)


def test_a_checkin_may_only_be_present_or_leave(world, lesson):
    with pytest.raises(InvalidInput):
        check_in(world, lesson[1], "E1", status="online")


def test_only_enrolled_people_can_be_checked_in(world, lesson):
    with pytest.raises(DomainError, match="not enrolled"):
        check_in(world, lesson[1], "E4")


def test_checking_in_twice_records_once(world, lesson):
    check_in(world, lesson[1], "E1")
    entry, _ = check_in(world, lesson[1], "E1")
    assert entry is None and len(world.events("attendance_recorded")) == 1


# -- corrections -------------------------------------------------------------------------------

def test_a_correction_on_the_seventh_day_is_accepted(world, lesson):
    _, row = lesson
    check_in(world, row, "E1", status="leave")
    entry, _ = correct(world, row, "E1", "present",
                       datetime(2026, 4, 8, 23, 59, 59, tzinfo=SHANGHAI))
    assert (entry.status, entry.correction) == ("present", True)
    assert world.events("attendance_recorded")[-1]["correction"] is True


def test_a_correction_on_the_eighth_day_is_refused(world, lesson):
    _, row = lesson
    check_in(world, row, "E1", status="leave")
    with pytest.raises(DomainError, match="can no longer be changed") as refused:
        correct(world, row, "E1", "present", datetime(2026, 4, 9, 0, 0, tzinfo=SHANGHAI))
    assert refused.value.info["rule"] == "correction_window"


def test_a_correction_is_a_new_entry_and_the_latest_counts(world, lesson):
    _, row = lesson
    check_in(world, row, "E1")
    correct(world, row, "E1", "absent", during(row, 600))
    correct(world, row, "E1", "leave", during(row, 700))
    history = attendance.history(world.db, row.session_id, "E1")
    assert [e.status for e in history] == ["present", "absent", "leave"]
    assert attendance.current_status(world.db, history[0].enrollment_id, row.session_id) == \
        "leave"


# -- anomalies ---------------------------------------------------------------------------------

def test_a_checkin_far_outside_the_session_is_recorded_and_flagged(world, lesson):
    _, row = lesson
    ends = row.ends_at.replace(tzinfo=UTC)
    entry, flags = check_in(world, row, "E1", at=ends + timedelta(hours=2, minutes=1))
    assert entry.status == "present"
    assert [f.kind for f in flags] == [attendance.OUTSIDE_TIME]
    _, none = check_in(world, row, "E2", at=ends + timedelta(hours=2))
    assert none == []


def test_present_at_two_overlapping_sessions_is_flagged(world, lesson):
    _, row = lesson
    other_class = world.klass(category="enterprise", capacity=10)
    world.nominate(other_class, "E1")
    other = world.session(other_class, DAY, 0, hours=1.0)   # same start, shorter
    check_in(world, row, "E1")
    _, flags = check_in(world, other, "E1")
    assert [(f.kind, f.detail["other_session_id"]) for f in flags] == [
        (attendance.OVERLAPPING, row.session_id)]
    rows, total = attendance.list_flags(world.db, kind=attendance.OVERLAPPING)
    assert total == 1 and rows[0].member_no == "E1"


# -- the live platform -------------------------------------------------------------------------

def test_reports_that_add_up_to_exactly_80_percent_make_the_person_online(world, lesson):
    _, row = lesson      # 90 minutes: 72 is 80%
    attendance.record_viewing(world.db, [report(row, "E1", 40.0)], world.emit,
                              now=during(row, 120))
    assert world.events("attendance_recorded") == []
    result = attendance.record_viewing(world.db, [report(row, "E1", 32.0, site="某村远教站点")],
                                       world.emit, now=during(row, 130))
    assert result["online"] == 1
    [event] = world.events("attendance_recorded")
    assert (event["status"], event["hours_earned"]) == ("online", 1.5)


def test_reports_below_80_percent_leave_the_person_without_a_record(world, lesson):
    _, row = lesson
    attendance.record_viewing(world.db, [report(row, "E1", 71.9)], world.emit,
                              now=during(row, 120))
    assert world.events("attendance_recorded") == []


def test_several_reports_in_one_batch_add_up(world, lesson):
    _, row = lesson
    attendance.record_viewing(world.db, [report(row, "E2", 36), report(row, "E2", 36)],
                              world.emit, now=during(row, 120))
    assert [e["member_no"] for e in world.events("attendance_recorded")] == ["E2"]


def test_an_online_report_turns_absent_into_online_but_never_touches_present(world, lesson):
    _, row = lesson
    check_in(world, row, "E1")
    attendance.mark_absent(world.db, row, world.emit, now=during(row, 100))
    world.forget_events()
    attendance.record_viewing(world.db, [report(row, "E1", 90), report(row, "E2", 90)],
                              world.emit, now=during(row, 200))
    [event] = world.events("attendance_recorded")
    assert (event["member_no"], event["status"], event["correction"]) == ("E2", "online", True)


def test_a_report_for_someone_not_enrolled_is_kept_and_flagged(world, lesson):
    _, row = lesson
    result = attendance.record_viewing(world.db, [report(row, "E4", 90), report(row, "GHOST", 5)],
                                       world.emit, now=during(row, 120))
    assert result == {"reports": 2, "online": 0, "flagged": 2}
    kept = world.db.execute(select(func.count()).select_from(ViewingReport)).scalar_one()
    assert kept == 2
    flags = world.db.execute(select(AnomalyFlag)).scalars().all()
    assert {(f.kind, f.member_no) for f in flags} == {(attendance.NOT_ENROLLED, "E4"),
                                                      (attendance.NOT_ENROLLED, "GHOST")}
    assert world.events("attendance_recorded") == []


def test_a_report_after_the_correction_window_is_flagged_not_counted(world, lesson):
    _, row = lesson
    attendance.record_viewing(world.db, [report(row, "E1", 90)], world.emit,
                              now=datetime(2026, 4, 9, 0, 0, tzinfo=SHANGHAI))
    assert world.events("attendance_recorded") == []
    [flag] = world.db.execute(select(AnomalyFlag)).scalars().all()
    assert flag.kind == attendance.LATE_REPORT


def test_a_report_for_a_session_not_known_yet_waits(world, lesson):
    with pytest.raises(RetryLater):
        attendance.record_viewing(world.db, [{
            "event_id": None, "session_id": "22222222-2222-4222-8222-222222222222",
            "member_no": "E1", "watched_minutes": 10, "site": None}], world.emit)


def test_a_report_for_a_session_not_broadcast_live_is_flagged_not_counted(world, lesson):
    class_id, _ = lesson
    starts = datetime(2026, 4, 1, 6, tzinfo=UTC)
    onsite, _ = enrolment.apply_session(world.db, {**session_data(
        class_id, starts, starts + timedelta(minutes=90), 1.5), "live": False},
        "session_scheduled")
    result = attendance.record_viewing(world.db, [report(onsite, "E1", 90)], world.emit,
                                       now=during(onsite, 120))
    assert result == {"reports": 1, "online": 0, "flagged": 1}
    assert world.events("attendance_recorded") == []
    [flag] = world.db.execute(select(AnomalyFlag)).scalars().all()
    assert (flag.kind, flag.member_no, flag.detail["enrolment_status"]) == (
        attendance.NOT_LIVE, "E1", "confirmed")


def test_a_report_arriving_after_the_session_completed_is_flagged_not_counted(world, lesson):
    class_id, row = lesson
    attendance.record_viewing(world.db, [report(row, "E1", 40)], world.emit,
                              now=during(row, 95))
    enrolment.apply_session(world.db, session_data(class_id, aware(row.starts_at),
                                                   aware(row.ends_at), 1.5, sequence=1,
                                                   session_id=row.session_id),
                            "session_completed")
    attendance.mark_absent(world.db, row, world.emit, now=during(row, 100))
    world.forget_events()
    result = attendance.record_viewing(world.db, [report(row, "E1", 50), report(row, "E2", 90)],
                                       world.emit, now=during(row, 200))
    assert result == {"reports": 2, "online": 0, "flagged": 2}
    assert world.events("attendance_recorded") == []
    assert attendance.current_status(world.db, world.db.execute(select(
        Enrollment.enrollment_id).where(Enrollment.member_no == "E2",
                                         Enrollment.class_id == class_id)).scalar_one(),
        row.session_id) == "absent"
    assert {(f.kind, f.member_no) for f in world.db.execute(select(AnomalyFlag)).scalars()} \
        == {(attendance.AFTER_COMPLETION, "E1"), (attendance.AFTER_COMPLETION, "E2")}


# -- the open live broadcast --------------------------------------------------------------------

@pytest.fixture
def broadcast(world):
    """A residential secretaries' live class open online to every secretary its audience
    admits (R1 is one, V1 a village secretary, E1 no secretary), nobody nominated, and its
    90-minute session."""
    class_id = world.klass(track="secretaries", sector="residential", module="advanced",
                           capacity=0, delivery="live", online_open=True)
    row = world.session(class_id, DAY, 0, hours=1.5)
    world.forget_events()
    return class_id, row


def test_a_secretary_watching_an_open_broadcast_is_enrolled_online_and_counted(world,
                                                                             broadcast):
    class_id, row = broadcast
    result = attendance.record_viewing(world.db, [report(row, "R1", 40), report(row, "R1", 35)],
                                       world.emit, now=during(row, 120))
    assert result == {"reports": 2, "online": 1, "flagged": 0}
    [enrolled] = world.events("enrollment_confirmed")
    assert {k: enrolled[k] for k in ("member_no", "mode", "status", "origin", "org_code",
                                     "committee_code", "sector")} == {
        "member_no": "R1", "mode": "online", "status": "confirmed", "origin": "live",
        "org_code": "FX0102", "committee_code": "FX01", "sector": "residential"}
    [recorded] = world.events("attendance_recorded")
    assert (recorded["enrollment_id"], recorded["status"], recorded["hours_earned"]) == (
        enrolled["enrollment_id"], "online", 1.5)
    assert [(t, d["member_no"]) for t, d in world.emit.events] == [
        ("enrollment_confirmed", "R1"), ("attendance_recorded", "R1")]
    # From then on the enrolment counts like any other: the next report adds to it.
    attendance.record_viewing(world.db, [report(row, "R1", 10)], world.emit,
                              now=during(row, 130))
    assert len(world.events("enrollment_confirmed")) == 1
    assert world.db.execute(select(func.count()).select_from(Enrollment).where(
        Enrollment.class_id == class_id)).scalar_one() == 1


def test_a_viewer_the_audience_does_not_admit_is_flagged_and_not_enrolled(world, broadcast):
    class_id, row = broadcast
    result = attendance.record_viewing(world.db, [report(row, "V1", 90), report(row, "E1", 90),
                                                  report(row, "GHOST", 90)],
                                       world.emit, now=during(row, 120))
    assert result == {"reports": 3, "online": 0, "flagged": 3}
    assert world.events("enrollment_confirmed") == world.events("attendance_recorded") == []
    flags = {f.member_no: f for f in world.db.execute(select(AnomalyFlag)).scalars()}
    assert {no: (f.kind, f.detail["rule"]) for no, f in flags.items()} == {
        "V1": (attendance.NOT_ENROLLED, "eligibility"),
        "E1": (attendance.NOT_ENROLLED, "eligibility"),
        "GHOST": (attendance.NOT_ENROLLED, "member")}
    assert "not a sitting secretary" in flags["E1"].detail["reason"]


def test_a_class_not_opened_online_still_needs_a_nomination(world):
    class_id = world.klass(category="enterprise", capacity=0, delivery="live")
    row = world.session(class_id, DAY, 0, hours=1.5)
    attendance.record_viewing(world.db, [report(row, "E1", 90)], world.emit,
                              now=during(row, 120))
    assert world.events("enrollment_confirmed") == []
    [flag] = world.db.execute(select(AnomalyFlag)).scalars().all()
    assert (flag.kind, flag.detail["rule"]) == (attendance.NOT_ENROLLED, "online_open")
    opened = world.klass(category="enterprise", capacity=0, delivery="live", online_open=True)
    row = world.session(opened, DAY, 1, hours=1.5)
    attendance.record_viewing(world.db, [report(row, "E1", 90)], world.emit,
                              now=during(row, 120))
    assert [e["origin"] for e in world.events("enrollment_confirmed")] == ["live"]


def test_a_withdrawn_secretary_watching_is_flagged_not_enrolled_again(world, broadcast):
    class_id, row = broadcast
    [nominated] = world.nominate(class_id, "R1")["enrolled"]
    enrolment.withdraw(world.db, nominated.enrollment_id, world.emit)
    world.forget_events()
    attendance.record_viewing(world.db, [report(row, "R1", 90)], world.emit,
                              now=during(row, 120))
    assert world.events("enrollment_confirmed") == []
    [flag] = world.db.execute(select(AnomalyFlag)).scalars().all()
    assert (flag.kind, flag.detail["enrolment_status"]) == (attendance.NOT_ENROLLED,
                                                            "withdrawn")


def test_a_live_enrolment_is_marked_absent_completed_and_credited_like_any(world, broadcast):
    class_id, first = broadcast                  # 1.5 hours
    second = world.session(class_id, DAY, 1, hours=2.0)
    third = world.session(class_id, DAY, 2, hours=0.5)
    attendance.record_viewing(world.db, [report(first, "R1", 90)], world.emit,
                              now=during(first, 120))
    attendance.record_viewing(world.db, [report(second, "R1", 120)], world.emit,
                              now=during(second, 130))
    for held in (first, second, third):
        enrolment.apply_session(world.db, session_data(
            class_id, aware(held.starts_at), aware(held.ends_at), held.hours, sequence=1,
            session_id=held.session_id), "session_completed")
    world.forget_events()
    assert attendance.mark_absent(world.db, third, world.emit, now=during(third, 100)) == 1
    decided = completion.class_completed(world.db, class_data(
        class_id, track="secretaries", sector="residential", module="advanced", capacity=0,
        delivery="live", online_open=True, sessions_completed=3, class_hours=4.0),
        world.emit, now=during(third, 200))
    assert (decided["decided"], decided["completed"]) == (1, 1)   # 3.5 of 4 hours
    [outcome] = world.events("completion_recorded")
    assert (outcome["member_no"], outcome["status"], outcome["attended_hours"]) == (
        "R1", "completed", 3.5)
    assert completion.ledger(world.db, "R1")["years"] == [{"year": 2026, "hours": 3.5}]


# -- times ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_a_check_in_reads_back_as_the_instant_it_was_posted(backend, tmp_path, request):
    from services.enrollment import views

    with fresh_session(backend, "enrollment", tmp_path, request) as db:
        world = World(db).build()
        class_id = world.klass(category="enterprise", capacity=10)
        world.nominate(class_id, "E1")
        starts = datetime(2026, 4, 1, 15, tzinfo=SHANGHAI)   # offsets as a client sends them
        row, _ = enrolment.apply_session(world.db, session_data(
            class_id, starts, starts + timedelta(minutes=90), 1.5), "session_scheduled")
        at = datetime(2026, 4, 1, 15, 5, tzinfo=SHANGHAI)
        entry, _flags = attendance.record(world.db, row.session_id, "E1", "present",
                                          world.emit, source="checkin", at=at, now=at)
        answered = views.entry_view(entry)["checked_in_at"]
        world.db.commit()
        world.db.expire_all()
        [stored] = attendance.history(world.db, row.session_id, "E1")
        assert stored.checked_in_at == at
        assert views.entry_view(stored)["checked_in_at"] == answered == \
            "2026-04-01T07:05:00+00:00"
        assert views.session_view(enrolment.session_or_404(world.db, row.session_id))[
            "starts_at"] == "2026-04-01T07:00:00+00:00"


# -- a completed session -----------------------------------------------------------------------

def test_a_completed_session_marks_everyone_without_a_record_absent(world, lesson):
    class_id, row = lesson
    check_in(world, row, "E1")
    check_in(world, row, "E2", status="leave")
    world.forget_events()
    assert attendance.mark_absent(world.db, row, world.emit, now=during(row, 100)) == 1
    [event] = world.events("attendance_recorded")
    assert (event["member_no"], event["status"], event["hours_earned"], event["correction"]) \
        == ("E3", "absent", 0.0, False)
    assert attendance.mark_absent(world.db, row, world.emit, now=during(row, 101)) == 0


def test_absent_is_written_for_a_large_class_at_once(world):
    class_id = world.klass(category="enterprise", capacity=0, delivery="live")
    world.db.add_all([Member(member_no=f"B{i}", name="x", org_code="FX0102",
                             joined_on=date(2000, 1, 1), employment="enterprise", active=True,
                             source_at=datetime(2026, 1, 1, tzinfo=UTC)) for i in range(1200)])
    world.db.add_all([Enrollment(enrollment_id=f"e{i}", class_id=class_id, member_no=f"B{i}",
                                 org_code="FX0102", mode="online", status="confirmed",
                                 queue_no=i, created_at=datetime(2026, 1, 1, tzinfo=UTC),
                                 updated_at=datetime(2026, 1, 1, tzinfo=UTC))
                      for i in range(1200)])
    world.db.flush()
    row = world.session(class_id, DAY, 0)
    assert attendance.mark_absent(world.db, row, world.emit) == 1200
    assert len(world.events("attendance_recorded")) == 1200
    assert world.db.execute(select(func.count()).select_from(AttendanceEntry)).scalar_one() \
        == 1200


def test_waitlisted_and_withdrawn_people_are_not_marked_absent(world):
    class_id = world.klass(category="enterprise", capacity=1)
    result = world.nominate(class_id, "E1", "E2", "E3")     # E2 and E3 waitlisted
    enrolment.withdraw(world.db, result["enrolled"][2].enrollment_id, world.emit)
    row = world.session(class_id, DAY, 0)
    world.forget_events()
    attendance.mark_absent(world.db, row, world.emit)
    assert [e["member_no"] for e in world.events("attendance_recorded")] == ["E1"]


# -- batches of check-ins ------------------------------------------------------------------------

CLASS_A = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
CLASS_B = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
CLASS_C = "cccccccc-cccc-4ccc-8ccc-cccccccccccc"


def pupils(world, class_id, *member_nos, capacity=10, delivery="hybrid"):
    """A published enterprise class with a fixed id, and these people nominated."""
    enrolment.class_published(world.db, class_data(
        class_id, category="enterprise", capacity=capacity, delivery=delivery), world.emit)
    world.nominate(class_id, *member_nos)


def one_by_one(world, session_id, entries, source="checkin", now=None):
    """The entries through `attendance.record`, each alone: refusals as (member_no, rule)."""
    refused = []
    for entry in entries:
        try:
            attendance.record(world.db, session_id, entry["member_no"], entry["status"],
                              world.emit, source=source, at=entry.get("at"), now=now,
                              reason=entry.get("reason"))
        except DomainError as exc:
            refused.append((entry["member_no"], exc.info.get("rule", "status")))
    return refused


def snapshot(world) -> dict:
    """Everything a batch may change, with generated ids and positions left out."""
    db = world.db
    db.flush()
    who = {e.enrollment_id: (e.class_id, e.member_no)
           for e in db.execute(select(Enrollment)).scalars()}

    def plain(data):
        data = dict(data)
        data["enrollment_id"] = who[data["enrollment_id"]]
        data.pop("chain_head", None)    # a hash over the generated enrolment id
        return data

    log = db.execute(select(AttendanceEntry).order_by(AttendanceEntry.position)).scalars()
    current = db.execute(select(CurrentAttendance)).scalars().all()
    newest = {}
    for e in db.execute(select(AttendanceEntry).order_by(AttendanceEntry.position)).scalars():
        newest[(e.enrollment_id, e.session_id)] = e.position
    flags = db.execute(select(AnomalyFlag)).scalars()
    return {
        "log": [(who[e.enrollment_id], e.session_id, e.status, e.hours_earned, e.source,
                 e.correction, aware(e.checked_in_at), e.reason, aware(e.recorded_at))
                for e in log],
        "current": sorted((who[c.enrollment_id], c.session_id, c.status,
                           c.position == newest[(c.enrollment_id, c.session_id)])
                          for c in current),
        "flags": sorted((f.kind, f.member_no, f.org_code, f.class_id, f.session_id,
                         sorted(f.detail.items())) for f in flags),
        "events": {kind: [plain(d) for k, d in world.emit.events if k == kind]
                   for kind in ("attendance_recorded", "completion_recorded")},
        "enrolments": sorted((c, m, s) for c, m, s in db.execute(
            select(Enrollment.class_id, Enrollment.member_no, Enrollment.status))),
        "hours": sorted((h.member_no, h.class_id, h.hours, aware(h.credited_at))
                        for h in db.execute(select(StudyHours)).scalars()),
    }


def check_in_scenario(db):
    """Class A (E1, E2, E3 confirmed, R1 waitlisted; E4 not enrolled) with one session; E1 is
    already present at an overlapping session of class B, E3 already present at A's."""
    world = World(db).build()
    pupils(world, CLASS_A, "E1", "E2", "E3", "R1", capacity=3, delivery="offline")
    pupils(world, CLASS_B, "E1")
    row = world.session(CLASS_A, DAY, 0, hours=1.5)
    other = world.session(CLASS_B, DAY, 0, hours=1.0)
    check_in(world, other, "E1")
    check_in(world, row, "E3")
    world.forget_events()
    late = row.ends_at.replace(tzinfo=UTC) + timedelta(hours=3)
    entries = [
        {"member_no": "E1", "status": "present", "at": during(row)},        # overlapping
        {"member_no": "E2", "status": "present", "at": late},               # far outside
        {"member_no": "E3", "status": "present", "at": during(row)},        # no change
        {"member_no": "E4", "status": "present", "at": during(row)},        # not enrolled
        {"member_no": "R1", "status": "present", "at": during(row)},        # waitlisted
        {"member_no": "E2", "status": "leave", "at": during(row, 20)},      # a correction
        {"member_no": "E1", "status": "present", "at": during(row, 30)},    # no change
        {"member_no": "GHOST", "status": "leave", "at": None},              # not enrolled
        {"member_no": "E2", "status": "present", "at": during(row, 40)},    # back again
        {"member_no": "E3", "status": "online", "at": None},                # not a check-in
    ]
    return world, row, entries, during(row, 50)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_batch_records_what_the_same_check_ins_one_by_one_record(backend, tmp_path, request):
    with fresh_session(backend, "enrollment", tmp_path / "single", request) as db:
        world, row, entries, now = check_in_scenario(db)
        refused_singly = one_by_one(world, row.session_id, entries, now=now)
        singly = snapshot(world)
    with fresh_session(backend, "enrollment", tmp_path / "batch", request) as db:
        world, row, entries, now = check_in_scenario(db)
        done = attendance.record_many(world.db, row.session_id, entries, world.emit,
                                      source="checkin", now=now)
        batch = snapshot(world)
    assert batch == singly
    assert [(r["member_no"], r["rule"]) for r in done.refused] == refused_singly == [
        ("E4", "enrolled"), ("R1", "enrolled"), ("GHOST", "enrolled"), ("E3", "status")]
    assert [r["index"] for r in done.refused] == [3, 4, 7, 9]
    assert (len(done.entries), done.unchanged) == (4, 2)
    assert [(e.member_no, e.status, e.correction) for e in done.entries] == [
        ("E1", "present", False), ("E2", "present", False), ("E2", "leave", True),
        ("E2", "present", True)]
    assert sorted((f.kind, f.member_no) for f in done.flags) == [
        (attendance.OUTSIDE_TIME, "E2"), (attendance.OVERLAPPING, "E1")]
    assert [(log[0][1], log[2]) for log in batch["log"][-4:]] == [
        ("E1", "present"), ("E2", "present"), ("E2", "leave"), ("E2", "present")]


def completed_scenario(db):
    """Class C (two sessions of 2 hours) completed: E1 present at the first only (50%),
    E2 at neither; both incomplete. Corrections come in for the second session."""
    world = World(db).build()
    pupils(world, CLASS_C, "E1", "E2")
    rows = [world.session(CLASS_C, DAY, i, hours=2.0) for i in range(2)]
    check_in(world, rows[0], "E1")
    for row in rows:
        enrolment.apply_session(world.db, session_data(
            CLASS_C, row.starts_at.replace(tzinfo=UTC), row.ends_at.replace(tzinfo=UTC),
            row.hours, session_id=row.session_id), "session_completed")
        attendance.mark_absent(world.db, row, world.emit, now=row.ends_at.replace(tzinfo=UTC))
    completion.class_completed(world.db, class_data(CLASS_C, category="enterprise",
                                                    capacity=10, delivery="hybrid"), world.emit)
    world.forget_events()
    entries = [{"member_no": m, "status": s, "reason": "签到表补录"} for m, s in [
        ("E1", "present"),     # 4 of 4 hours: completed
        ("E2", "present"),     # 2 of 4: still incomplete, nothing to tell
        ("E1", "leave"),       # back to incomplete
        ("E2", "absent"),
        ("E1", "online"),      # completed again
    ]]
    return world, rows[1], entries, rows[1].ends_at.replace(tzinfo=UTC) + timedelta(days=1)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_batch_after_completion_decides_again_as_one_by_one_would(backend, tmp_path,
                                                                    request):
    with fresh_session(backend, "enrollment", tmp_path / "single", request) as db:
        world, row, entries, now = completed_scenario(db)
        one_by_one(world, row.session_id, entries, source="correction", now=now)
        singly = snapshot(world)
    with fresh_session(backend, "enrollment", tmp_path / "batch", request) as db:
        world, row, entries, now = completed_scenario(db)
        attendance.record_many(world.db, row.session_id, entries, world.emit,
                               source="correction", now=now)
        batch = snapshot(world)
    assert batch == singly
    assert [(d["member_no"], d["status"], d["attended_hours"])
            for d in batch["events"]["completion_recorded"]] == [
        ("E1", "completed", 4.0), ("E1", "incomplete", 2.0), ("E1", "completed", 4.0)]
    assert ("E1", CLASS_C, 4.0, now) in [(m, c, h, t) for m, c, h, t in batch["hours"]]


def test_a_refused_entry_does_not_stop_the_rest(world, lesson):
    _, row = lesson
    done = attendance.record_many(world.db, row.session_id, [
        {"member_no": "E4", "status": "present", "at": during(row)},
        {"member_no": "E1", "status": "present", "at": during(row)}], world.emit,
        source="checkin", now=during(row))
    assert [(r["index"], r["member_no"], r["rule"]) for r in done.refused] == [
        (0, "E4", "enrolled")]
    assert [e["member_no"] for e in world.events("attendance_recorded")] == ["E1"]


def test_a_batch_for_a_cancelled_session_is_refused_whole(world, lesson):
    class_id, row = lesson
    enrolment.apply_session(world.db, session_data(
        class_id, row.starts_at.replace(tzinfo=UTC), row.ends_at.replace(tzinfo=UTC),
        row.hours, sequence=1, session_id=row.session_id), "session_cancelled")
    with pytest.raises(DomainError) as refused:
        attendance.record_many(world.db, row.session_id, [
            {"member_no": "E1", "status": "present", "at": None}], world.emit,
            source="checkin", now=during(row))
    assert refused.value.info["rule"] == "session_cancelled"


def test_a_batch_after_the_window_is_refused_whole(world, lesson):
    _, row = lesson
    with pytest.raises(DomainError) as refused:
        attendance.record_many(world.db, row.session_id, [
            {"member_no": "E1", "status": "present", "at": None}], world.emit,
            source="checkin", now=datetime(2026, 4, 9, 0, 0, tzinfo=SHANGHAI))
    assert refused.value.info["rule"] == "correction_window"


def crowd(world, people=400):
    """A live class of `people` confirmed online (B0, B1, …) with one session."""
    class_id = world.klass(category="enterprise", capacity=0, delivery="live")
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    world.db.add_all([Member(member_no=f"B{i}", name="x", org_code="FX0102",
                             joined_on=date(2000, 1, 1), employment="enterprise", active=True,
                             source_at=moment) for i in range(people)])
    world.db.add_all([Enrollment(enrollment_id=f"e{i}", class_id=class_id, member_no=f"B{i}",
                                 org_code="FX0102", mode="online", status="confirmed",
                                 queue_no=i, created_at=moment, updated_at=moment)
                      for i in range(people)])
    row = world.session(class_id, DAY, 0)
    world.db.flush()
    return row


def statements_for(world, batches, run) -> list[int]:
    """How many statements `run(batch)` sent to the database, for each batch."""
    statements = []
    listen = lambda *args: statements.append(args[2])   # noqa: E731
    event.listen(world.db.get_bind(), "before_cursor_execute", listen)
    counts = []
    try:
        for batch in batches:
            statements.clear()
            run(batch)
            world.db.flush()
            counts.append(len(statements))
    finally:
        event.remove(world.db.get_bind(), "before_cursor_execute", listen)
    return counts


def test_a_batch_takes_the_same_number_of_statements_whatever_its_size(world):
    row = crowd(world)

    def check_in_all(people):
        done = attendance.record_many(world.db, row.session_id, [
            {"member_no": f"B{i}", "status": "present", "at": during(row)} for i in people],
            world.emit, source="checkin", now=during(row))
        assert len(done.entries) == len(people)

    counts = statements_for(world, [range(0, 10), range(10, 400)], check_in_all)
    assert counts[0] == counts[1] <= 7     # 7: the class's chain head is one read


def test_online_viewers_are_recorded_in_the_same_number_of_statements_whatever_their_number(
        world):
    row = crowd(world)

    def watched(people):
        result = attendance.record_viewing(world.db, [report(row, f"B{i}", 120) for i in people],
                                           world.emit, now=during(row, 120))
        assert result["online"] == len(people)

    counts = statements_for(world, [range(0, 10), range(10, 400)], watched)
    assert counts[0] == counts[1] <= 10    # 10: the class's chain head is one read


@pytest.mark.postgres
def test_two_batches_of_one_persons_minutes_at_once_still_add_up(tmp_path, request):
    """PostgreSQL, two workers: a person's 40 and 32 minutes of a 90-minute session arrive in
    two batches handled at the same time. The second waits for the first to commit, so it sees
    its minutes: 72 is 80%, online. Without taking turns each saw only its own."""
    with fresh_session("postgresql", "enrollment", tmp_path, request) as db:
        world = World(db).build()
        class_id = world.klass(category="enterprise", capacity=10, delivery="hybrid")
        [enrolled] = world.nominate(class_id, "E1")["enrolled"]
        row = world.session(class_id, DAY, 0, hours=1.5)
        db.commit()
        attendance.record_viewing(db, [report(row, "E1", 40.0)], world.emit,
                                  now=during(row, 120))     # first worker, not committed yet
        second = {}

        def second_worker():
            with Session(db.get_bind()) as other:
                second["result"] = attendance.record_viewing(
                    other, [report(row, "E1", 32.0)], Emitter(), now=during(row, 121))
                other.commit()

        first = db.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
        thread = threading.Thread(target=second_worker)
        thread.start()
        wait_until(lambda: blocked_by(db.get_bind(), first),
                   message="the second worker to wait for the first's commit")
        db.commit()
        thread.join(timeout=10)
        assert second["result"]["online"] == 1
        assert attendance.current_status(db, enrolled.enrollment_id,
                                         row.session_id) == "online"


# -- the chain: a tamper-evident log -------------------------------------------------------------

def chain_of(db, class_id) -> list:
    return db.execute(select(AttendanceEntry).where(AttendanceEntry.class_id == class_id)
                      .order_by(AttendanceEntry.chain_seq)).scalars().all()


def a_day_of_attendance(world, lesson):
    """E1 present (by a clerk at the door), E2 on leave then corrected to present, E3 absent
    when the session completed: four entries in the class's chain."""
    _, row = lesson
    attendance.record(world.db, row.session_id, "E1", "present", world.emit, source="checkin",
                      at=during(row), now=during(row), by="clerk1", device="check-in page")
    check_in(world, row, "E2", status="leave")
    correct(world, row, "E2", "present", now=during(row, 30))
    attendance.mark_absent(world.db, row, world.emit, now=during(row, 100))
    world.db.flush()


def test_each_entry_is_chained_to_the_one_before_it_in_its_class(world, lesson):
    class_id, row = lesson
    other = world.klass(category="enterprise", capacity=10)
    world.nominate(other, "E1")
    elsewhere = world.session(other, DAY, 1, hours=2.0)
    a_day_of_attendance(world, lesson)
    check_in(world, elsewhere, "E1", at=during(elsewhere))
    chain = chain_of(world.db, class_id)
    assert [(e.chain_seq, e.member_no, e.status) for e in chain] == [
        (1, "E1", "present"), (2, "E2", "leave"), (3, "E2", "present"), (4, "E3", "absent")]
    assert [e.prev_hash for e in chain] == [attendance.GENESIS] + \
        [e.entry_hash for e in chain[:-1]]
    assert all(e.entry_hash == attendance.entry_hash(e, e.prev_hash) for e in chain)
    # Another class's chain starts afresh.
    [first] = chain_of(world.db, other)
    assert (first.chain_seq, first.prev_hash) == (1, attendance.GENESIS)
    # Each event carries the head it made: reporting keeps the newest per class.
    heads = [(d["chain_sequence"], d["chain_head"]) for d in world.events("attendance_recorded")
             if d["class_id"] == class_id]
    assert heads == [(e.chain_seq, e.entry_hash) for e in chain]


def test_one_batch_over_two_classes_continues_each_classs_chain(world, lesson):
    """The batch reads each class's own head: two classes, each with an entry, then one batch
    of viewings of both."""
    first_class, first = lesson
    second_class = world.klass(category="enterprise", capacity=10)
    world.nominate(second_class, "E1", "E2")
    second = world.session(second_class, DAY, 1, hours=1.5)
    for row in (first, second):
        attendance.record_viewing(world.db, [report(row, "E1", 80)], world.emit,
                                  now=during(row, 120))
    attendance.record_viewing(world.db, [report(first, "E2", 80), report(second, "E2", 80)],
                              world.emit, now=during(second, 120))
    for class_id in (first_class, second_class):
        chain = chain_of(world.db, class_id)
        assert [(e.chain_seq, e.member_no) for e in chain] == [(1, "E1"), (2, "E2")]
        assert chain[1].prev_hash == chain[0].entry_hash
    assert attendance.verify(world.db)["broken"] is None


def test_the_hash_covers_every_field_of_the_entry(world, lesson):
    a_day_of_attendance(world, lesson)
    entry = chain_of(world.db, lesson[0])[0]
    stored = {name: getattr(entry, name) for name in attendance.CHAINED}
    for name, other in [("status", "absent"), ("hours_earned", 1.25), ("member_no", "E9"),
                        ("recorded_by", "someone"), ("device", None), ("correction", True),
                        ("recorded_at", entry.recorded_at + timedelta(microseconds=1)),
                        ("chain_seq", 2)]:
        assert attendance.entry_hash({**stored, name: other}, entry.prev_hash) != \
            entry.entry_hash, name
    assert attendance.entry_hash(stored, "f" * 64) != entry.entry_hash


def test_an_entry_keeps_who_made_it_and_from_where(world, lesson, broadcast):
    a_day_of_attendance(world, lesson)
    made = [(e.member_no, e.source, e.recorded_by, e.device)
            for e in chain_of(world.db, lesson[0])]
    assert made == [("E1", "checkin", "clerk1", "check-in page"),
                    ("E2", "checkin", None, None), ("E2", "correction", None, None),
                    ("E3", "completion", attendance.COMPLETION, None)]
    _, live = broadcast
    attendance.record_viewing(world.db, [report(live, "R1", 80, site="南桥镇远程教育站点")],
                              world.emit, now=during(live, 120))
    [viewed] = chain_of(world.db, broadcast[0])
    assert (viewed.recorded_by, viewed.device) == (attendance.LIVE_PLATFORM, "南桥镇远程教育站点")


def test_an_untouched_log_verifies(world, lesson):
    a_day_of_attendance(world, lesson)
    assert attendance.verify(world.db) == {"classes": 1, "entries": 4, "heads": {},
                                           "broken": None}
    last = chain_of(world.db, lesson[0])[-1]
    assert attendance.verify(world.db, lesson[0])["heads"] == {
        lesson[0]: [4, last.entry_hash]}


def behind_the_services_back(db, sql: str, **params) -> None:
    """A change to the log as its owner could make it, the guarding trigger(s) off."""
    connection = db.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("ALTER TABLE attendance DISABLE TRIGGER "
                                   "attendance_is_append_only")
        connection.execute(text(sql), params)
        connection.exec_driver_sql("ALTER TABLE attendance ENABLE TRIGGER "
                                   "attendance_is_append_only")
        return
    triggers = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
        "AND tbl_name = 'attendance'").all()
    for name, _ in triggers:
        connection.exec_driver_sql(f"DROP TRIGGER {name}")
    connection.execute(text(sql), params)
    for _, create in triggers:
        connection.exec_driver_sql(create)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_entry_changed_behind_the_services_back_is_named(backend, tmp_path, request):
    with fresh_session(backend, "enrollment", tmp_path, request) as db:
        world = World(db).build()
        class_id = world.klass(category="enterprise", capacity=10)
        world.nominate(class_id, "E1", "E2", "E3")
        row = world.session(class_id, DAY, 0, hours=1.5)
        a_day_of_attendance(world, (class_id, row))
        absent = chain_of(db, class_id)[3]
        behind_the_services_back(db, "UPDATE attendance SET status = 'present', "
                                     "hours_earned = 1.5 WHERE position = :p", p=absent.position)
        broken = attendance.verify(db)["broken"]
    assert broken == {
        "class_id": class_id, "entry_id": absent.position, "chain_seq": 4, "member_no": "E3",
        "session_id": row.session_id,
        "what": "its content no longer matches its sha256: status was 'absent', now "
                "'present'; hours_earned was 0.0, now 1.5"}


def test_a_removed_entry_is_named(world, lesson):
    a_day_of_attendance(world, lesson)
    second = chain_of(world.db, lesson[0])[1]
    behind_the_services_back(world.db, "DELETE FROM attendance WHERE position = :p",
                             p=second.position)
    broken = attendance.verify(world.db)["broken"]
    assert (broken["chain_seq"], broken["member_no"]) == (3, "E2")
    assert broken["what"].startswith("entry #2 of the class's chain is missing")


def test_an_entry_rewritten_with_a_fresh_hash_breaks_the_link_after_it(world, lesson):
    a_day_of_attendance(world, lesson)
    leave, corrected = chain_of(world.db, lesson[0])[1:3]
    forged = {name: getattr(leave, name) for name in attendance.CHAINED}
    forged.update(status="present", hours_earned=1.5)
    behind_the_services_back(world.db, "UPDATE attendance SET status = 'present', "
                             "hours_earned = 1.5, entry_hash = :h WHERE position = :p",
                             h=attendance.entry_hash(forged, leave.prev_hash), p=leave.position)
    broken = attendance.verify(world.db)["broken"]
    assert (broken["entry_id"], broken["chain_seq"]) == (corrected.position, 3)
    assert f"the entry before it (id {leave.position})" in broken["what"]


def test_a_removed_last_entry_shows_in_the_effective_status(world, lesson):
    a_day_of_attendance(world, lesson)
    last = chain_of(world.db, lesson[0])[-1]
    behind_the_services_back(world.db, "DELETE FROM attendance WHERE position = :p",
                             p=last.position)
    broken = attendance.verify(world.db)["broken"]
    assert (broken["entry_id"], broken["member_no"]) == (last.position, "E3")
    assert "which the log no longer holds" in broken["what"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_log_refuses_update_and_delete(backend, tmp_path, request):
    with fresh_session(backend, "enrollment", tmp_path, request) as db:
        world = World(db).build()
        class_id = world.klass(category="enterprise", capacity=10)
        world.nominate(class_id, "E1", "E2", "E3")
        row = world.session(class_id, DAY, 0, hours=1.5)
        a_day_of_attendance(world, (class_id, row))
        db.commit()
        for sql in ("UPDATE attendance SET status = 'present' WHERE member_no = 'E3'",
                    "DELETE FROM attendance WHERE member_no = 'E3'"):
            with pytest.raises(DBAPIError, match="append-only"):
                db.execute(text(sql))
            db.rollback()
        assert [e.status for e in chain_of(db, class_id)] == \
            ["present", "leave", "present", "absent"]


@pytest.mark.postgres
def test_two_writers_of_one_class_chain_one_after_the_other(tmp_path, request):
    """PostgreSQL, two workers checking people into one class at once: the second waits for
    the first's commit and chains onto its entry. Without taking turns both read the same head
    and the second is refused by the unique place in the chain (or, without it, forks it)."""
    with fresh_session("postgresql", "enrollment", tmp_path, request) as db:
        world = World(db).build()
        class_id = world.klass(category="enterprise", capacity=10)
        world.nominate(class_id, "E1", "E2")
        row = world.session(class_id, DAY, 0, hours=1.5)
        db.commit()
        check_in(world, row, "E1")                       # first worker, not committed yet
        second = {}

        def second_worker():
            with Session(db.get_bind()) as other:
                second["entry"], _ = attendance.record(
                    other, row.session_id, "E2", "present", Emitter(), source="checkin",
                    at=during(row), now=during(row))
                other.commit()

        first = db.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
        thread = threading.Thread(target=second_worker)
        thread.start()
        wait_until(lambda: blocked_by(db.get_bind(), first),
                   message="the second writer to wait for the first's commit")
        db.commit()
        thread.join(timeout=10)
        chain = chain_of(db, class_id)
        assert [(e.chain_seq, e.member_no) for e in chain] == [(1, "E1"), (2, "E2")]
        assert chain[1].prev_hash == chain[0].entry_hash
        assert attendance.verify(db, class_id)["broken"] is None


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_migration_chains_the_entries_already_there_in_their_order(backend, tmp_path,
                                                                       request):
    from alembic import command

    from services.kit import migrate

    def log_row(n, class_id, member_no, status):
        return {"p": n, "e": f"e-{member_no}", "s": f"s-{class_id}", "c": class_id,
                "m": member_no, "st": status, "h": 1.5 if status == "present" else 0.0,
                "at": datetime(2026, 4, 1, 1, n, tzinfo=UTC)}

    with fresh_session(backend, "enrollment", tmp_path, request) as db:
        engine = db.get_bind()
        db.close()
        with engine.begin() as connection:
            command.downgrade(migrate.alembic_config("enrollment", connection),
                              "enrollment_0007")
            for n, class_id, member_no, status in [(1, "K2", "A", "present"),
                                                   (2, "K1", "B", "leave"),
                                                   (3, "K2", "C", "absent"),
                                                   (4, "K1", "B", "present")]:
                connection.execute(text(
                    "INSERT INTO attendance (position, enrollment_id, session_id, class_id, "
                    "member_no, status, hours_earned, source, correction, recorded_at) VALUES "
                    "(:p, :e, :s, :c, :m, :st, :h, 'checkin', false, :at)"),
                    log_row(n, class_id, member_no, status))
        migrate.upgrade(engine, "enrollment")
        with Session(engine) as fresh:
            chains = {k: [(e.position, e.chain_seq) for e in chain_of(fresh, k)]
                      for k in ("K1", "K2")}
            verdict = attendance.verify(fresh)
    assert chains == {"K1": [(2, 1), (4, 2)], "K2": [(1, 1), (3, 2)]}
    assert verdict == {"classes": 2, "entries": 4, "heads": {}, "broken": None}
