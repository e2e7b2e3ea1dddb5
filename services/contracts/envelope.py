"""The event envelope every message carries (modelled on CloudEvents: id, type, source, time)."""

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from marshmallow import RAISE, Schema, ValidationError, fields, validate

# Characters of a reason: it travels in a dead letter's AMQP header, which must fit one frame
# (128 KB); a longer one had failed every republish and looped until the redelivery limit.
REASON_LIMIT = 1000


class ContractError(ValueError):
    """A message that does not meet its contract; retrying cannot fix it."""

    def __init__(self, reason: str, errors: dict | None = None):
        if len(reason) > REASON_LIMIT:   # it may echo a body's key of megabytes
            reason = reason[:REASON_LIMIT - 1] + "…"
        super().__init__(reason)
        self.reason = reason
        self.errors = errors or {}


class EnvelopeSchema(Schema):
    class Meta:
        unknown = RAISE

    id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.Length(min=1, max=100))
    source = fields.String(required=True, validate=validate.Length(min=1, max=100))
    occurred_at = fields.AwareDateTime(required=True)
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    data = fields.Dict(required=True)


_envelope = EnvelopeSchema()


@dataclass(frozen=True)
class Event:
    """A validated event. `data` holds the contract's loaded values; `payload` the wire form."""

    id: str
    type: str
    source: str
    occurred_at: datetime
    version: int
    data: dict
    payload: dict = field(repr=False, compare=False)

    def body(self) -> bytes:
        return dump_body(self.payload).encode()


def format_errors(errors: dict, prefix: str = "") -> str:
    """Flatten marshmallow's nested errors into `field: reason; …`."""
    parts = []
    for key, value in sorted(errors.items(), key=lambda kv: str(kv[0])):
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            parts.append(format_errors(value, f"{name}."))
        else:
            reasons = value if isinstance(value, list) else [value]
            parts.append(f"{name}: {' '.join(str(r) for r in reasons)}")
    return "; ".join(parts)


def parse_envelope(body: bytes | str) -> dict:
    """Decode and check the envelope alone; raises ContractError naming what is wrong."""
    try:
        raw = json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
    except UnicodeDecodeError as exc:
        raise ContractError(f"body is not JSON: not UTF-8 text ({exc.reason} at byte "
                            f"{exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ContractError(f"body is not JSON: {exc}") from None
    except (RecursionError, ValueError) as exc:
        # Nesting deeper than Python recurses, or an integer past its 4,300 digits: json
        # raises these, not JSONDecodeError, and they had killed the consumer.
        raise ContractError(f"body is not JSON we can read: {str(exc)[:200]}") from None
    return check_envelope(raw)


_KEYS = frozenset(("id", "type", "source", "occurred_at", "version", "data"))
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")


def _plainly_valid(raw: dict) -> bool:
    """The everyday envelope, checked without marshmallow (whose check was about 6% of a busy
    consumer's time): it accepts only what the schema accepts, and anything else goes to the
    schema, which names what is wrong."""
    try:
        kind, source, version, moment = (raw["type"], raw["source"], raw["version"],
                                         raw["occurred_at"])
        return (raw.keys() == _KEYS and type(version) is int and version >= 1
                and isinstance(raw["data"], dict)
                and type(kind) is str and 0 < len(kind) <= 100
                and type(source) is str and 0 < len(source) <= 100
                and type(raw["id"]) is str and uuid.UUID(raw["id"]) is not None
                and type(moment) is str and ISO_TIME.fullmatch(moment) is not None
                and datetime.fromisoformat(moment).tzinfo is not None)
    except (KeyError, ValueError):
        return False


def check_envelope(raw) -> dict:
    if not isinstance(raw, dict):
        raise ContractError("body is not a JSON object")
    if _plainly_valid(raw):
        return raw
    try:
        _envelope.load(raw)
    except ValidationError as exc:
        raise ContractError(f"envelope: {format_errors(exc.messages)}", exc.messages) from None
    return raw


def dump_payload(event_id: str, source: str, type_: str, version: int, data: dict,
                 occurred_at: datetime | None = None) -> dict:
    return {
        "id": event_id,
        "type": type_,
        "source": source,
        "occurred_at": (occurred_at or datetime.now(UTC)).isoformat(),
        "version": version,
        "data": data,
    }


def new_event_id() -> str:
    return str(uuid.uuid4())


# Compact UTF-8 JSON, the encoder made once: a bulk write writes tens of thousands of bodies.
_write_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def dump_body(payload) -> str:
    """The wire text of an envelope (dump_payload) or of any part of one."""
    return _write_json(payload)


@dataclass(frozen=True)
class EnvelopeText:
    """The wire text shared by events of one source, type, version and moment, around each
    one's id and data: `head + id + middle + data's JSON + tail` is exactly what Event.body()
    writes for it. For writing many events at once: what they share is written once (and
    PostgreSQL, building the member import's events, fills in the rest itself)."""

    head: str
    middle: str
    tail: str

    def body(self, event_id: str, data: dict) -> str:
        """One event's envelope; `data` in its wire form (the contract's dump)."""
        return f"{self.head}{event_id}{self.middle}{_write_json(data)}{self.tail}"


def envelope_text(source: str, type_: str, version: int, occurred_at: datetime) -> EnvelopeText:
    """dump_payload's envelope for these events, cut where the id and the data go. An id (a
    UUID) is written as it is inside its quotes; the data's object takes the place of its
    quoted stand-in."""
    id_slot, data_slot = "\x00id\x00", "\x00data\x00"
    text = dump_body(dump_payload(id_slot, source, type_, version, data_slot, occurred_at))
    head, rest = text.split(dump_body(id_slot)[1:-1])
    middle, tail = rest.split(dump_body(data_slot))   # dump_payload writes the id first
    return EnvelopeText(head, middle, tail)
