"""What enrollment tells the others: the data of each event it emits, and how a use case hands
its events to the outbox (many at once: a completed session can emit a thousand records).

Names of people never go into an event (DESIGN §2: no more personal data than reports need).
"""

import json
import secrets
import time
from datetime import date, datetime

from marshmallow import ValidationError, missing
from marshmallow.fields import Date, Nested, String
from marshmallow.validate import Regexp
from sqlalchemy import insert

from services.contracts import ContractError, schema_for
from services.contracts.envelope import dump_payload
from services.contracts.topology import exchange_name
from services.kit import clock
from services.kit.models import outbox
from services.kit.outbox import page_rows

SOURCE = "enrollment"


class Emitter:
    """Collects (event type, data) in the order a use case raises them."""

    def __init__(self):
        self.events: list[tuple[str, dict]] = []

    def __call__(self, event_type: str, data: dict) -> None:
        self.events.append((event_type, data))

    def of_type(self, event_type: str) -> list[dict]:
        return [data for kind, data in self.events if kind == event_type]


def write_many_to_outbox(session, event_type: str, datas: list[dict]) -> int:
    """Many events of one type (a session's absences, a batch of check-ins): the contract
    checks each distinct value of each field once, and they go to the outbox a page of them
    per row (kit.outbox.page_rows), with ids that follow one another (`ordered_id_prefix`)."""
    if not datas:
        return 0
    schema = schema_for(SOURCE, event_type, 1)
    wire = [{k: _wire(v) for k, v in data.items()} for data in datas]
    check_many(schema, wire)   # raises if a producer broke its own contract
    now = clock.now()
    head = envelope_head(event_type, now)
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    bodies = []
    prefix = ordered_id_prefix()
    for n, data in enumerate(wire, start=1):
        if n % ORDERED_IDS == 0:
            prefix = ordered_id_prefix()
        bodies.append(f'{{"id":"{prefix}{n % ORDERED_IDS:06x}{head}{dumps(data)}}}')
    session.execute(insert(outbox), page_rows(exchange_name(SOURCE), event_type, bodies, now))
    return len(bodies)


ORDERED_IDS = 1 << 24


def envelope_head(event_type: str, now: datetime) -> str:
    """What comes between an envelope's id and its data, as dump_payload writes the envelope
    (id first, data last): `{"id":"<id>` + this + `<data>}` is the whole event."""
    envelope = json.dumps(dump_payload("", SOURCE, event_type, 1, {}, now),
                          ensure_ascii=False, separators=(",", ":"))
    return envelope[len('{"id":"'):-len("{}}")]


def ordered_id_prefix() -> str:
    """The first 30 characters of up to 2**24 event ids that follow one another: a UUID of
    version 7 (RFC 9562: milliseconds since 1970, then random bits), whose last 24 bits the
    caller counts up (six hex digits). Ids in order go to the end of the outbox's unique index;
    random ones (version 4) land all over it, which made writing 60,000 events 60% slower."""
    ms = time.time_ns() // 1_000_000
    rand = secrets.randbits(50)
    head = f"{ms & 0xFFFFFFFFFFFF:012x}"
    return (f"{head[:8]}-{head[8:]}-7{rand >> 38:03x}-{0x8000 | (rand >> 24) & 0x3FFF:04x}-"
            f"{rand & 0xFFFFFF:06x}")


def check_many(schema, rows: list[dict]) -> None:
    """What `schema.load(rows, many=True)` checks, at a fraction of its cost: in a flat schema
    (no nested fields, no schema-level hooks) every field is checked on its own, so checking
    each distinct value of each field once is the same check. 60,000 person_changed carry
    far fewer distinct organisations, dates and employments than rows."""
    if not _flat(schema):
        schema.load(rows, many=True)
        return
    values = {}
    for name, field in schema.load_fields.items():
        key = field.data_key or name
        try:
            values[key] = {row.get(key, missing) for row in rows}
        except TypeError:            # an unhashable value: let marshmallow say what is wrong
            schema.load(rows, many=True)
            return
    check_values(schema, values)


def check_values(schema, values: dict[str, set]) -> None:
    """The contract's check of events whose fields take these values (wire form, `missing`
    for an absent field), each distinct value once: for events built where Python does not see
    them one by one (the member import's, built by PostgreSQL from checked values)."""
    if not _flat(schema):
        raise TypeError(f"{type(schema).__name__} is not flat: check the events themselves")
    for name, field in schema.load_fields.items():
        key = field.data_key or name
        seen = values.get(key, {missing})
        try:
            _check_field(field, key, seen)
        except ValidationError as exc:
            raise ContractError(f"data: {key}: {' '.join(map(str, exc.messages))}",
                                {key: exc.messages}) from None


def _flat(schema) -> bool:
    return not any(schema._hooks.values()) and not any(
        isinstance(f, Nested) for f in schema.load_fields.values())


def _check_field(field, key: str, values) -> None:
    """`field.deserialize` for each value, with two shortcuts that do exactly what it would:
    a text value of a plain String field goes straight to its validators (a regular
    expression is matched directly: 60,000 member numbers), and a date for a Date field
    without validators is one already."""
    if type(field) is String:
        patterns = [v.regex for v in field.validators if type(v) is Regexp]
        others = [v for v in field.validators if type(v) is not Regexp]
        texts = [value for value in values if type(value) is str]
        rest = [value for value in values if type(value) is not str]
        for pattern in patterns:
            matched = list(map(pattern.match, texts))
            if None in matched:   # marshmallow says what is wrong with those
                rest.extend(v for v, m in zip(texts, matched, strict=True) if m is None)
                texts = [v for v, m in zip(texts, matched, strict=True) if m is not None]
        for validate in others:
            for value in texts:
                validate(value)
        values = rest
    elif type(field) is Date and not field.validators:
        values = [v for v in values if type(v) is not date]
    for value in values:
        field.deserialize(value, key, None)


def _wire(value):
    return value.isoformat() if isinstance(value, date | datetime) else value


# -- event data ---------------------------------------------------------------------------------

def enrollment_data(enrollment, **changes) -> dict:
    """The enrolment as an event; `changes` are values just written by a set-based update."""
    return {
        "enrollment_id": enrollment.enrollment_id, "class_id": enrollment.class_id,
        "member_no": enrollment.member_no, "org_code": enrollment.org_code,
        "committee_code": enrollment.committee_code, "sector": enrollment.sector,
        "category": enrollment.category, "mode": enrollment.mode, "status": enrollment.status,
        "reason": enrollment.reason, **changes,
    }


def enrollment_event_type(status: str) -> str:
    return {"confirmed": "enrollment_confirmed", "waitlisted": "enrollment_waitlisted"}.get(
        status, "enrollment_withdrawn")


def attendance_data(entry, correction: bool | None = None) -> dict:
    return {
        "enrollment_id": entry.enrollment_id, "session_id": entry.session_id,
        "class_id": entry.class_id, "member_no": entry.member_no, "status": entry.status,
        "hours_earned": entry.hours_earned, "recorded_at": entry.recorded_at,
        "correction": entry.correction if correction is None else correction,
    }


def completion_data(enrollment, year: int, attended_hours: float, class_hours: float,
                    status: str | None = None) -> dict:
    return {
        "enrollment_id": enrollment.enrollment_id, "class_id": enrollment.class_id,
        "member_no": enrollment.member_no, "year": year, "status": status or enrollment.status,
        "attended_hours": attended_hours, "class_hours": class_hours,
        "org_code": enrollment.org_code, "committee_code": enrollment.committee_code,
        "sector": enrollment.sector, "category": enrollment.category,
    }


def organisation_data(org) -> dict:
    return {
        "org_code": org.org_code, "name": org.name, "parent_code": org.parent_code,
        "kind": org.kind, "sector": org.sector,
        "secretary_member_no": org.secretary_member_no,
    }


def person_data(member_no: str, org_code: str | None, committee_code: str | None,
                joined_on, employment: str | None, secretary_of: str | None,
                active: bool) -> dict:
    return {
        "member_no": member_no, "org_code": org_code, "committee_code": committee_code,
        "joined_on": joined_on, "employment": employment, "secretary_of": secretary_of,
        "active": active,
    }
