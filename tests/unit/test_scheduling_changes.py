"""A class after publishing, without a broker: it changes under every rule (two thirds, the
people seated, the class dates, double booking), each change one `class_changed` with a rising
sequence; who it is open to online and whether its nominations are reviewed; a session is held
only once it has ended."""

from datetime import UTC, date, datetime, timedelta

import pytest

from services.contracts import new_event
from services.kit.clock import SHANGHAI
from services.kit.errors import DomainError
from services.scheduling import domain
from services.scheduling.domain import Catalogue
from services.scheduling.models import Program, Venue
from tests.support.fakes import ListBookings

SECRETARIES = Program(id="00000000-0000-4000-8000-000000000001", year=2026, track="secretaries",
                      organiser_org_code="FX", name="千名书记进党校", target_person_times=4000)
MEMBERS = Program(id="00000000-0000-4000-8000-000000000002", year=2026, track="members",
                  organiser_org_code="CA", name="甲镇党员培训", target_person_times=300)
HALL = Venue(id="v-hall", name="区委党校报告厅", seats=300)
ROOM = Venue(id="v-room", name="区委党校第五教室", seats=60)
CATALOGUE = Catalogue(venues={v.id: v for v in (HALL, ROOM)})
NO_BOOKINGS = domain.NoBookings()


class Seated:
    """The Seats port: a fixed number of people seated, and whether anyone asked."""

    def __init__(self, people):
        self.people, self.asked = people, 0

    def seated(self, class_id):
        self.asked += 1
        return self.people


def at(day: int, hhmm: str) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime(2026, 4, day, hour, minute, tzinfo=SHANGHAI)


def a_session(day, hhmm, core=True, **extra):
    starts = at(day, hhmm)
    return {"course_title": "学习贯彻习近平新时代党建思想" if core else "奉贤区经济社会形势报告",
            "core_theory": core, "kind": "lecture", "starts_at": starts,
            "ends_at": starts + timedelta(hours=3), "hours": 3.0, **extra}


def a_class(program=SECRETARIES, delivery="offline", core=2, other=1, venue_id="v-hall",
            **overrides):
    """`core` + `other` sessions in the hall, one each half day from 1 April; 1–3 April."""
    sessions = [a_session(1 + i // 2, ("09:00", "14:00")[i % 2], core=i < core,
                          venue_id=venue_id) for i in range(core + other)]
    audience = {"category": "enterprise"} if program.track == "members" else \
        {"sector": "village", "module": "basic_theory"}
    data = {"title": "村党组织书记基础理论班", "audience": audience, "offline_capacity": 50,
            "delivery": delivery, "start_date": date(2026, 4, 1), "end_date": date(2026, 4, 3),
            "sessions": sessions, **overrides}
    return domain.new_class(data, program, CATALOGUE)


def published(**kw):
    training_class = a_class(**kw)
    domain.publish(training_class, CATALOGUE, NO_BOOKINGS)
    return training_class


def change(training_class, seats=None, bookings=NO_BOOKINGS, **changes):
    return domain.change_class(training_class, changes, CATALOGUE, bookings, seats)


# -- open online, reviewed nominations ---------------------------------------------------------

@pytest.mark.parametrize("program,delivery,opened", [
    (SECRETARIES, "hybrid", True), (SECRETARIES, "live", True),
    (SECRETARIES, "offline", False), (MEMBERS, "hybrid", False), (MEMBERS, "live", False)])
def test_a_live_or_hybrid_secretaries_class_is_open_online_by_default(program, delivery,
                                                                       opened):
    training_class = a_class(program=program, delivery=delivery)
    assert training_class.online_open is opened
    assert training_class.review_nominations is False


def test_the_organiser_opens_or_closes_a_class_either_way():
    assert a_class(delivery="hybrid", online_open=False).online_open is False
    assert a_class(program=MEMBERS, delivery="hybrid", online_open=True).online_open is True
    assert a_class(review_nominations=True).review_nominations is True


def test_a_drafts_new_delivery_brings_its_default_unless_the_change_says_otherwise():
    training_class = a_class(delivery="offline")
    change(training_class, delivery="hybrid")
    assert training_class.online_open is True
    change(training_class, online_open=False)
    assert training_class.online_open is False
    change(training_class, delivery="offline", online_open=True)
    assert training_class.online_open is True
    change(training_class, delivery="hybrid", online_open=None)   # None: the default
    assert training_class.online_open is True


def test_every_class_event_carries_open_reviewed_and_its_sequence():
    training_class = a_class(delivery="hybrid", review_nominations=True)
    events = domain.publish(training_class, CATALOGUE, NO_BOOKINGS)
    events += change(training_class, title="村党组织书记基础理论班（二期）")
    events += domain.cancel_class(training_class, "场地检修")
    classes = [(t, d) for t, d in events if t.startswith("class_")]
    assert [(t, d["online_open"], d["review_nominations"], d["sequence"])
            for t, d in classes] == [("class_published", True, True, 0),
                                     ("class_changed", True, True, 1),
                                     ("class_cancelled", True, True, 2)]
    for event_type, data in classes:
        assert new_event("scheduling", event_type, data).data["sequence"] == data["sequence"]


# -- a published class changes, one event per change -------------------------------------------

def test_each_change_of_a_published_class_is_one_class_changed_with_a_rising_sequence():
    training_class = published()
    [(event_type, data)] = change(training_class, title="（调整）", online_open=True)
    assert event_type == "class_changed"
    assert data["changed"] == ["title", "online_open"] and data["sequence"] == 1
    assert data["title"] == "（调整）" and data["class_id"] == training_class.id
    [(_, data)] = change(training_class, review_nominations=True,
                         start_date=date(2026, 3, 31))
    assert sorted(data["changed"]) == ["review_nominations", "start_date"]
    assert data["sequence"] == 2
    assert change(training_class, title="（调整）") == []   # nothing changed: no news
    assert training_class.sequence == 2


def test_a_published_class_keeps_its_audience_and_delivery():
    training_class = published()
    with pytest.raises(DomainError) as refused:
        change(training_class, delivery="live", title="x")
    assert refused.value.info["rule"] == domain.FIXED_AFTER_PUBLISHING
    assert refused.value.errors == {"delivery": ["fixed once the class is published"]}
    with pytest.raises(DomainError, match=domain.FIXED_AFTER_PUBLISHING):
        change(training_class, audience={"sector": "residential", "module": "basic_theory"})
    assert training_class.title == "村党组织书记基础理论班"


def test_a_cancelled_or_completed_class_does_not_change():
    training_class = published()
    domain.cancel_class(training_class)
    with pytest.raises(DomainError, match=domain.CLASS_LIFECYCLE):
        change(training_class, title="x")


def test_capacity_cannot_fall_below_the_people_seated():
    training_class = published()
    seated = Seated(40)
    with pytest.raises(DomainError) as refused:
        change(training_class, seats=seated, offline_capacity=39)
    assert refused.value.info["rule"] == domain.CAPACITY_BELOW_SEATED
    assert refused.value.info["seated"] == 40 and "offline_capacity" in refused.value.errors
    [(_, data)] = change(training_class, seats=seated, offline_capacity=40)
    assert data["offline_capacity"] == 40 and data["changed"] == ["offline_capacity"]


def test_a_larger_capacity_or_a_draft_asks_nobody_how_many_are_seated():
    seated = Seated(40)
    change(published(), seats=seated, offline_capacity=60)
    change(a_class(), seats=seated, offline_capacity=1)
    assert seated.asked == 0


def test_a_larger_capacity_still_needs_rooms_that_hold_it():
    training_class = published(venue_id="v-room")
    with pytest.raises(DomainError, match=domain.VENUE_CAPACITY):
        change(training_class, offline_capacity=61)


def test_new_class_dates_must_hold_every_session():
    training_class = published()
    with pytest.raises(DomainError) as refused:
        change(training_class, end_date=date(2026, 4, 1))
    assert refused.value.info["rule"] == domain.WITHIN_CLASS_DATES
    assert set(refused.value.errors) == {"sessions.2.starts_at"}


def test_moving_the_class_to_another_classroom_reschedules_its_classroom_sessions():
    training_class = published()
    domain.complete_session(training_class.sessions[0])
    events = change(training_class, venue_id="v-room")
    assert [t for t, _ in events] == ["session_rescheduled"] * 2 + ["class_changed"]
    assert [d["venue_name"] for _, d in events[:2]] == ["区委党校第五教室"] * 2
    assert [d["sequence"] for _, d in events[:2]] == [1, 1]
    assert events[-1][1]["changed"] == ["venue"]
    assert training_class.sessions[0].venue_name == "区委党校报告厅"   # held there: stays


def test_moving_to_a_booked_classroom_is_refused():
    other = published(title="另一个班")
    training_class = published(venue_id="v-room", offline_capacity=50)
    with pytest.raises(DomainError) as refused:
        change(training_class, venue_id="v-hall", bookings=ListBookings(other))
    assert refused.value.info["rule"] == domain.VENUE_DOUBLE_BOOKED


# -- sessions of a published class -------------------------------------------------------------

def test_a_session_added_to_a_published_class_is_news_and_moves_the_class():
    training_class = published(core=2, other=1)
    session, events = domain.add_session(training_class, a_session(2, "14:00"), CATALOGUE,
                                         NO_BOOKINGS)
    assert [t for t, _ in events] == ["session_scheduled", "class_changed"]
    assert events[0][1]["session_id"] == session.id
    assert events[1][1]["changed"] == ["core_theory_ratio", "class_hours"]
    assert events[1][1]["class_hours"] == 12.0 and events[1][1]["sequence"] == 1


def test_a_session_added_below_two_thirds_is_refused():
    training_class = published(core=2, other=1)
    with pytest.raises(DomainError) as refused:
        domain.add_session(training_class, a_session(2, "14:00", core=False), CATALOGUE,
                           NO_BOOKINGS)
    assert refused.value.info["rule"] == domain.TWO_THIRDS
    assert "2 of 4 sessions would be core theory" in refused.value.message


def test_a_session_added_outside_the_dates_or_over_another_is_refused():
    training_class = published(core=2, other=1)
    with pytest.raises(DomainError, match=domain.WITHIN_CLASS_DATES):
        domain.add_session(training_class, a_session(4, "09:00"), CATALOGUE, NO_BOOKINGS)
    with pytest.raises(DomainError) as refused:
        domain.add_session(training_class, a_session(1, "10:00"), CATALOGUE, NO_BOOKINGS)
    assert refused.value.info["rule"] == domain.CLASS_DOUBLE_BOOKED


def test_a_session_is_not_added_to_a_completed_class():
    training_class = published(core=1, other=0)
    domain.complete_session(training_class.sessions[0])
    with pytest.raises(DomainError, match=domain.CLASS_LIFECYCLE):
        domain.add_session(training_class, a_session(2, "14:00"), CATALOGUE, NO_BOOKINGS)


def test_cancelling_a_core_session_that_would_break_two_thirds_is_refused():
    training_class = published(core=2, other=1)
    with pytest.raises(DomainError) as refused:
        domain.cancel_session(training_class.sessions[0])
    assert refused.value.info["rule"] == domain.TWO_THIRDS
    assert training_class.sessions[0].status == "scheduled" and training_class.sequence == 0
    domain.cancel_session(training_class.sessions[2])   # a non-core one only helps


def test_a_reschedule_moves_neither_ratio_nor_hours_so_the_class_stays():
    training_class = published()
    events = domain.reschedule(training_class.sessions[2],
                               {"starts_at": at(3, "09:00"), "ends_at": at(3, "12:00")},
                               CATALOGUE, NO_BOOKINGS)
    assert [t for t, _ in events] == ["session_rescheduled"] and training_class.sequence == 0


# -- a session is held once it has ended -------------------------------------------------------

def test_a_session_cannot_be_completed_before_it_has_ended():
    training_class = published()
    session = training_class.sessions[0]
    with pytest.raises(DomainError) as refused:
        domain.complete_session(session, now=session.ends_at - timedelta(minutes=1))
    assert refused.value.info["rule"] == domain.SESSION_NOT_ENDED
    assert session.status == "scheduled" and training_class.status == "published"
    events = domain.complete_session(session, now=session.ends_at.astimezone(UTC))
    assert [t for t, _ in events] == ["session_completed"]
