"""The hostile fault run's messages (chaos.hostile_messages): each one breaks its contract, so the
harness may count it as a dead letter without asking the services; and the contract refuses the
worst of them with a ContractError instead of an exception that kills a consumer."""

import json
from collections import Counter

import pytest

from chaos.hostile_messages import KINDS, draw, hostile_messages, valid_envelope
from services.contracts import CONTRACTS, ContractError, parse_event

EVERYDAY = json.dumps({
    "id": "7aa9fabe-8c20-4cc0-8440-c0c1d36f32eb", "type": "viewer_attended",
    "source": "live_platform", "occurred_at": "2026-01-01T08:00:00+08:00", "version": 1,
    "data": {"session_id": "1c5bc8e2-72a9-4365-8f67-0fb220870763", "member_no": "C000001",
             "watched_minutes": 54.0}})
TARGETS = [("live_platform", "viewer_attended"), ("member_registry", "member_changed"),
           ("scheduling", "session_completed"), ("enrollment", "attendance_recorded")]


@pytest.fixture(scope="module")
def messages():
    return hostile_messages(120, TARGETS)


@pytest.mark.parametrize(("source", "event_type"), sorted(CONTRACTS))
def test_the_envelopes_drawn_from_a_contract_meet_it(source, event_type):
    for envelope in draw(valid_envelope(source, event_type), 5):
        parse_event(json.dumps(envelope), source=source, event_type=event_type)


def test_every_hostile_message_breaks_its_contract(messages):
    for message in messages:
        with pytest.raises(ContractError):
            parse_event(message.body, source=message.source, event_type=message.event_type)


def test_every_kind_of_hostile_message_is_in_the_run(messages):
    assert set(Counter(m.kind for m in messages)) == set(KINDS)


def test_the_draw_is_the_same_on_every_run(messages):
    assert [m.body for m in hostile_messages(120, TARGETS)] == [m.body for m in messages]


@pytest.mark.parametrize("body", [b"[" * 20_000 + b"]" * 20_000,
                                  b'{"data": ' + b'{"a":' * 5_000 + b"1" + b"}" * 5_001])
def test_a_body_nested_deeper_than_python_recurses_is_refused_not_raised(body):
    with pytest.raises(ContractError, match="not JSON"):
        parse_event(body)


@pytest.mark.parametrize("body", [b"9" * 5_000, b'{"version": 1' + b"0" * 5_000 + b"}"])
def test_an_integer_past_pythons_digit_limit_is_refused_not_raised(body):
    with pytest.raises(ContractError, match="not JSON"):
        parse_event(body)


def test_a_reason_stays_short_enough_for_a_dead_letters_header_whatever_the_body_says():
    envelope = json.loads(EVERYDAY) | {"k" * 3_000_000: 1}
    with pytest.raises(ContractError) as refused:
        parse_event(json.dumps(envelope))
    assert refused.value.reason.startswith("envelope: kkk")
    assert len(refused.value.reason) <= 1000
