"""Enrollment on the real RabbitMQ and PostgreSQL: scheduling's events, the live platform and
the member registry publishing into it as outside systems do, and the events it emits."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pika
import pytest
from kombu import Connection, Exchange, Queue

from services.contracts.topology import queue_name
from services.enrollment.service import EnrollmentService
from services.kit.errors import InvalidInput
from tests.support.classes import (
    STARTS,
    TODAY,
    class_published_data,
    scheduling_event,
    session_scheduled_data,
)
from tests.support.waiting import wait_until

ORGS = [
    {"row": 2, "org_code": "FX", "name": "奉贤区委", "parent_code": "", "kind": "committee",
     "sector": ""},
    {"row": 3, "org_code": "FX01", "name": "南桥镇党委", "parent_code": "FX",
     "kind": "committee", "sector": ""},
    {"row": 4, "org_code": "FX0101", "name": "某村党总支", "parent_code": "FX01",
     "kind": "grassroots", "sector": "village"},
    {"row": 5, "org_code": "FX0102", "name": "某居民区党总支", "parent_code": "FX01",
     "kind": "grassroots", "sector": "residential"},
]
MEMBERS = [{"row": i + 2, "member_no": f"E{i}", "name": f"党员{i}", "org_code": "FX0102",
            "joined_on": "2010-07-01", "employment": "enterprise", "secretary_of": ""}
           for i in range(1, 6)]


@pytest.fixture
def enrollment(container_factory, service_config, rpc):
    container = container_factory(EnrollmentService, service_config)
    container.start()
    rpc.enrollment.import_orgs(ORGS)
    rpc.enrollment.import_members(MEMBERS)
    return container


@pytest.fixture
def capture(amqp_uri):
    """A queue of our own on enrollment.events for the given types: what enrollment told."""
    name = f"test-capture-{uuid.uuid4().hex[:6]}"
    connection = Connection(amqp_uri)

    def _bind(*event_types):
        channel = connection.channel()
        exchange = Exchange("enrollment.events", type="topic", durable=True)
        for event_type in event_types:
            queue = Queue(name, exchange, routing_key=event_type, durable=False)
            queue.bind(channel).declare()

        def take(count, timeout=15.0, match=lambda data: True):
            """`count` events whose data matches (the import's own may still be arriving)."""
            queue = connection.SimpleQueue(Queue(name, exchange, routing_key=event_types[0],
                                                 durable=False))
            got = []
            try:
                wait_until(lambda: _drain(queue, got, match) >= count, timeout=timeout,
                           message=f"{count} events from enrollment")
            finally:
                queue.close()
            return got
        return take

    yield _bind
    connection.channel().queue_delete(name)
    connection.release()


def _drain(queue, got, match):
    while True:
        try:
            message = queue.get(block=False)
        except queue.Empty:
            return len(got)
        message.ack()
        event = json.loads(message.body)
        if match(event["data"]):
            got.append(event)


def published_class(rpc, publish, sessions=1, **extra):
    class_id = str(uuid.uuid4())
    scheduling_event(publish, "class_published", class_published_data(class_id, **extra))
    made = [session_scheduled_data(class_id, i) for i in range(sessions)]
    for session in made:
        scheduling_event(publish, "session_scheduled", session)
    wait_until(lambda: _known(rpc, class_id, made), message="the class and its sessions")
    return class_id, made


def _known(rpc, class_id, sessions):
    try:
        rpc.enrollment.get_class(class_id)
        for session in sessions:
            rpc.enrollment.get_session(session["session_id"])
    except Exception:  # noqa: BLE001 - not there yet
        return False
    return True


def attendance_of(rpc, session_id):
    sheet = rpc.enrollment.session_attendance(session_id, {"per_page": 100})
    return {item["member_no"]: item["attendance"] for item in sheet["items"]}


def test_a_completed_session_marks_the_absent_ones_and_emits_their_records(
        enrollment, rpc, publish, capture):
    take = capture("attendance_recorded")
    class_id, [session] = published_class(rpc, publish)
    rpc.enrollment.nominate(class_id, {"member_nos": ["E1", "E2", "E3", "E4"]})
    rpc.enrollment.check_in(session["session_id"], {
        "member_no": "E1", "at": (STARTS + timedelta(minutes=5)).isoformat()})
    rpc.enrollment.check_in(session["session_id"], {"member_no": "E2", "status": "leave",
                                                    "at": STARTS.isoformat()})

    scheduling_event(publish, "session_completed", session)
    wait_until(lambda: attendance_of(rpc, session["session_id"]) == {
        "E1": "present", "E2": "leave", "E3": "absent", "E4": "absent"},
        message="absent for the two without a record")
    events = take(4)
    assert sorted((e["data"]["member_no"], e["data"]["status"]) for e in events) == [
        ("E1", "present"), ("E2", "leave"), ("E3", "absent"), ("E4", "absent")]
    absent = [e for e in events if e["data"]["status"] == "absent"]
    assert all(e["source"] == "enrollment" and e["data"]["correction"] is False
               and e["data"]["hours_earned"] == 0 for e in absent)


def viewer_body(session_id, member_no, minutes, **data):
    """The live platform's message, written by hand as that system would."""
    return json.dumps({
        "id": str(uuid.uuid4()), "type": "viewer_attended", "source": "live_platform",
        "occurred_at": datetime.now(UTC).isoformat(), "version": 1,
        "data": {"session_id": session_id, "member_no": member_no,
                 "watched_minutes": minutes, "site": "某村远程教育站点", **data},
    }, ensure_ascii=False).encode()


@pytest.fixture
def live_platform(amqp_uri):
    """A pika connection publishing into live_platform.events, as the platform does."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    channel = connection.channel()
    channel.confirm_delivery()

    def _publish(body):
        channel.basic_publish("live_platform.events", "viewer_attended", body,
                              pika.BasicProperties(content_type="application/json",
                                                   delivery_mode=2))
    yield _publish
    connection.close()


def test_the_live_platforms_reports_are_counted_and_add_up(enrollment, rpc, publish,
                                                           live_platform):
    class_id, [session] = published_class(rpc, publish)
    rpc.enrollment.nominate(class_id, {"member_nos": ["E1", "E2", "E3"]})
    sid = session["session_id"]
    live_platform(viewer_body(sid, "E1", 40))
    live_platform(viewer_body(sid, "E1", 32))     # 72 of 90 minutes: exactly 80%
    live_platform(viewer_body(sid, "E2", 90))
    live_platform(viewer_body(sid, "E3", 71.5))   # not enough
    wait_until(lambda: attendance_of(rpc, sid) == {"E1": "online", "E2": "online", "E3": None},
               message="E1 and E2 online")


def test_a_report_for_someone_not_enrolled_is_kept_and_flagged_not_dead_lettered(
        enrollment, rpc, publish, live_platform, dead_letters):
    class_id, [session] = published_class(rpc, publish)
    live_platform(viewer_body(session["session_id"], "STRANGER", 90))
    flags = wait_until(lambda: rpc.enrollment.list_anomalies({"class_id": class_id})["items"],
                       message="the flag")
    assert (flags[0]["kind"], flags[0]["member_no"]) == ("online_not_enrolled", "STRANGER")
    assert dead_letters(1, timeout=0.5) == []


def test_a_malformed_report_is_dead_lettered_with_its_reason(enrollment, rpc, publish,
                                                             live_platform, dead_letters):
    class_id, [session] = published_class(rpc, publish)
    rpc.enrollment.nominate(class_id, {"member_nos": ["E1"]})
    live_platform(viewer_body(session["session_id"], "E1", "a long while"))
    live_platform(b"{not json")
    live_platform(viewer_body(session["session_id"], "E1", 90))
    letters = dead_letters(2)
    reasons = sorted(m.headers["x-peixun-reason"] for m in letters)
    assert reasons[0].startswith("body is not JSON")
    assert reasons[1].startswith("data: watched_minutes")
    assert all(m.headers["x-peixun-original-queue"] ==
               queue_name("enrollment", "live_platform", "viewer_attended") for m in letters)
    wait_until(lambda: attendance_of(rpc, session["session_id"]) == {"E1": "online"},
               message="the good report after the bad ones")


def registry_body(member_no, change, org_code, **data):
    return json.dumps({
        "id": str(uuid.uuid4()), "type": "member_changed", "source": "member_registry",
        "occurred_at": datetime.now(UTC).isoformat(), "version": 1,
        "data": {"member_no": member_no, "change": change, "name": "某某",
                 "org_code": org_code, "joined_on": "2010-07-01",
                 "employment": "enterprise", **data},
    }, ensure_ascii=False).encode()


def test_a_transfer_from_the_registry_moves_the_member_and_names_them(enrollment, rpc, publish,
                                                                     capture):
    take = capture("person_changed")
    publish("member_registry.events", "member_changed",
            registry_body("E1", "transferred", "FX0101"))
    wait_until(lambda: rpc.enrollment.get_member("E1")["org_code"] == "FX0101",
               message="E1 in FX0101")
    [person] = take(1, match=lambda d: d["member_no"] == "E1" and d["org_code"] == "FX0101")
    assert (person["data"]["committee_code"], person["data"]["name"]) == ("FX01", "某某")


def test_a_secretary_appointment_from_the_registry_names_the_secretary(
        enrollment, rpc, publish, capture):
    take = capture("organisation_changed")
    publish("member_registry.events", "member_changed",
            registry_body("E2", "secretary_appointed", "FX0102"))
    [org] = take(1, match=lambda d: d["secretary_member_no"] is not None)
    assert (org["data"]["org_code"], org["data"]["secretary_member_no"]) == ("FX0102", "E2")
    assert rpc.enrollment.get_member("E2")["secretary_of"] == "FX0102"


def test_completion_waits_for_the_last_sessions_absences(enrollment, rpc, publish, capture):
    take = capture("completion_recorded")
    class_id, sessions = published_class(rpc, publish, sessions=2)
    rpc.enrollment.nominate(class_id, {"member_nos": ["E1", "E2"]})
    for session in sessions:
        rpc.enrollment.check_in(session["session_id"], {
            "member_no": "E1", "at": session["starts_at"].isoformat()})
    # class_completed overtakes the last session_completed (different queues).
    scheduling_event(publish, "class_completed", class_published_data(
        class_id, class_hours=3.0, sessions_completed=2, status="completed"))
    for session in sessions:
        scheduling_event(publish, "session_completed", session)
    records = {e["data"]["member_no"]: e["data"] for e in take(2, timeout=30)}
    assert (records["E1"]["status"], records["E1"]["attended_hours"]) == ("completed", 3.0)
    assert (records["E2"]["status"], records["E2"]["attended_hours"]) == ("incomplete", 0.0)
    [year] = rpc.enrollment.study_hours("E1")["years"]
    assert (year["year"], year["class_hours"], year["total_hours"]) == (TODAY.year, 3.0, 3.0)


def test_a_cancelled_class_releases_everyone_on_the_broker(enrollment, rpc, publish, capture):
    take = capture("enrollment_withdrawn")
    class_id, _ = published_class(rpc, publish, offline_capacity=1)
    rpc.enrollment.nominate(class_id, {"member_nos": ["E1", "E2"]})
    scheduling_event(publish, "class_cancelled", class_published_data(class_id, offline_capacity=1,
                                                         status="cancelled"))
    released = take(2)
    assert {(e["data"]["member_no"], e["data"]["status"]) for e in released} == {
        ("E1", "released"), ("E2", "released")}
    assert {e["data"]["committee_code"] for e in released} == {"FX01"}


def test_a_batch_of_check_ins_over_rpc_records_each_and_refuses_each_on_its_own(
        enrollment, rpc, publish, capture):
    take = capture("attendance_recorded")
    class_id, [session] = published_class(rpc, publish)
    rpc.enrollment.nominate(class_id, {"member_nos": ["E1", "E2", "E3"]})
    sid = session["session_id"]
    at = (STARTS + timedelta(minutes=5)).isoformat()
    answer = rpc.enrollment.check_in_batch(sid, {"entries": [
        {"member_no": "E1", "status": "present", "at": at},
        {"member_no": "E5", "status": "present", "at": at},             # not enrolled
        {"member_no": "E2", "status": "leave", "at": None},
        {"member_no": "E3", "at": (STARTS + timedelta(hours=5)).isoformat()},   # far outside
        {"member_no": "E1", "status": "present", "at": at},             # no change
    ]})
    assert (answer["recorded"], answer["unchanged"]) == (3, 1)
    assert answer["refused"] == [{"index": 1, "member_no": "E5", "rule": "enrolled",
                                  "reason": "E5 is not enrolled in the session's class"}]
    assert [(f["kind"], f["member_no"]) for f in answer["flags"]] == [
        ("checkin_outside_time", "E3")]
    assert attendance_of(rpc, sid) == {"E1": "present", "E2": "leave", "E3": "present"}
    events = take(3)
    assert sorted((e["data"]["member_no"], e["data"]["status"]) for e in events) == [
        ("E1", "present"), ("E2", "leave"), ("E3", "present")]
    single = rpc.enrollment.check_in(sid, {"member_no": "E2", "status": "present"})
    assert single["recorded"] and single["entry"]["correction"] is True


def test_a_malformed_batch_is_refused_naming_the_entry_and_field(enrollment, rpc, publish):
    _class_id, [session] = published_class(rpc, publish)
    with pytest.raises(InvalidInput) as refused:
        rpc.enrollment.check_in_batch(session["session_id"], {"entries": [
            {"member_no": "E1", "status": "online"}]})
    assert refused.value.errors == {"entries": {"0": {"status": [
        "Must be one of: present, leave."]}}}


# -- the open live broadcast ---------------------------------------------------------------------

SECRETARIES = [
    {"row": 2, "member_no": "S1", "name": "书记甲", "org_code": "FX0102",
     "joined_on": "2005-07-01", "employment": "enterprise", "secretary_of": "FX0102"},
    {"row": 3, "member_no": "S2", "name": "书记乙", "org_code": "FX0101",
     "joined_on": "2005-07-01", "employment": "other", "secretary_of": "FX0101"},
]


def open_broadcast(rpc, publish):
    """A residential secretaries' live class open online to every secretary it admits, with
    one session; S1 (residential) and S2 (village) secretaries, nobody nominated."""
    rpc.enrollment.import_members(SECRETARIES)
    return published_class(
        rpc, publish, track="secretaries", delivery="live", offline_capacity=0,
        online_open=True, audience={"sector": "residential", "module": "advanced",
                                    "category": None})


def test_a_never_nominated_secretary_watching_an_open_broadcast_is_enrolled_and_counted(
        enrollment, rpc, publish, live_platform, capture):
    take = capture("enrollment_confirmed", "attendance_recorded")
    class_id, [session] = open_broadcast(rpc, publish)
    live_platform(viewer_body(session["session_id"], "S1", 90))
    events = take(2, match=lambda d: d.get("member_no") == "S1")
    by_type = {e["type"]: e["data"] for e in events}
    assert {k: by_type["enrollment_confirmed"][k] for k in ("class_id", "mode", "status",
                                                            "origin", "sector")} == {
        "class_id": class_id, "mode": "online", "status": "confirmed", "origin": "live",
        "sector": "residential"}
    assert (by_type["attendance_recorded"]["status"],
            by_type["attendance_recorded"]["enrollment_id"]) == (
        "online", by_type["enrollment_confirmed"]["enrollment_id"])
    assert rpc.enrollment.list_anomalies({"class_id": class_id})["total"] == 0


def test_a_viewer_the_broadcasts_audience_does_not_admit_is_only_flagged(
        enrollment, rpc, publish, live_platform, capture, dead_letters):
    take = capture("enrollment_confirmed", "attendance_recorded")
    class_id, [session] = open_broadcast(rpc, publish)
    live_platform(viewer_body(session["session_id"], "S2", 90))   # a village secretary
    flags = wait_until(lambda: rpc.enrollment.list_anomalies({"class_id": class_id})["items"],
                       message="the flag")
    assert [(f["kind"], f["member_no"], f["label"], f["detail"]["rule"]) for f in flags] == [
        ("online_not_enrolled", "S2", "未报名人员观看直播", "eligibility")]
    with pytest.raises(AssertionError):
        take(1, timeout=1.0)
    assert rpc.enrollment.list_enrolments(class_id)["total"] == 0
    assert dead_letters(1, timeout=0.5) == []


# -- reviewed nominations and a class that changes -------------------------------------------------

def test_reviewed_nominations_wait_then_are_accepted_or_rejected(enrollment, rpc, publish,
                                                                  capture):
    take = capture("enrollment_nominated", "enrollment_confirmed", "enrollment_waitlisted",
                   "enrollment_rejected")
    class_id, _ = published_class(rpc, publish, offline_capacity=1, delivery="offline",
                                  review_nominations=True)
    nominated = {e["member_no"]: e for e in rpc.enrollment.nominate(
        class_id, {"member_nos": ["E1", "E2", "E3"]})["enrolled"]}
    waiting = take(3)
    assert {(e["type"], e["data"]["status"]) for e in waiting} == {
        ("enrollment_nominated", "nominated")}
    rpc.enrollment.accept_nomination(nominated["E2"]["enrollment_id"], "district_admin:-")
    rpc.enrollment.accept_nomination(nominated["E1"]["enrollment_id"], "district_admin:-")
    rpc.enrollment.reject_nomination(nominated["E3"]["enrollment_id"], {"reason": "不符合条件"})
    decided = take(3)
    assert [(e["type"], e["data"]["member_no"], e["data"]["reason"]) for e in decided] == [
        ("enrollment_confirmed", "E2", None), ("enrollment_waitlisted", "E1", None),
        ("enrollment_rejected", "E3", "不符合条件")]
    with pytest.raises(InvalidInput) as blank:
        rpc.enrollment.reject_nomination(nominated["E3"]["enrollment_id"], {})
    assert "reason" in blank.value.errors


def test_a_class_change_raising_the_capacity_promotes_the_waitlist(enrollment, rpc, publish,
                                                                   capture):
    take = capture("enrollment_confirmed")
    class_id, _ = published_class(rpc, publish, offline_capacity=1, delivery="offline")
    rpc.enrollment.nominate(class_id, {"member_nos": ["E1", "E2", "E3"]})
    take(1)   # E1's seat
    scheduling_event(publish, "class_changed", class_published_data(
        class_id, offline_capacity=2, delivery="offline", sequence=2,
        changed=["offline_capacity"]))
    [promoted] = take(1)
    assert (promoted["data"]["member_no"], promoted["data"]["origin"]) == ("E2", "nomination")
    # An older change arriving late (another queue) changes nothing.
    scheduling_event(publish, "class_changed", class_published_data(
        class_id, offline_capacity=5, delivery="offline", sequence=1,
        changed=["offline_capacity"]))
    wait_until(lambda: rpc.enrollment.class_places(class_id)["offline_confirmed"] == 2,
               message="two seated")
    places = rpc.enrollment.get_class(class_id)
    assert (places["offline_capacity"], places["sequence"]) == (2, 2)
    assert rpc.enrollment.class_places(class_id)["waitlisted"] == 1
