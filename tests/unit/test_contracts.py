"""The event contracts: every type of DESIGN §2 has a v1 schema, and the envelope is exact."""

import json
import uuid
from datetime import UTC, date, datetime

import pytest

from services.contracts import CONTRACTS, ContractError, new_event, parse_event

DESIGN_EVENT_TYPES = {
    "scheduling": ["program_changed", "class_published", "class_cancelled", "class_completed",
                   "session_scheduled", "session_rescheduled", "session_cancelled",
                   "session_completed"],
    "enrollment": ["organisation_changed", "person_changed", "enrollment_confirmed",
                   "enrollment_waitlisted", "enrollment_withdrawn", "attendance_recorded",
                   "completion_recorded"],
    "reporting": ["report_generated", "report_filed", "filing_acknowledged", "filing_returned"],
    "live_platform": ["viewer_attended"],
    "member_registry": ["member_changed"],
}

ID = str(uuid.uuid4())
NOW = datetime(2026, 5, 6, 1, 0, tzinfo=UTC)
CLASS = {"class_id": ID, "program_id": ID, "year": 2026, "track": "secretaries",
         "organiser_org_code": "FX", "title": "村书记班",
         "audience": {"sector": "village", "module": "basic_theory", "category": None},
         "offline_capacity": 50, "delivery": "hybrid", "start_date": date(2026, 5, 6),
         "end_date": date(2026, 5, 7), "core_theory_ratio": 0.75}
SESSION = {"session_id": ID, "class_id": ID, "course_title": "课", "core_theory": True,
           "kind": "onsite", "starts_at": NOW, "ends_at": NOW, "hours": 2.5,
           "venue_name": None, "instructor_name": "教授", "live": True, "sequence": 1}
ENROLLMENT = {"enrollment_id": ID, "class_id": ID, "member_no": "M0001", "org_code": "FX01",
              "committee_code": "FX", "sector": "village", "category": None, "mode": "offline",
              "status": "confirmed"}
FILING = {"filing_id": ID, "org_code": "FX01", "parent_code": "FX", "class_id": ID,
          "kind": "record", "version": 1, "sha256": "a" * 64, "status": "filed", "reason": None}
SAMPLES = {
    "program_changed": {"program_id": ID, "year": 2026, "track": "members",
                        "organiser_org_code": "FX", "target_person_times": 20000},
    "class_published": CLASS, "class_cancelled": CLASS, "class_completed": CLASS,
    "session_scheduled": SESSION, "session_rescheduled": SESSION,
    "session_cancelled": SESSION, "session_completed": SESSION,
    "organisation_changed": {"org_code": "FX01", "name": "某村党总支", "parent_code": "FX",
                             "kind": "grassroots", "sector": "village",
                             "secretary_member_no": "M0001"},
    "person_changed": {"member_no": "M0001", "org_code": "FX01", "committee_code": "FX",
                       "joined_on": date(2024, 7, 1), "employment": "other",
                       "secretary_of": "FX01"},
    "enrollment_confirmed": ENROLLMENT, "enrollment_waitlisted": ENROLLMENT,
    "enrollment_withdrawn": ENROLLMENT,
    "attendance_recorded": {"enrollment_id": ID, "session_id": ID, "class_id": ID,
                            "member_no": "M0001", "status": "online", "hours_earned": 2.5,
                            "recorded_at": NOW, "correction": False},
    "completion_recorded": {"enrollment_id": ID, "class_id": ID, "member_no": "M0001",
                            "year": 2026, "status": "completed", "attended_hours": 20,
                            "class_hours": 24},
    "report_generated": FILING, "report_filed": FILING, "filing_acknowledged": FILING,
    "filing_returned": {**FILING, "status": "returned", "reason": "缺少签到表"},
    "viewer_attended": {"session_id": ID, "member_no": "M0001", "watched_minutes": 96,
                        "site": "某村远程教育站点"},
    "member_changed": {"member_no": "M0001", "change": "transferred", "name": "张三",
                       "org_code": "FX02", "joined_on": date(2010, 7, 1),
                       "employment": "enterprise"},
}


@pytest.mark.parametrize("source,event_type", [
    (source, t) for source, types in DESIGN_EVENT_TYPES.items() for t in types])
def test_every_design_event_type_has_a_version_1_contract_that_round_trips(source, event_type):
    assert 1 in CONTRACTS[(source, event_type)]
    event = new_event(source, event_type, SAMPLES[event_type])
    parsed = parse_event(event.body(), source=source, event_type=event_type)
    assert parsed.id == event.id
    assert parsed.payload == json.loads(event.body())


def test_the_envelope_has_exactly_the_cloudevents_like_fields():
    event = new_event("live_platform", "viewer_attended", SAMPLES["viewer_attended"])
    assert set(event.payload) == {"id", "type", "source", "occurred_at", "version", "data"}
    assert datetime.fromisoformat(event.payload["occurred_at"]).tzinfo is not None
    with pytest.raises(ContractError, match="envelope: extra: Unknown field"):
        parse_event(json.dumps({**event.payload, "extra": 1}))
    without_id = {k: v for k, v in event.payload.items() if k != "id"}
    with pytest.raises(ContractError, match="envelope: id: Missing data"):
        parse_event(json.dumps(without_id))


def test_an_unknown_version_is_refused_naming_the_known_ones():
    event = new_event("live_platform", "viewer_attended", SAMPLES["viewer_attended"])
    with pytest.raises(ContractError, match=r"version 2 is unknown \(known: 1\)"):
        parse_event(json.dumps({**event.payload, "version": 2}))


def test_a_body_that_is_not_a_json_object_is_refused():
    with pytest.raises(ContractError, match="body is not JSON"):
        parse_event(b"\xff\xfe")
    with pytest.raises(ContractError, match="not a JSON object"):
        parse_event(b"[1, 2]")


def test_a_type_that_disagrees_with_the_routing_key_is_refused():
    event = new_event("live_platform", "viewer_attended", SAMPLES["viewer_attended"])
    with pytest.raises(ContractError, match="does not match routing key"):
        parse_event(event.body(), source="live_platform", event_type="member_changed")
    with pytest.raises(ContractError, match="does not match exchange"):
        parse_event(event.body(), source="member_registry", event_type="viewer_attended")


def test_bad_data_names_the_field_and_the_reason():
    event = new_event("live_platform", "viewer_attended", SAMPLES["viewer_attended"])
    payload = {**event.payload, "data": {**event.payload["data"], "watched_minutes": -5}}
    with pytest.raises(ContractError, match="data: watched_minutes: Must be greater than"):
        parse_event(json.dumps(payload))


def test_fields_a_newer_producer_adds_are_ignored_not_refused():
    event = new_event("live_platform", "viewer_attended", SAMPLES["viewer_attended"])
    payload = {**event.payload, "data": {**event.payload["data"], "device": "tv"}}
    assert "device" not in parse_event(json.dumps(payload)).data


def test_a_producer_cannot_emit_an_event_that_breaks_its_own_contract():
    with pytest.raises(ContractError, match="hours"):
        new_event("scheduling", "session_completed", {**SESSION, "hours": -1})
