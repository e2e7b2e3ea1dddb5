"""Scheduling's rules without a broker: the two-thirds rule, class dates, audiences, the class
and session lifecycle, and what each change tells the world."""

from datetime import UTC, date, datetime, timedelta

import pytest

from services.contracts import new_event
from services.kit.clock import SHANGHAI
from services.kit.errors import DomainError, InvalidInput
from services.scheduling import domain
from services.scheduling.domain import Catalogue
from services.scheduling.models import Course, Instructor, Program, TrainingSession


def sessions(core, other, cancelled_other=0):
    made = [TrainingSession(core_theory=True, status="scheduled") for _ in range(core)]
    made += [TrainingSession(core_theory=False, status="scheduled") for _ in range(other)]
    made += [TrainingSession(core_theory=False, status="cancelled")
             for _ in range(cancelled_other)]
    return made


# -- the two-thirds rule ------------------------------------------------------------------------

def test_exactly_two_thirds_core_theory_passes():
    assert domain.passes_two_thirds(sessions(4, 2))
    assert domain.passes_two_thirds(sessions(2, 1))


def test_one_session_short_of_two_thirds_fails():
    assert not domain.passes_two_thirds(sessions(3, 2))
    assert not domain.passes_two_thirds(sessions(1, 1))


def test_cancelled_sessions_do_not_count_toward_the_two_thirds_rule():
    assert domain.passes_two_thirds(sessions(2, 1, cancelled_other=3))
    assert domain.core_theory_ratio(sessions(2, 1, cancelled_other=3)) == pytest.approx(2 / 3)


def test_a_class_without_sessions_does_not_pass():
    assert not domain.passes_two_thirds([])
    assert domain.core_theory_ratio([]) == 0.0


# -- building classes -------------------------------------------------------------------------

SECRETARIES = Program(id="00000000-0000-4000-8000-000000000001", year=2026, track="secretaries",
                      organiser_org_code="FX",
                      name="千名书记进党校", target_person_times=4000)
MEMBERS = Program(id="00000000-0000-4000-8000-000000000002", year=2026, track="members",
                  organiser_org_code="FX",
                  name="万名党员进课堂", target_person_times=20000)


def at(day: int, hhmm: str, month: int = 4) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def a_session(starts, ends, core=True, **extra):
    return {"course_title": "学习贯彻习近平新时代党建思想" if core else "奉贤区经济社会形势报告",
            "core_theory": core, "kind": "lecture", "starts_at": starts, "ends_at": ends,
            "hours": (ends - starts).total_seconds() / 3600, **extra}


def class_data(*session_inputs, **overrides):
    return {"title": "村党组织书记基础理论班",
            "audience": {"sector": "village", "module": "basic_theory"},
            "offline_capacity": 100, "delivery": "offline", "start_date": date(2026, 4, 1),
            "end_date": date(2026, 4, 3), "sessions": list(session_inputs), **overrides}


def a_class(core=2, other=1, program=SECRETARIES, **overrides):
    """A draft with `core` + `other` sessions, one each half day from 1 April."""
    inputs = []
    for index in range(core + other):
        day, start = 1 + index // 2, ("09:00", "14:00")[index % 2]
        begins = at(day, start)
        inputs.append(a_session(begins, begins + timedelta(hours=3), core=index < core))
    return domain.new_class(class_data(*inputs, **overrides), program)


def test_class_dates_are_shanghai_dates():
    # 23:00-23:30 in Shanghai on 1 April is 15:00-15:30 UTC: inside a one-day class.
    cls = domain.new_class(class_data(a_session(datetime(2026, 4, 1, 15, tzinfo=UTC),
                                                datetime(2026, 4, 1, 15, 30, tzinfo=UTC)),
                                      end_date=date(2026, 4, 1)), SECRETARIES)
    assert cls.sessions[0].starts_at.tzinfo is UTC


def test_a_session_outside_the_class_dates_is_refused_naming_the_rule_and_session():
    # 00:30 on 4 April in Shanghai is 16:30 UTC on 3 April: after a class ending on 3 April.
    with pytest.raises(DomainError) as refused:
        domain.new_class(class_data(
            a_session(at(1, "09:00"), at(1, "10:00")),
            a_session(datetime(2026, 4, 3, 16, 30, tzinfo=UTC),
                      datetime(2026, 4, 3, 17, 0, tzinfo=UTC))), SECRETARIES)
    assert refused.value.info["rule"] == domain.WITHIN_CLASS_DATES
    assert set(refused.value.errors) == {"sessions.1.starts_at"}
    assert "2026-04-04 00:30" in refused.value.message


def test_a_session_on_the_first_and_last_class_day_is_within_the_dates():
    cls = domain.new_class(class_data(a_session(at(1, "00:00"), at(1, "01:00")),
                                      a_session(at(3, "22:00"), at(4, "00:00"))), SECRETARIES)
    assert len(cls.sessions) == 2   # ending at midnight ends on the 3rd


def test_a_session_the_day_before_the_class_is_refused():
    with pytest.raises(DomainError, match=domain.WITHIN_CLASS_DATES):
        domain.new_class(class_data(a_session(at(31, "23:00", month=3), at(1, "01:00"))),
                         SECRETARIES)


def test_a_member_class_names_a_category_not_a_sector():
    with pytest.raises(InvalidInput) as refused:
        domain.new_class(class_data(audience={"sector": "village"}), MEMBERS)
    assert set(refused.value.errors) == {"audience.sector", "audience.category"}


def test_a_secretary_class_names_a_module():
    with pytest.raises(InvalidInput) as refused:
        domain.new_class(class_data(audience={"sector": "village"}), SECRETARIES)
    assert set(refused.value.errors) == {"audience.module"}
    # every sector (no sector) is fine
    domain.new_class(class_data(audience={"module": "basic_theory"}), SECRETARIES)


def test_a_catalogue_course_gives_title_core_theory_kind_hours_and_instructor():
    professor = Instructor(id="i1", name="市委党校党建教研部教授", kind="party_school_professor")
    course = Course(id="c1", title="学习贯彻习近平新时代党建思想", core_theory=True,
                    default_kind="seminar", default_hours=2.5, default_instructor=professor,
                    default_instructor_id="i1")
    cls = domain.new_class(class_data({"course_id": "c1", "starts_at": at(1, "09:00"),
                                       "ends_at": at(1, "11:30")}), SECRETARIES,
                           Catalogue(courses={"c1": course}))
    [session] = cls.sessions
    assert (session.course_title, session.core_theory, session.kind, session.hours) == \
        ("学习贯彻习近平新时代党建思想", True, "seminar", 2.5)
    assert (session.instructor_id, session.instructor_name) == ("i1", professor.name)


def test_an_unknown_catalogue_reference_names_the_session_and_field():
    with pytest.raises(InvalidInput) as refused:
        domain.new_class(class_data(a_session(at(1, "09:00"), at(1, "10:00"),
                                              venue_id="no-such-venue")), SECRETARIES)
    assert refused.value.errors == {"sessions.0.venue_id": ["no venue no-such-venue in the "
                                                            "catalogue"]}


def test_a_hybrid_class_broadcasts_its_lectures_unless_told_otherwise():
    cls = domain.new_class(class_data(
        a_session(at(1, "09:00"), at(1, "10:00")),
        a_session(at(1, "10:00"), at(1, "11:00"), kind="onsite"),
        a_session(at(1, "11:00"), at(1, "12:00"), live=False),
        delivery="hybrid"), SECRETARIES)
    assert [s.live for s in cls.sessions] == [True, False, False]


# -- publishing -------------------------------------------------------------------------------

def publish(cls):
    return domain.publish(cls, Catalogue(), domain.NoBookings(),
                          now=datetime(2026, 3, 1, tzinfo=UTC))


def test_class_cannot_publish_below_two_thirds_core_theory_and_says_the_ratio():
    cls = a_class(core=3, other=2)
    with pytest.raises(DomainError) as refused:
        publish(cls)
    assert refused.value.info["rule"] == domain.TWO_THIRDS
    assert "3 of 5 sessions are core theory (60.0%)" in refused.value.message
    assert "add 1 core-theory session" in refused.value.message
    assert cls.status == "draft"


def test_a_class_with_exactly_two_thirds_core_theory_publishes():
    cls = a_class(core=4, other=2)
    publish(cls)
    assert cls.status == "published"


def test_a_class_without_sessions_cannot_publish():
    cls = domain.new_class(class_data(), SECRETARIES)
    with pytest.raises(DomainError, match=domain.CLASS_HAS_SESSIONS):
        publish(cls)


def test_publishing_announces_the_class_then_each_session_in_time_order():
    cls = a_class(core=2, other=1)
    events = publish(cls)
    assert [t for t, _ in events] == ["class_published"] + ["session_scheduled"] * 3
    starts = [d["starts_at"] for t, d in events[1:]]
    assert starts == sorted(starts)
    published = events[0][1]
    assert published["class_hours"] == 9.0 and published["sessions_completed"] == 0
    assert published["core_theory_ratio"] == pytest.approx(2 / 3)
    for event_type, data in events:   # each meets its contract
        new_event("scheduling", event_type, data)


def test_a_draft_creates_no_events_and_is_published_once():
    cls = a_class()
    publish(cls)
    with pytest.raises(DomainError, match=domain.CLASS_LIFECYCLE):
        publish(cls)


# -- no silent edits after publishing ---------------------------------------------------------

def test_a_published_classs_sessions_are_rescheduled_or_cancelled_not_edited_or_removed():
    cls = a_class()
    publish(cls)
    new = a_session(at(2, "14:00"), at(2, "15:00"))
    with pytest.raises(DomainError, match=domain.NO_SILENT_EDITS):
        domain.replace_session(cls.sessions[0], new, Catalogue(), domain.NoBookings())
    with pytest.raises(DomainError, match=domain.NO_SILENT_EDITS):
        domain.remove_session(cls.sessions[0])
    assert len(cls.sessions) == 3


def test_a_draft_is_edited_freely_and_says_nothing():
    cls = a_class()
    session, events = domain.add_session(cls, a_session(at(2, "14:00"), at(2, "15:00")),
                                         Catalogue(), domain.NoBookings())
    assert events == []
    domain.replace_session(session, a_session(at(3, "09:00"), at(3, "10:00")), Catalogue(),
                           domain.NoBookings())
    assert domain.local(session.starts_at) == at(3, "09:00")
    assert domain.reschedule(session, {"starts_at": at(3, "10:00"), "ends_at": at(3, "11:00")},
                             Catalogue(), domain.NoBookings()) == []
    assert session.sequence == 0
    domain.remove_session(session)
    assert session not in cls.sessions
    assert domain.change_class(cls, {"offline_capacity": 50}, Catalogue(),
                               domain.NoBookings()) == []
    assert cls.offline_capacity == 50 and cls.sequence == 0


def test_a_reschedule_after_publishing_raises_the_sequence_and_carries_the_new_times():
    cls = a_class()
    publish(cls)
    session = cls.sessions[0]
    [(event_type, data)] = domain.reschedule(
        session, {"starts_at": at(3, "09:00"), "ends_at": at(3, "12:00"), "reason": "教授出差"},
        Catalogue(), domain.NoBookings())
    assert event_type == "session_rescheduled"
    assert data["starts_at"] == at(3, "09:00") and data["sequence"] == 1
    assert data["reason"] == "教授出差"
    domain.reschedule(session, {"starts_at": at(3, "10:00"), "ends_at": at(3, "12:00")},
                      Catalogue(), domain.NoBookings())
    assert session.sequence == 2


def test_a_reschedule_must_change_something_and_stay_in_the_class_dates():
    cls = a_class()
    publish(cls)
    session = cls.sessions[0]
    same = {"starts_at": domain.local(session.starts_at), "ends_at": session.ends_at}
    with pytest.raises(DomainError, match="already has these times"):
        domain.reschedule(session, same, Catalogue(), domain.NoBookings())
    with pytest.raises(DomainError, match=domain.WITHIN_CLASS_DATES):
        domain.reschedule(session, {"starts_at": at(4, "09:00"), "ends_at": at(4, "10:00")},
                          Catalogue(), domain.NoBookings())


def test_a_reschedule_into_another_session_of_the_class_is_refused():
    cls = a_class()
    publish(cls)
    with pytest.raises(DomainError) as refused:
        domain.reschedule(cls.sessions[0], {"starts_at": at(1, "16:59"),
                                            "ends_at": at(1, "18:00")},
                          Catalogue(), domain.NoBookings())
    assert refused.value.info["rule"] == domain.CLASS_DOUBLE_BOOKED


# -- cancellations and completion -------------------------------------------------------------

def test_cancelling_a_session_raises_its_sequence_and_says_why():
    cls = a_class()
    publish(cls)
    [(event_type, data), (class_event, class_data)] = domain.cancel_session(cls.sessions[2],
                                                                           "台风")
    assert event_type == "session_cancelled"
    assert data["sequence"] == 1 and data["reason"] == "台风"
    # the class lost three hours and its ratio rose: the class changed too
    assert class_event == "class_changed" and class_data["sequence"] == 1
    assert class_data["changed"] == ["core_theory_ratio", "class_hours"]
    assert class_data["class_hours"] == 6.0 and class_data["core_theory_ratio"] == 1.0
    assert cls.sessions[2].status == "cancelled"
    with pytest.raises(DomainError, match="only a scheduled session"):
        domain.cancel_session(cls.sessions[2])


def test_the_last_session_of_a_class_is_not_cancelled_the_class_is():
    cls = a_class(core=1, other=0)
    publish(cls)
    with pytest.raises(DomainError, match="cancel the class instead"):
        domain.cancel_session(cls.sessions[0])


def test_a_drafts_session_is_removed_not_cancelled():
    cls = a_class()
    with pytest.raises(DomainError, match="remove the session"):
        domain.cancel_session(cls.sessions[0])


def test_sessions_complete_once_and_the_class_runs_then_completes_with_its_last():
    cls = a_class(core=2, other=1)
    publish(cls)
    first = domain.complete_session(cls.sessions[0])
    assert [t for t, _ in first] == ["session_completed"]
    assert cls.status == "in_progress"
    with pytest.raises(DomainError, match="only a scheduled session"):
        domain.complete_session(cls.sessions[0])
    domain.cancel_session(cls.sessions[2])
    last = domain.complete_session(cls.sessions[1])
    assert [t for t, _ in last] == ["session_completed", "class_completed"]
    completed = last[1][1]
    assert completed["status"] == "completed"
    assert completed["sessions_completed"] == 2 and completed["class_hours"] == 6.0
    assert cls.status == "completed"
    # published 0, changed by the cancellation 1, completed 2
    assert completed["sequence"] == 2


def test_cancelling_the_only_open_session_completes_the_class():
    cls = a_class(core=2, other=0)
    publish(cls)
    domain.complete_session(cls.sessions[0])
    events = domain.cancel_session(cls.sessions[1])
    assert [t for t, _ in events] == ["session_cancelled", "class_changed", "class_completed"]
    assert [d["sequence"] for _, d in events[1:]] == [1, 2]


def test_a_session_of_a_draft_cannot_be_held_before_the_class_is_published():
    cls = a_class(core=2, other=1)
    with pytest.raises(DomainError, match="is a draft; publish it"):
        domain.complete_session(cls.sessions[0])
    assert cls.sessions[0].status == "scheduled"


def test_a_class_is_closed_only_when_no_session_is_still_scheduled():
    cls = a_class(core=2, other=1)
    publish(cls)
    domain.complete_session(cls.sessions[0])
    with pytest.raises(DomainError) as refused:
        domain.complete_class(cls)
    assert refused.value.info["rule"] == domain.CLASS_COMPLETION
    assert "2 session(s) are still scheduled" in refused.value.message
    assert refused.value.info["sessions"] == [cls.sessions[1].id, cls.sessions[2].id]


def test_an_explicit_close_of_a_draft_or_a_completed_class_is_refused():
    cls = a_class(core=1, other=0)
    with pytest.raises(DomainError, match="only a published or running class"):
        domain.complete_class(cls)
    publish(cls)
    domain.complete_session(cls.sessions[0])
    with pytest.raises(DomainError, match="only a published or running class"):
        domain.complete_class(cls)


def test_cancelling_a_published_class_cancels_its_scheduled_sessions_in_one_event():
    cls = a_class(core=2, other=1)
    publish(cls)
    domain.complete_session(cls.sessions[0])
    [(event_type, data)] = domain.cancel_class(cls, "疫情")
    assert event_type == "class_cancelled" and data["reason"] == "疫情"
    assert [s.status for s in cls.sessions] == ["completed", "cancelled", "cancelled"]
    assert [s.sequence for s in cls.sessions] == [0, 1, 1]
    assert data["class_hours"] == 3.0 and data["sessions_completed"] == 1
    with pytest.raises(DomainError, match=domain.CLASS_LIFECYCLE):
        domain.cancel_class(cls)
    with pytest.raises(DomainError, match=domain.CLASS_LIFECYCLE):
        domain.reschedule(cls.sessions[1], {"starts_at": at(3, "09:00"),
                                            "ends_at": at(3, "10:00")},
                          Catalogue(), domain.NoBookings())


def test_cancelling_a_draft_tells_nobody():
    cls = a_class()
    assert domain.cancel_class(cls) == []
    assert cls.status == "cancelled"


# -- programs ---------------------------------------------------------------------------------

def test_one_program_per_year_track_and_organiser():
    data = {"year": 2026, "track": "members", "organiser_org_code": "FX", "name": "n",
            "target_person_times": 1}
    with pytest.raises(DomainError) as refused:
        domain.new_program(data, existing=MEMBERS)
    assert refused.value.info == {"rule": domain.ONE_PROGRAM, "program_id": MEMBERS.id}
    assert domain.new_program(data).id
