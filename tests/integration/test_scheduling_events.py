"""Scheduling's events on the real broker: each published once, in the contract's shape, in the
order the change made them; a reschedule reaches a consumer with its new times."""

import time
import uuid
from datetime import UTC, datetime

import pytest
from kombu import Connection, Exchange, Queue

from services.contracts import parse_event
from services.kit import Database, event_handler
from services.scheduling.service import SchedulingService
from tests.support.waiting import wait_until

PROGRAM = {"year": 2026, "track": "secretaries", "organiser_org_code": "FX",
           "name": "2026年“千名书记进党校”", "target_person_times": 4000}


@pytest.fixture
def listener(amqp_uri):
    """Every event scheduling publishes, as parsed by its contract."""
    name = f"test-scheduling-all-{uuid.uuid4().hex[:8]}"
    queue = Queue(name, Exchange("scheduling.events", type="topic", durable=True),
                  routing_key="#", durable=False, auto_delete=False)
    with Connection(amqp_uri) as connection:
        queue.bind(connection.channel()).declare()

    def take(count, timeout=10.0, settle=0.5):
        """`count` events, then a short wait to see that no more arrive."""
        taken = []
        deadline = settle_until = time.monotonic() + timeout
        with Connection(amqp_uri) as connection:
            bound = queue.bind(connection.channel())
            while time.monotonic() < deadline:
                message = bound.get(no_ack=True)
                if message is None:
                    if len(taken) >= count and time.monotonic() > settle_until:
                        break
                    time.sleep(0.05)
                    continue
                event = parse_event(message.body, source="scheduling",
                                    event_type=message.delivery_info["routing_key"])
                taken.append(event)
                if len(taken) >= count:
                    settle_until = time.monotonic() + settle
        return taken

    yield take
    with Connection(amqp_uri) as connection:
        connection.channel().queue_delete(name)


@pytest.fixture
def scheduling(container_factory, service_config):
    container = container_factory(SchedulingService, service_config)
    container.start()
    return container


def a_class(program_id, catalogue, **overrides):
    """Three core lectures and a visit over two days, in the party school and at a site."""
    room = catalogue["venues"]["区委党校第一教室"]
    site = catalogue["sites"]["乡村振兴示范村现场教学点（一）"]
    core = catalogue["core"]
    visit = catalogue["courses"]["现场教学：乡村振兴实践点位"]
    return {
        "program_id": program_id, "title": "村党组织书记拓展提升班",
        "audience": {"sector": "village", "module": "advanced"},
        "offline_capacity": 80, "delivery": "hybrid",
        "start_date": "2026-04-01", "end_date": "2026-04-02",
        "sessions": [
            {"course_id": core[0], "venue_id": room, "starts_at": "2026-04-01T09:00:00+08:00",
             "ends_at": "2026-04-01T12:00:00+08:00"},
            {"course_id": core[1], "venue_id": room, "starts_at": "2026-04-01T13:30:00+08:00",
             "ends_at": "2026-04-01T16:30:00+08:00"},
            {"course_id": core[2], "venue_id": room, "starts_at": "2026-04-02T09:00:00+08:00",
             "ends_at": "2026-04-02T12:00:00+08:00"},
            {"course_id": visit, "site_id": site, "starts_at": "2026-04-02T13:30:00+08:00",
             "ends_at": "2026-04-02T16:30:00+08:00"},
        ], **overrides}


def catalogue_of(rpc):
    rpc.scheduling.seed_catalogue()
    courses = rpc.scheduling.list_courses(per_page=200)["items"]
    return {
        "venues": {v["name"]: v["venue_id"] for v in rpc.scheduling.list_venues()["items"]},
        "sites": {s["name"]: s["site_id"] for s in rpc.scheduling.list_sites()["items"]},
        "courses": {c["title"]: c["course_id"] for c in courses},
        "core": [c["course_id"] for c in courses
                 if c["core_theory"] and c["default_kind"] == "lecture"],
    }


def test_a_class_life_publishes_each_event_once_in_order_in_the_contracts_shape(
        scheduling, rpc, listener):
    program = rpc.scheduling.create_program(PROGRAM)
    catalogue = catalogue_of(rpc)
    draft = rpc.scheduling.create_class(a_class(program["program_id"], catalogue))
    assert draft["status"] == "draft" and draft["passes_two_thirds"]
    [changed] = listener(1)   # a draft says nothing
    assert changed.type == "program_changed" and changed.data["year"] == 2026

    rpc.scheduling.publish_class(draft["class_id"])
    published = listener(5)
    assert [e.type for e in published] == ["class_published"] + ["session_scheduled"] * 4
    assert published[0].data["core_theory_ratio"] == 0.75
    assert published[0].data["class_hours"] == 12.0
    assert published[0].data["sessions_completed"] == 0
    assert [e.data["session_id"] for e in published[1:]] == \
        [s["session_id"] for s in draft["sessions"]]
    visit = published[4].data
    assert (visit["kind"], visit["venue_name"], visit["live"]) == \
        ("onsite", "乡村振兴示范村现场教学点（一）", False)
    assert published[1].data["instructor_name"] and published[1].data["live"] is True

    first, second, third, fourth = (s["session_id"] for s in draft["sessions"])
    rpc.scheduling.cancel_session(second, "教授出差")
    for session_id in (first, third, fourth):
        rpc.scheduling.complete_session(session_id)
    rest = listener(6)
    assert [e.type for e in rest] == ["session_cancelled", "class_changed",
                                      "session_completed", "session_completed",
                                      "session_completed", "class_completed"]
    assert rest[0].data["reason"] == "教授出差" and rest[0].data["sequence"] == 1
    assert rest[1].data["changed"] == ["core_theory_ratio", "class_hours"]
    done = rest[-1].data
    assert done["status"] == "completed" and done["sessions_completed"] == 3
    assert done["class_hours"] == 9.0 and done["sequence"] == 2
    every = [changed, *published, *rest]
    assert len({e.id for e in every}) == len(every)
    assert rpc.scheduling.get_class(draft["class_id"])["status"] == "completed"


def test_cancelling_a_published_class_is_one_event_and_a_draft_none(scheduling, rpc, listener):
    program = rpc.scheduling.create_program(PROGRAM)
    catalogue = catalogue_of(rpc)
    published = rpc.scheduling.create_class(
        {**a_class(program["program_id"], catalogue), "publish": True})
    draft = rpc.scheduling.create_class(
        {**a_class(program["program_id"], catalogue), "start_date": "2026-05-01",
         "end_date": "2026-05-01", "sessions": []})
    listener(6)
    rpc.scheduling.cancel_class(draft["class_id"])
    cancelled = rpc.scheduling.cancel_class(published["class_id"], "场地检修")
    assert {s["status"] for s in cancelled["sessions"]} == {"cancelled"}
    [event] = listener(1)
    assert event.type == "class_cancelled" and event.data["class_id"] == published["class_id"]
    assert event.data["reason"] == "场地检修"


class RescheduleProbe:
    """A consumer of session_rescheduled, as enrollment and reporting are."""

    name = "schedprobe"
    db = Database(service="scheduling")
    seen: list = []

    @event_handler("scheduling", "session_rescheduled")
    def on_rescheduled(self, event):
        RescheduleProbe.seen.append(event)


def test_a_reschedule_reaches_a_consumer_with_the_new_times_and_a_higher_sequence(
        scheduling, container_factory, service_config, rpc):
    RescheduleProbe.seen = []
    container_factory(RescheduleProbe, service_config).start()
    program = rpc.scheduling.create_program(PROGRAM)
    created = rpc.scheduling.create_class(
        {**a_class(program["program_id"], catalogue_of(rpc)), "publish": True})
    session_id = created["sessions"][0]["session_id"]

    moved = rpc.scheduling.reschedule_session(session_id, {
        "starts_at": "2026-04-02T18:00:00+08:00", "ends_at": "2026-04-02T21:00:00+08:00",
        "reason": "与区委会议冲突"})
    assert moved["sequence"] == 1 and moved["starts_at"] == "2026-04-02T18:00:00+08:00"
    rpc.scheduling.reschedule_session(session_id, {
        "starts_at": "2026-04-02T18:30:00+08:00", "ends_at": "2026-04-02T21:30:00+08:00"})

    wait_until(lambda: len(RescheduleProbe.seen) == 2, message="both reschedules consumed")
    first, second = sorted(RescheduleProbe.seen, key=lambda e: e.data["sequence"])
    assert first.data["session_id"] == session_id
    assert first.data["starts_at"] == datetime(2026, 4, 2, 10, 0, tzinfo=UTC)
    assert first.data["ends_at"] == datetime(2026, 4, 2, 13, 0, tzinfo=UTC)
    assert first.data["reason"] == "与区委会议冲突"
    assert (first.data["sequence"], second.data["sequence"]) == (1, 2)
    assert second.data["starts_at"] == datetime(2026, 4, 2, 10, 30, tzinfo=UTC)


def test_refusals_name_the_rule_and_change_nothing(scheduling, rpc, listener):
    from services.kit.errors import DomainError, InvalidInput

    program = rpc.scheduling.create_program(PROGRAM)
    catalogue = catalogue_of(rpc)
    first = rpc.scheduling.create_class(a_class(program["program_id"], catalogue))
    with pytest.raises(DomainError) as clash:
        rpc.scheduling.create_class(a_class(program["program_id"], catalogue))
    assert "venue_double_booked" in clash.value.info["rule"]
    assert first["sessions"][0]["session_id"] in clash.value.message

    weak = a_class(program["program_id"], catalogue, start_date="2026-06-01",
                   end_date="2026-06-01")
    weak["sessions"] = [
        {"course_id": catalogue["courses"]["奉贤区经济社会形势报告"],
         "starts_at": "2026-06-01T09:00:00+08:00", "ends_at": "2026-06-01T12:00:00+08:00"},
        {"course_id": catalogue["core"][0], "starts_at": "2026-06-01T13:00:00+08:00",
         "ends_at": "2026-06-01T16:00:00+08:00"}]
    weak_class = rpc.scheduling.create_class(weak)
    with pytest.raises(DomainError) as below:
        rpc.scheduling.publish_class(weak_class["class_id"])
    assert below.value.info["rule"] == "two_thirds_core_theory"
    assert "1 of 2 sessions are core theory (50.0%)" in below.value.message

    with pytest.raises(InvalidInput) as bad:
        rpc.scheduling.create_program({**PROGRAM, "year": "2026"})
    assert "year" in bad.value.errors
    with pytest.raises(DomainError, match="one_program_per_year_track_organiser"):
        rpc.scheduling.create_program(PROGRAM)
    assert [e.type for e in listener(1)] == ["program_changed"]
    listing = rpc.scheduling.list_classes(year=2026, track="secretaries", status="draft")
    assert (listing["total"], listing["page"], listing["per_page"]) == (2, 1, 50)


def test_the_last_two_sessions_completing_at_once_complete_the_class_once(
        scheduling, rpc, listener):
    program = rpc.scheduling.create_program(PROGRAM)
    created = rpc.scheduling.create_class(
        {**a_class(program["program_id"], catalogue_of(rpc)), "publish": True})
    listener(6)
    replies = [rpc.scheduling.complete_session.call_async(s["session_id"])
               for s in created["sessions"]]
    for reply in replies:
        reply.result()
    events = listener(5)
    assert sorted(e.type for e in events) == ["class_completed"] + ["session_completed"] * 4
    assert events[-1].type == "class_completed"
    assert events[-1].data["sessions_completed"] == 4


def test_each_change_of_a_published_class_is_one_class_changed_with_a_rising_sequence(
        scheduling, rpc, listener):
    program = rpc.scheduling.create_program(PROGRAM)
    catalogue = catalogue_of(rpc)
    created = rpc.scheduling.create_class(
        {**a_class(program["program_id"], catalogue), "publish": True})
    changed, published, *_ = listener(6)
    assert (changed.type, published.type) == ("program_changed", "class_published")
    assert (published.data["online_open"], published.data["sequence"]) == (True, 0)
    class_id = created["class_id"]

    rpc.scheduling.update_class(class_id, {"title": "村党组织书记拓展提升班（调整）",
                                           "offline_capacity": 90, "review_nominations": True})
    rpc.scheduling.add_session(class_id, {
        "course_id": catalogue["core"][3], "instructor_name": "区委党校教师",
        "venue_id": catalogue["venues"]["区委党校第一教室"],
        "starts_at": "2026-04-02T18:00:00+08:00", "ends_at": "2026-04-02T20:00:00+08:00",
        "hours": 2})
    rpc.scheduling.update_class(class_id, {"venue_id": catalogue["venues"]["区委党校报告厅"]})
    events = listener(8)
    assert [e.type for e in events] == ["class_changed", "session_scheduled", "class_changed",
                                        *["session_rescheduled"] * 4, "class_changed"]
    changes = [e.data for e in events if e.type == "class_changed"]
    assert [(c["sequence"], c["changed"]) for c in changes] == [
        (1, ["title", "offline_capacity", "review_nominations"]),
        (2, ["core_theory_ratio", "class_hours"]),
        (3, ["venue"])]
    assert changes[0]["title"] == "村党组织书记拓展提升班（调整）"
    assert changes[0]["review_nominations"] is True and changes[0]["online_open"] is True
    assert changes[1]["class_hours"] == 14.0 and changes[1]["core_theory_ratio"] == 0.8
    moved = [e.data for e in events if e.type == "session_rescheduled"]
    assert {m["venue_name"] for m in moved} == {"区委党校报告厅"}
    assert {m["sequence"] for m in moved} == {1}
