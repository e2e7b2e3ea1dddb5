"""Attendance (attendance.py): check-in, corrections within 7 days, an append-only log, online
from the live platform's reports adding up to 80%, `absent` for everyone left when a session
completes, and the anomaly flags."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from services.enrollment import attendance, domain, enrolment
from services.enrollment.models import AnomalyFlag, AttendanceEntry, ViewingReport
from services.kit import RetryLater
from services.kit.errors import DomainError, InvalidInput
from tests.unit.test_enrollment_world import World, database


@pytest.fixture
def world(tmp_path):
    with database(tmp_path) as db:
        yield World(db).build()


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


def test_absent_is_written_for_a_large_class_in_one_statement(world):
    from services.enrollment.models import Enrollment, Member
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
