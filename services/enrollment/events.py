"""What enrollment tells the others: the data of each event it emits, and how a use case hands
its events to the outbox (many at once: a completed session can emit a thousand records).

Names of people never go into an event (DESIGN §2: no more personal data than reports need).
"""

import json
from datetime import UTC, date, datetime

from marshmallow import ValidationError, missing
from marshmallow.fields import Nested

from services.contracts import ContractError, new_event, schema_for
from services.contracts.envelope import dump_payload, new_event_id
from services.contracts.topology import exchange_name
from services.kit.models import outbox

from .sql import insert_rows

SOURCE = "enrollment"


class Emitter:
    """Collects (event type, data) in the order a use case raises them."""

    def __init__(self):
        self.events: list[tuple[str, dict]] = []

    def __call__(self, event_type: str, data: dict) -> None:
        self.events.append((event_type, data))

    def of_type(self, event_type: str) -> list[dict]:
        return [data for kind, data in self.events if kind == event_type]


def write_to_outbox(session, events: list[tuple[str, dict]]) -> int:
    """Write events into the outbox in the caller's transaction, checked against the contract
    like `Outbox.add`, in one multi-row insert."""
    if not events:
        return 0
    now = datetime.now(UTC)
    rows = []
    for event_type, data in events:
        event = new_event(SOURCE, event_type, data)
        rows.append({"event_id": event.id, "exchange": exchange_name(SOURCE),
                     "routing_key": event_type, "body": event.body().decode(),
                     "created_at": now})
    insert_rows(session, outbox, rows)
    return len(rows)


def write_many_to_outbox(session, event_type: str, datas: list[dict]) -> int:
    """Many events of one type (an import's person_changed): the contract checks them all in
    one `load(many=True)`, and they go to the outbox in multi-row inserts."""
    if not datas:
        return 0
    schema = schema_for(SOURCE, event_type, 1)
    wire = [{k: _wire(v) for k, v in data.items()} for data in datas]
    check_many(schema, wire)   # raises if a producer broke its own contract
    now = datetime.now(UTC)
    exchange = exchange_name(SOURCE)
    rows = []
    for data in wire:
        payload = dump_payload(new_event_id(), SOURCE, event_type, 1, data, now)
        rows.append({"event_id": payload["id"], "exchange": exchange, "routing_key": event_type,
                     "body": json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                     "created_at": now})
    insert_rows(session, outbox, rows)
    return len(rows)


def check_many(schema, rows: list[dict]) -> None:
    """What `schema.load(rows, many=True)` checks, at a fraction of its cost: in a flat schema
    (no nested fields, no schema-level hooks) every field is checked on its own, so checking
    each distinct value of each field once is the same check. 60,000 person_changed carry
    far fewer distinct organisations, dates and employments than rows."""
    fields = schema.load_fields
    if any(schema._hooks.values()) or any(isinstance(f, Nested) for f in fields.values()):
        schema.load(rows, many=True)
        return
    for name, field in fields.items():
        key = field.data_key or name
        try:
            seen = {row.get(key, missing) for row in rows}
        except TypeError:            # an unhashable value: let marshmallow say what is wrong
            schema.load(rows, many=True)
            return
        for value in seen:
            try:
                field.deserialize(value, key, None)
            except ValidationError as exc:
                raise ContractError(f"data: {key}: {' '.join(map(str, exc.messages))}",
                                    {key: exc.messages}) from None


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
