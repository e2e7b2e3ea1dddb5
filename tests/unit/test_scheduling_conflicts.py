"""The schedule's rules without a broker: nobody and nothing in two places at once (half-open
intervals), rooms and sites big enough, sites that suit the class, live classes broadcast."""

from datetime import date, datetime, timedelta

import pytest

from services.kit.clock import SHANGHAI
from services.kit.errors import DomainError
from services.scheduling import domain, queries
from services.scheduling.domain import Catalogue
from services.scheduling.models import Instructor, Program, Site, TrainingSession, Venue
from tests.support.fakes import ListBookings

SECRETARIES = Program(id="00000000-0000-4000-8000-000000000001", year=2026, track="secretaries",
                      organiser_org_code="FX", name="千名书记进党校", target_person_times=4000)
MEMBERS = Program(id="00000000-0000-4000-8000-000000000002", year=2026, track="members",
                  organiser_org_code="FX", name="万名党员进课堂", target_person_times=20000)

ROOM = Venue(id="v-room", name="区委党校第二教室", seats=120)
HALL = Venue(id="v-hall", name="区委党校报告厅", seats=300)
FARM = Site(id="s-farm", name="乡村振兴示范村现场教学点（一）", kind="rural_revitalisation",
            audiences=["institution"], group_capacity=80)
CENTRE = Site(id="s-centre", name="奉贤区党建服务中心", kind="party_service_centre",
              audiences=["new_member"], group_capacity=150)
PROFESSOR = Instructor(id="i-prof", name="市委党校党建教研部教授", kind="party_school_professor")
CATALOGUE = Catalogue(venues={v.id: v for v in (ROOM, HALL)},
                      sites={s.id: s for s in (FARM, CENTRE)},
                      instructors={PROFESSOR.id: PROFESSOR})


def at(hhmm: str, day: int = 1) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime(2026, 4, day, hour, minute, tzinfo=SHANGHAI)


def session(starts, ends, **extra):
    return {"course_title": "学习贯彻习近平新时代党建思想", "core_theory": True,
            "kind": "lecture", "starts_at": at(starts), "ends_at": at(ends), "hours": 1,
            **extra}


def make(*sessions, program=SECRETARIES, bookings=None, catalogue=CATALOGUE, **overrides):
    audience = {"category": "institution"} if program is MEMBERS else \
        {"sector": "village", "module": "basic_theory"}
    data = {"title": "班次", "audience": audience, "offline_capacity": 80, "delivery": "offline",
            "start_date": date(2026, 4, 1), "end_date": date(2026, 4, 1),
            "sessions": list(sessions), **overrides}
    return domain.new_class(data, program, catalogue, bookings or domain.NoBookings())


def refused(*sessions, **kw) -> DomainError:
    with pytest.raises(DomainError) as caught:
        make(*sessions, **kw)
    return caught.value


# -- double booking ---------------------------------------------------------------------------

@pytest.mark.parametrize("place", [{"venue_id": "v-room"}, {"instructor_id": "i-prof"},
                                   {"site_id": "s-farm", "kind": "onsite"}])
def test_back_to_back_sessions_sharing_a_resource_do_not_conflict(place):
    first = make(session("09:00", "10:30", **place))
    make(session("10:30", "12:00", **place), bookings=ListBookings(first))


@pytest.mark.parametrize("place,rule", [
    ({"venue_id": "v-room"}, domain.VENUE_DOUBLE_BOOKED),
    ({"instructor_id": "i-prof"}, domain.INSTRUCTOR_DOUBLE_BOOKED),
    ({"site_id": "s-farm", "kind": "onsite"}, domain.SITE_DOUBLE_BOOKED),
])
def test_a_minute_of_overlap_double_books_a_resource_naming_rule_and_sessions(place, rule):
    first = make(session("09:00", "10:30", **place))
    error = refused(session("10:29", "12:00", **place), bookings=ListBookings(first))
    assert error.info["rule"] == rule
    field = next(iter(place))
    assert list(error.errors) == [f"sessions.0.{field}"]
    [violation] = error.info["violations"]
    assert violation["sessions"][1] == first.sessions[0].id
    assert first.sessions[0].id in error.message and "10:29" in error.message


def test_different_resources_at_the_same_time_do_not_conflict():
    first = make(session("09:00", "10:30", venue_id="v-room"))
    make(session("09:00", "10:30", venue_id="v-hall"), bookings=ListBookings(first))


def test_free_text_places_and_instructors_are_not_checked_for_double_booking():
    first = make(session("09:00", "10:30", venue_name="某会议室", instructor_name="某老师"))
    make(session("09:00", "10:30", venue_name="某会议室", instructor_name="某老师"),
         bookings=ListBookings(first))


def test_a_cancelled_session_or_class_frees_its_resources(sqlite_db):
    """Against scheduling's own query of the bookings (queries.DbBookings), on a database."""
    db = sqlite_db("scheduling")
    program = Program(id=domain.new_id(), year=2026, track="secretaries",
                      organiser_org_code="FX", name="千名书记进党校", target_person_times=4000)
    bookings = queries.DbBookings(db)
    first = make(session("09:00", "10:30", venue_id="v-room"),
                 session("13:00", "14:00", venue_id="v-room"), program=program)
    domain.publish(first, CATALOGUE, bookings)
    db.add(first)
    db.flush()
    domain.cancel_session(first.sessions[0])
    db.flush()
    make(session("09:00", "10:30", venue_id="v-room"), program=program, bookings=bookings)
    error = refused(session("13:00", "14:00", venue_id="v-room"), program=program,
                    bookings=bookings)   # the session not cancelled still holds the room
    assert error.info["rule"] == domain.VENUE_DOUBLE_BOOKED
    domain.cancel_class(first)
    db.flush()
    make(session("13:00", "14:00", venue_id="v-room"), program=program, bookings=bookings)


def test_a_class_is_not_in_two_sessions_at_once():
    error = refused(session("09:00", "10:30"), session("10:29", "11:00"))
    assert error.info["rule"] == domain.CLASS_DOUBLE_BOOKED
    assert list(error.errors) == ["sessions.0.starts_at"]
    make(session("09:00", "10:30"), session("10:30", "11:00"))


def test_every_conflict_is_named_at_once():
    first = make(session("09:00", "10:30", venue_id="v-room", instructor_id="i-prof"))
    error = refused(session("10:00", "11:00", venue_id="v-room", instructor_id="i-prof"),
                    bookings=ListBookings(first), offline_capacity=200)
    assert error.info["rule"] == ",".join([domain.VENUE_DOUBLE_BOOKED,
                                           domain.INSTRUCTOR_DOUBLE_BOOKED,
                                           domain.VENUE_CAPACITY])
    assert error.message.startswith("3 scheduling conflicts")


# -- capacity -------------------------------------------------------------------------------

def test_a_venue_that_seats_exactly_the_class_capacity_holds_it():
    make(session("09:00", "10:00", venue_id="v-room"), offline_capacity=120)


def test_a_venue_one_seat_short_of_the_class_capacity_is_refused():
    error = refused(session("09:00", "10:00", venue_id="v-room"), offline_capacity=121)
    assert error.info["rule"] == domain.VENUE_CAPACITY
    assert "seats 120, fewer than the class's offline capacity 121" in error.message


def test_a_site_takes_a_group_up_to_its_capacity():
    make(session("09:00", "10:00", site_id="s-farm", kind="onsite"), offline_capacity=80)
    error = refused(session("09:00", "10:00", site_id="s-farm", kind="onsite"),
                    offline_capacity=81)
    assert error.info["rule"] == domain.SITE_CAPACITY
    assert list(error.errors) == ["sessions.0.site_id"]


def test_a_live_class_needs_no_venue_nor_seats():
    make(session("09:00", "10:00"), delivery="live", offline_capacity=0)
    make(session("09:00", "10:00", venue_id="v-room"), delivery="live", offline_capacity=5000)


def test_a_live_class_broadcasts_every_session():
    error = refused(session("09:00", "10:00", live=False), delivery="live")
    assert error.info["rule"] == domain.LIVE_DELIVERY


def test_a_hybrid_class_still_needs_seats_for_its_offline_places():
    error = refused(session("09:00", "10:00", venue_id="v-room"), delivery="hybrid",
                    offline_capacity=200)
    assert error.info["rule"] == domain.VENUE_CAPACITY


# -- sites by audience ------------------------------------------------------------------------

def test_member_classes_visit_sites_that_suit_their_category():
    make(session("09:00", "10:00", site_id="s-farm", kind="onsite"), program=MEMBERS)
    error = refused(session("09:00", "10:00", site_id="s-centre", kind="oath"),
                    program=MEMBERS)
    assert error.info["rule"] == domain.SITE_AUDIENCE
    assert "三年内新入党党员" in error.message


def test_secretary_classes_may_visit_any_site():
    make(session("09:00", "10:00", site_id="s-centre", kind="onsite"))


# -- after publishing ---------------------------------------------------------------------------

def test_a_reschedule_is_checked_like_a_new_booking():
    first = make(session("09:00", "10:30", venue_id="v-room"))
    second = make(session("13:00", "14:00", venue_id="v-room"),
                  session("14:00", "15:00"))
    domain.publish(second, CATALOGUE, domain.NoBookings())
    moved = second.sessions[0]
    with pytest.raises(DomainError) as caught:
        domain.reschedule(moved, {"starts_at": at("10:00"), "ends_at": at("11:00")},
                          CATALOGUE, ListBookings(first))
    assert caught.value.info["rule"] == domain.VENUE_DOUBLE_BOOKED
    assert list(caught.value.errors) == ["venue_id"]
    # moving to another room at that time is fine, and is a reschedule too
    [(event_type, data)] = domain.reschedule(
        moved, {"starts_at": at("10:00"), "ends_at": at("11:00"), "venue_id": "v-hall"},
        CATALOGUE, ListBookings(first))
    assert data["venue_name"] == HALL.name and data["sequence"] == 1


def test_publishing_checks_the_schedule_again():
    first = make(session("09:00", "10:30", venue_id="v-room"))
    second = make(session("09:00", "10:30", venue_id="v-hall"))
    second.sessions[0].venue_id = "v-room"   # as if the catalogue moved it
    with pytest.raises(DomainError, match=domain.VENUE_DOUBLE_BOOKED):
        domain.publish(second, CATALOGUE, ListBookings(first))
    assert second.status == "draft"


def test_the_overlap_test_is_half_open():
    start = at("09:00")
    a = TrainingSession(starts_at=start, ends_at=start + timedelta(hours=1))
    b = TrainingSession(starts_at=start + timedelta(hours=1),
                               ends_at=start + timedelta(hours=2))
    c = TrainingSession(starts_at=start + timedelta(minutes=59),
                               ends_at=start + timedelta(hours=2))
    assert not domain.overlaps(a, b) and not domain.overlaps(b, a)
    assert domain.overlaps(a, c) and domain.overlaps(c, a)
