"""The AsyncAPI document: valid AsyncAPI 2.6, in step with the contracts, examples that pass."""

import json
from pathlib import Path

import jsonschema
import pytest

from services.contracts import CONTRACTS, parse_event
from services.contracts.asyncapi import document, render

ROOT = Path(__file__).resolve().parents[2]


def test_the_document_validates_against_the_asyncapi_2_6_schema():
    schema = json.loads((ROOT / "tests/data/asyncapi-2.6.0.json").read_text())
    jsonschema.Draft7Validator(schema).validate(document())


def test_the_published_document_is_the_generated_one():
    assert (ROOT / "docs/asyncapi.json").read_text() == render(), \
        "regenerate: python -m services.contracts.asyncapi > docs/asyncapi.json"


@pytest.mark.parametrize("name", sorted(document()["components"]["messages"]))
def test_each_example_passes_its_contract_and_its_json_schema(name):
    message = document()["components"]["messages"][name]
    payload = message["examples"][0]["payload"]
    parse_event(json.dumps(payload), source=payload["source"], event_type=payload["type"])
    resolver_doc = document()
    schema = dict(message["payload"])
    schema["properties"] = dict(schema["properties"])
    schema["properties"]["data"] = resolver_doc["components"]["schemas"][name]
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(
        payload)


def test_every_contract_has_a_channel_with_its_exchange_and_routing_key():
    channels = document()["channels"]
    for source, event_type in CONTRACTS:
        binding = channels[f"{source}.events/{event_type}"]["bindings"]["amqp"]
        assert binding["exchange"]["name"] == f"{source}.events"
        assert binding["exchange"]["type"] == "topic"
