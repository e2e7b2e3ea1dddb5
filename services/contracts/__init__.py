"""What services and other systems agree on. This module: the event contracts, one marshmallow
schema per event type and version, by source (one module per source). Beside it: `commands`
(the command schemas the gateway documents and a service validates), `vocabulary` (codes and
their Chinese labels), `rules` (what two services apply alike), `document` (the model reports
and pages draw), `imports` (the import files' columns), `topology` (exchanges and queues)."""

import uuid
from datetime import datetime

from marshmallow import Schema, ValidationError

from . import enrollment, live_platform, member_registry, reporting, scheduling
from .envelope import (
    ContractError,
    Event,
    check_envelope,
    dump_payload,
    format_errors,
    new_event_id,
    parse_envelope,
)
from .plain import plain_loader

SOURCE_MODULES = (scheduling, enrollment, reporting, live_platform, member_registry)

# (source, type) -> {version: schema class}
CONTRACTS: dict[tuple[str, str], dict[int, type[Schema]]] = {
    (module.SOURCE, event_type): versions
    for module in SOURCE_MODULES
    for event_type, versions in module.CONTRACTS.items()
}

_schemas: dict[tuple[str, str, int], Schema] = {}
_plain: dict[int, object] = {}   # id(schema) -> its plain loader, or None (plain.py)


def schema_for(source: str, event_type: str, version: int) -> Schema:
    key = (source, event_type, version)
    if key not in _schemas:
        versions = CONTRACTS.get((source, event_type))
        if versions is None:
            raise ContractError(f"type: no contract for {source}.{event_type}")
        if version not in versions:
            known = ", ".join(str(v) for v in sorted(versions))
            raise ContractError(
                f"version: {source}.{event_type} version {version} is unknown (known: {known})")
        schema = _schemas[key] = versions[version]()
        _plain[id(schema)] = plain_loader(schema)
    return _schemas[key]


def _load(schema: Schema, data: dict) -> dict:
    plain = _plain.get(id(schema))
    if plain is not None and isinstance(data, dict):
        loaded = plain(data)
        if loaded is not None:
            return loaded
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise ContractError(f"data: {format_errors(exc.messages)}", exc.messages) from None


def new_event(source: str, event_type: str, data: dict, *, version: int = 1,
              occurred_at: datetime | None = None) -> Event:
    """Build an event from domain values; a producer that breaks its own contract fails here."""
    schema = schema_for(source, event_type, version)
    wire_data = schema.dump(data)
    loaded = _load(schema, wire_data)
    payload = dump_payload(new_event_id(), source, event_type, version, wire_data, occurred_at)
    return Event(payload["id"], event_type, source, datetime.fromisoformat(payload["occurred_at"]),
                 version, loaded, payload)


def parse_event(body: bytes | str | dict, *, source: str | None = None,
                event_type: str | None = None) -> Event:
    """Check a message against its contract. `source`/`event_type` are what the routing said."""
    raw = check_envelope(body) if isinstance(body, dict) else parse_envelope(body)
    if event_type is not None and raw["type"] != event_type:
        raise ContractError(f"type: {raw['type']!r} does not match routing key {event_type!r}")
    if source is not None and raw["source"] != source:
        raise ContractError(f"source: {raw['source']!r} does not match exchange {source}.events")
    canonical = str(uuid.UUID(str(raw["id"])))
    if raw["id"] != canonical:
        # One event, one id: "{…}", "urn:uuid:…" or capitals would have counted twice.
        raw = {**raw, "id": canonical}
    schema = schema_for(raw["source"], raw["type"], raw["version"])
    loaded = _load(schema, raw["data"])
    return Event(raw["id"], raw["type"], raw["source"],
                 datetime.fromisoformat(raw["occurred_at"]), raw["version"], loaded, raw)


__all__ = [
    "CONTRACTS", "ContractError", "Event", "new_event", "parse_event", "schema_for",
]
