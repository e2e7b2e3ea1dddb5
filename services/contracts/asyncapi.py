"""The AsyncAPI document for the systems that publish into peixun or read its events, generated
from the contracts: `python -m services.contracts.asyncapi > docs/asyncapi.json`."""

import json
import uuid
from datetime import UTC, datetime

from marshmallow import Schema, fields, validate

from . import CONTRACTS, schema_for
from .envelope import EnvelopeSchema, dump_payload
from .examples import EXAMPLES
from .topology import exchange_name

INBOUND = {"live_platform", "member_registry"}   # sources outside peixun
EXAMPLE_TIME = datetime(2026, 5, 6, 9, 30, tzinfo=UTC)

DESCRIPTIONS = {
    "live_platform": "the municipal remote-education live platform (直播课堂)",
    "member_registry": "the party-member registry",
    "scheduling": "peixun's scheduling service",
    "enrollment": "peixun's enrollment service",
    "reporting": "peixun's reporting service",
}


def field_schema(field: fields.Field) -> dict:
    """JSON Schema (draft-07) of one marshmallow field."""
    if isinstance(field, fields.Nested):
        schema = object_schema(field.schema)
    elif isinstance(field, fields.List):
        schema = {"type": "array", "items": field_schema(field.inner)}
    elif isinstance(field, fields.Boolean):
        schema = {"type": "boolean"}
    elif isinstance(field, fields.Integer):
        schema = {"type": "integer"}
    elif isinstance(field, fields.Float | fields.Number):
        schema = {"type": "number"}
    elif isinstance(field, fields.AwareDateTime | fields.DateTime):
        schema = {"type": "string", "format": "date-time"}
    elif isinstance(field, fields.Date):
        schema = {"type": "string", "format": "date"}
    elif isinstance(field, fields.UUID):
        schema = {"type": "string", "format": "uuid"}
    elif isinstance(field, fields.Dict):
        schema = {"type": "object"}
    else:
        schema = {"type": "string"}
    for validator in field.validators:
        if isinstance(validator, validate.OneOf):
            schema["enum"] = list(validator.choices)
        elif isinstance(validator, validate.Regexp):
            schema["pattern"] = validator.regex.pattern
        elif isinstance(validator, validate.Length):
            if validator.min is not None:
                schema["minLength"] = validator.min
            if validator.max is not None:
                schema["maxLength"] = validator.max
        elif isinstance(validator, validate.Range):
            if validator.min is not None:
                schema["minimum"] = validator.min
            if validator.max is not None:
                schema["maximum"] = validator.max
    if field.allow_none:
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
    return schema


def object_schema(schema: Schema) -> dict:
    return {
        "type": "object",
        "properties": {name: field_schema(f) for name, f in schema.fields.items()},
        "required": sorted(name for name, f in schema.fields.items() if f.required),
    }


def example_payload(source: str, event_type: str, version: int) -> dict:
    """A fixed id and time, so the document is the same every time it is generated."""
    data = schema_for(source, event_type, version).dump(EXAMPLES[event_type])
    event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"peixun:{source}.{event_type}.v{version}"))
    return dump_payload(event_id, source, event_type, version, data, EXAMPLE_TIME)


def envelope_schema(source: str, event_type: str, version: int, data_ref: str) -> dict:
    envelope = object_schema(EnvelopeSchema())
    envelope["additionalProperties"] = False
    envelope["properties"].update({
        "type": {"type": "string", "const": event_type},
        "source": {"type": "string", "const": source},
        "version": {"type": "integer", "const": version},
        "data": {"$ref": data_ref},
    })
    return envelope


def document() -> dict:
    channels, messages, schemas = {}, {}, {}
    for (source, event_type), versions in sorted(CONTRACTS.items()):
        for version, schema_cls in sorted(versions.items()):
            name = f"{source}.{event_type}.v{version}"
            schemas[name] = object_schema(schema_cls())
            example = example_payload(source, event_type, version)
            messages[name] = {
                "name": event_type,
                "title": f"{event_type} (version {version})",
                "contentType": "application/json",
                "payload": envelope_schema(source, event_type, version,
                                           f"#/components/schemas/{name}"),
                "examples": [{"name": "example", "payload": example}],
            }
        exchange = exchange_name(source)
        operation = {"message": {"oneOf": [
            {"$ref": f"#/components/messages/{source}.{event_type}.v{v}"}
            for v in sorted(versions)]}}
        channels[f"{exchange}/{event_type}"] = {
            "description": f"Events `{event_type}` from {DESCRIPTIONS[source]}: exchange "
                           f"`{exchange}` (topic, durable), routing key `{event_type}`.",
            "bindings": {"amqp": {
                "is": "routingKey",
                "exchange": {"name": exchange, "type": "topic", "durable": True,
                             "autoDelete": False, "vhost": "/"},
                "bindingVersion": "0.2.0",
            }},
            # AsyncAPI 2: `publish` is what others send to peixun, `subscribe` what they read.
            ("publish" if source in INBOUND else "subscribe"): {
                "operationId": f"{'publish' if source in INBOUND else 'receive'}_{source}_"
                               f"{event_type}",
                "bindings": {"amqp": {"deliveryMode": 2, "bindingVersion": "0.2.0"}},
                **operation,
            },
        }
    return {
        "asyncapi": "2.6.0",
        "id": "urn:peixun:events",
        "info": {
            "title": "peixun events",
            "version": "1.0.0",
            "description": (
                "Every event is a JSON envelope (id, type, source, occurred_at, version, data) "
                "published persistent to the topic exchange `<source>.events` with the event "
                "type as routing key. A message that fails its contract is kept in the queue "
                "`peixun.dead_letters` (exchange `peixun.dlx`) with the header "
                "`x-peixun-reason`, never dropped."),
        },
        "servers": {"broker": {"url": "localhost:5672", "protocol": "amqp",
                               "protocolVersion": "0.9.1"}},
        "defaultContentType": "application/json",
        "channels": channels,
        "components": {"messages": messages, "schemas": schemas},
    }


def render() -> str:
    return json.dumps(document(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
