"""The iCalendar feeds: they parse with the `icalendar` library, say Asia/Shanghai with its
VTIMEZONE, keep each session's UID, raise SEQUENCE on every change of a session or its class
and mark cancellations."""

from datetime import UTC, date, datetime, timedelta

import icalendar

from services.kit.clock import SHANGHAI
from services.scheduling import calendars, domain
from services.scheduling.domain import Catalogue
from services.scheduling.models import Program

PROGRAM = Program(id="00000000-0000-4000-8000-000000000001", year=2026, track="secretaries",
                  organiser_org_code="FX", name="千名书记进党校", target_person_times=4000)


def at(day, hour, minute=0):
    return datetime(2026, 4, day, hour, minute, tzinfo=SHANGHAI)


def a_class(n=3):
    sessions = [{"course_title": f"学习贯彻习近平新时代党建思想（{i + 1}）", "core_theory": True,
                 "kind": "lecture", "starts_at": at(1 + i, 9), "ends_at": at(1 + i, 11, 30),
                 "hours": 2.5, "venue_name": "区委党校报告厅",
                 "instructor_name": "市委党校党建教研部教授"} for i in range(n)]
    return domain.new_class({
        "title": "村党组织书记基础理论班", "audience": {"sector": "village",
                                                  "module": "basic_theory"},
        "offline_capacity": 100, "delivery": "hybrid", "start_date": date(2026, 4, 1),
        "end_date": date(2026, 4, 5), "sessions": sessions}, PROGRAM)


def parse(text):
    calendar = icalendar.Calendar.from_ical(text)
    return calendar, {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_the_feed_parses_and_round_trips_shanghai_wall_clock_and_utc():
    cls = a_class()
    domain.publish(cls, Catalogue(), domain.NoBookings())
    text = calendars.feed(cls.title, cls.sessions)
    calendar, events = parse(text)
    assert str(calendar["X-WR-CALNAME"]) == "村党组织书记基础理论班"
    [timezone] = calendar.walk("VTIMEZONE")
    assert str(timezone["TZID"]) == "Asia/Shanghai"
    first = events[f"{cls.sessions[0].id}@peixun"]
    assert "DTSTART;TZID=Asia/Shanghai:20260401T090000" in text
    starts = first.decoded("DTSTART")
    assert (starts.hour, starts.minute, starts.utcoffset()) == (9, 0, timedelta(hours=8))
    assert starts.astimezone(UTC) == datetime(2026, 4, 1, 1, 0, tzinfo=UTC)
    assert first.decoded("DTEND").astimezone(UTC) == cls.sessions[0].ends_at
    assert str(first["SUMMARY"]) == "学习贯彻习近平新时代党建思想（1）"
    assert str(first["LOCATION"]) == "区委党校报告厅"
    assert "授课：市委党校党建教研部教授" in str(first["DESCRIPTION"])
    assert str(first["STATUS"]) == "CONFIRMED"


def test_a_reschedule_keeps_the_uid_and_raises_the_sequence():
    cls = a_class()
    domain.publish(cls, Catalogue(), domain.NoBookings())
    session = cls.sessions[1]
    _, before = parse(calendars.feed(cls.title, cls.sessions))
    domain.reschedule(session, {"starts_at": at(4, 14), "ends_at": at(4, 16, 30)}, Catalogue(),
                      domain.NoBookings())
    _, after = parse(calendars.feed(cls.title, cls.sessions))
    assert set(before) == set(after)
    moved = after[f"{session.id}@peixun"]
    assert before[f"{session.id}@peixun"].decoded("SEQUENCE") == 0
    assert moved.decoded("SEQUENCE") == 1
    assert moved.decoded("DTSTART") == at(4, 14)


def test_a_cancelled_session_stays_in_the_feed_as_cancelled_with_a_higher_sequence():
    cls = a_class()
    domain.publish(cls, Catalogue(), domain.NoBookings())
    session = cls.sessions[2]
    domain.cancel_session(session, "台风")
    _, events = parse(calendars.feed(cls.title, cls.sessions))
    cancelled = events[f"{session.id}@peixun"]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    # The session's own change, and its class's (its hours fell): two changes.
    assert cancelled.decoded("SEQUENCE") == 2
    assert "取消原因：台风" in str(cancelled["DESCRIPTION"])


def test_a_change_of_the_class_raises_the_sequence_of_every_session():
    cls = a_class()
    domain.publish(cls, Catalogue(), domain.NoBookings())
    _, before = parse(calendars.feed(cls.title, cls.sessions))
    domain.change_class(cls, {"title": "村党组织书记基础理论班（调整）"}, Catalogue(),
                        domain.NoBookings())
    _, after = parse(calendars.feed(cls.title, cls.sessions))
    assert {uid: e.decoded("SEQUENCE") for uid, e in before.items()} == dict.fromkeys(before, 0)
    assert {uid: e.decoded("SEQUENCE") for uid, e in after.items()} == dict.fromkeys(before, 1)


def test_every_session_of_a_cancelled_class_reads_cancelled():
    cls = a_class()
    domain.publish(cls, Catalogue(), domain.NoBookings())
    domain.complete_session(cls.sessions[0])
    domain.cancel_class(cls)
    _, events = parse(calendars.feed(cls.title, cls.sessions))
    assert {str(e["STATUS"]) for e in events.values()} == {"CANCELLED"}


def test_a_drafts_sessions_are_tentative():
    cls = a_class(1)
    _, events = parse(calendars.feed(cls.title, cls.sessions))
    assert [str(e["STATUS"]) for e in events.values()] == ["TENTATIVE"]


def test_an_empty_feed_is_still_a_valid_calendar():
    calendar, events = parse(calendars.feed("区委党校研讨室", []))
    assert events == {} and str(calendar["VERSION"]) == "2.0"
