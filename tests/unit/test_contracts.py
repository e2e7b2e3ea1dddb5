"""The event contracts: every type of DESIGN §2 has a v1 schema, and the envelope is exact."""

import contextlib
import json
from datetime import datetime

import pytest

from services.contracts import CONTRACTS, ContractError, new_event, parse_event
from services.contracts.examples import EXAMPLES

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

SAMPLES = EXAMPLES


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


@pytest.mark.parametrize("spelling", [str.upper, lambda i: "{" + i + "}",
                                      lambda i: "urn:uuid:" + i, lambda i: i.replace("-", "")])
def test_an_event_id_in_another_spelling_is_the_same_event(spelling):
    """The inbox dedupes on the id: a redelivery whose id came back in capitals (or braces)
    must be known as the event already handled, not counted a second time."""
    event = new_event("live_platform", "viewer_attended", SAMPLES["viewer_attended"])
    payload = {**event.payload, "id": spelling(event.id)}
    again = parse_event(json.dumps(payload))
    assert again.id == event.id
    assert again.payload["id"] == event.id


@pytest.mark.parametrize("field,value", [("member_no", "3101200000001\n"),
                                         ("session_id", "{session}\n")])
def test_a_code_or_id_with_a_trailing_newline_is_refused(field, value):
    """Python's `$` matches before a final newline: "FX01\n" would be FX01's twin."""
    event = new_event("live_platform", "viewer_attended", SAMPLES["viewer_attended"])
    data = event.payload["data"]
    value = value.replace("{session}", data["session_id"])
    payload = {**event.payload, "data": {**data, field: value}}
    with pytest.raises(ContractError, match=f"data: {field}:"):
        parse_event(json.dumps(payload))


def test_fields_a_newer_producer_adds_are_ignored_not_refused():
    event = new_event("live_platform", "viewer_attended", SAMPLES["viewer_attended"])
    payload = {**event.payload, "data": {**event.payload["data"], "device": "tv"}}
    assert "device" not in parse_event(json.dumps(payload)).data


def test_a_producer_cannot_emit_an_event_that_breaks_its_own_contract():
    with pytest.raises(ContractError, match="hours"):
        new_event("scheduling", "session_completed", {**SAMPLES["session_completed"], "hours": -1})


ENVELOPE = {"id": "5b7a2e0c-3f1d-4e8a-9c2b-1d4e5f6a7b8c", "type": "viewer_attended",
            "source": "live_platform", "occurred_at": "2026-03-02T09:00:00.123456+08:00",
            "version": 1, "data": {}}
ENVELOPE_VARIANTS = [
    {}, {"occurred_at": "2026-03-02T01:00:00Z"}, {"occurred_at": "2026-03-02T09:00:00"},
    {"occurred_at": "2026-03-02 09:00:00+08:00"}, {"occurred_at": "20260302T090000+0800"},
    {"occurred_at": "2026-02-30T09:00:00+08:00"}, {"occurred_at": 1767225600},
    {"id": "not-a-uuid"}, {"id": "5B7A2E0C3F1D4E8A9C2B1D4E5F6A7B8C"}, {"id": 5},
    {"version": True}, {"version": 0}, {"version": 2.0}, {"version": "1"},
    {"type": ""}, {"type": "x" * 101}, {"source": None}, {"data": []}, {"extra": 1},
]


@pytest.mark.parametrize("change", ENVELOPE_VARIANTS)
def test_the_envelopes_fast_check_accepts_only_what_the_schema_accepts(change):
    from marshmallow import ValidationError

    from services.contracts.envelope import _envelope, _plainly_valid

    raw = {**ENVELOPE, **change}
    if _plainly_valid(raw):
        _envelope.load(raw)   # raises if the fast check let through what the schema refuses
    else:
        with contextlib.suppress(ValidationError):
            _envelope.load(raw)   # the schema decides, and names what is wrong
    missing = {k: v for k, v in ENVELOPE.items() if k != "data"}
    assert not _plainly_valid(missing)


def test_the_everyday_envelope_takes_the_fast_check():
    from services.contracts.envelope import _plainly_valid

    assert _plainly_valid(dict(ENVELOPE))
    assert _plainly_valid({**ENVELOPE, "occurred_at": "2026-03-02T01:00:00Z"})
