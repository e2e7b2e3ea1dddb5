"""DESIGN §2's spine on the real RabbitMQ and PostgreSQL, seen from reporting: a session completes
and its attendance arrives → the class record shows it within a second; the class completes and
completions arrive → completions and hours appear; events of different queues in any order."""

import base64
import json
import time
from datetime import UTC, datetime

import pytest

from services.reporting.service import ReportingService
from tests.support.districts import District, send, small_district, uid
from tests.support.waiting import wait_until


@pytest.fixture
def reporting(container_factory, service_config):
    container = container_factory(ReportingService, service_config)
    container.start()
    return container


def record(rpc, class_id=None):
    try:
        answer = rpc.reporting.report("class-record", {"class_id": class_id or uid("K9")})
    except Exception:  # noqa: BLE001 - the class not seen yet
        return None
    return json.loads(base64.b64decode(answer["content_b64"]))


def a_class_with_two_people():
    w = District()
    w.org("FX", "奉贤区委", None, "district")
    w.org("C1", "南桥镇党委", "FX", "committee")
    w.org("G11", "南桥村党总支", "C1", "grassroots", "village", "S1")
    w.program("P9", 2026, "secretaries", 100)
    w.klass("class_published", "K9", "P9", 2026, "secretaries", "FX", "2026-04-01",
            "2026-04-01", {"sector": "village", "module": "advanced"})
    for s, starts in (("S9a", "2026-04-01T09:00:00+08:00"), ("S9b", "2026-04-01T14:00:00+08:00")):
        w.session("session_scheduled", s, "K9", f"课程{s}", True, starts, 2)
    w.enrol("enrollment_confirmed", "E91", "K9", "S1", "G11", "C1", "village")
    w.enrol("enrollment_confirmed", "E92", "K9", "S2", "G11", "C1", "village")
    return w


def test_a_completed_sessions_attendance_shows_in_the_class_record_within_a_second(
        reporting, publish, rpc):
    setup = a_class_with_two_people()
    send(publish, setup.events)
    wait_until(lambda: (r := record(rpc)) and len(r["participants"]) == 2
               and len(r["sessions"]) == 2, message="the class and its people")

    spine = District()
    spine.session("session_completed", "S9a", "K9", "课程S9a", True,
                  "2026-04-01T09:00:00+08:00", 2)
    spine.attend("E91", "S9a", "K9", "S1", "present", 2, "2026-04-01T11:05:00+08:00")
    spine.attend("E92", "S9a", "K9", "S2", "online", 2, "2026-04-01T11:05:00+08:00")
    started = time.monotonic()
    send(publish, spine.events)
    seen = wait_until(lambda: (r := record(rpc)) and r["summary"]["recorded"] == 2 and r,
                      timeout=1.0, interval=0.02, message="the attendance in the record")
    elapsed = time.monotonic() - started
    assert elapsed < 1.0
    first = next(s for s in seen["sessions"] if s["course_title"] == "课程S9a")
    assert (first["status"], first["present"], first["online"]) == ("completed", 1, 1)
    assert seen["summary"]["sessions_completed"] == 1
    progress = rpc.reporting.class_progress(uid("K9"))
    assert (progress["completed_sessions"], progress["completed_hours"]) == (1, 2.0)


def test_completing_the_class_brings_completions_and_hours(reporting, publish, rpc):
    send(publish, a_class_with_two_people().events)
    later = District()
    later.session("session_completed", "S9b", "K9", "课程S9b", True,
                  "2026-04-01T14:00:00+08:00", 2)
    for enrollment, member, status in (("E91", "S1", "present"), ("E92", "S2", "absent")):
        later.attend(enrollment, "S9b", "K9", member, status, 2, "2026-04-01T17:00:00+08:00")
    later.klass("class_completed", "K9", "P9", 2026, "secretaries", "FX", "2026-04-01",
                "2026-04-01", {"sector": "village", "module": "advanced"},
                at=datetime(2026, 4, 1, 10, tzinfo=UTC), class_hours=4, sessions_completed=2)
    later.complete("E91", "K9", "S1", 2026, "completed", 4, 4)
    later.complete("E92", "K9", "S2", 2026, "incomplete", 0, 4)
    send(publish, later.events)
    done = wait_until(lambda: (r := record(rpc)) and r["summary"]["completed"] == 1
                      and r["class"]["status"] == "completed" and r,
                      message="completions in the record")
    assert done["summary"]["incomplete"] == 1
    assert {p["member_no"]: p["attended_hours"] for p in done["participants"]} == \
        {"S1": 4.0, "S2": 0.0}
    summary = json.loads(base64.b64decode(
        rpc.reporting.report("annual-summary", {"year": 2026})["content_b64"]))
    secretaries = next(t for t in summary["tracks"] if t["track"] == "secretaries")
    assert (secretaries["person_times"], secretaries["target"]) == (1, 100)
    assert summary["coverage"] == {"orgs": 1, "covered": 1, "rate": 1.0}
    archive = json.loads(base64.b64decode(
        rpc.reporting.report("personal-archive", {"member_no": "S1"})["content_b64"]))
    assert archive["summary"][0]["class_hours"] == 4.0


def test_the_district_through_the_broker_in_reverse_order_gives_the_hand_computed_figures(
        reporting, publish, rpc):
    events = small_district().events
    send(publish, list(reversed(events)))   # completions before classes, corrections first
    wait_until(lambda: rpc.reporting.replay_state()["events"] == len(events), timeout=20,
               message="every event handled")
    figures = json.loads(base64.b64decode(
        rpc.reporting.report("annual-summary", {"year": 2026})["content_b64"]))
    assert [(t["track"], t["person_times"], t["target"]) for t in figures["tracks"]] == [
        ("secretaries", 2, 4), ("members", 2, 5)]
    assert figures["coverage"]["rate"] == 0.5
    k1 = record(rpc, uid("K1"))
    assert (k1["summary"]["leave"], k1["summary"]["absent"]) == (1, 0)   # the correction won
