"""The outbox's bulk write (`add_many`) and the contract check it rests on: many events of one
type in one statement, each the envelope `add` would write, checked once per batch."""

import uuid
from datetime import UTC, datetime

import pytest
from marshmallow import ValidationError, fields, validates_schema
from sqlalchemy import select

from services.contracts import ContractError, new_event, parse_event, schema_for
from services.contracts.batch import dump_many, field_by_field
from services.contracts.envelope import dump_body, dump_payload, envelope_text
from services.contracts.fields import ContractSchema
from services.kit import outbox as kit_outbox
from services.kit.models import outbox
from services.kit.outbox import OutboxWriter, bodies_of, ordered_id_prefix, ordered_ids

FILING = {"filing_id": None, "org_code": "FX01", "parent_code": "FX", "class_id": None,
          "kind": "plan", "version": 1, "sha256": "0" * 64, "status": "acknowledged",
          "reason": None}


def filings(count, start=1):
    return [{**FILING, "version": n} for n in range(start, start + count)]


def written(db) -> list[str]:
    """Every envelope in the outbox, in order."""
    return [body for row in db.execute(select(outbox).order_by(outbox.c.position))
            for body in bodies_of(row.body, row.events)]


def test_each_event_written_in_bulk_is_the_envelope_its_contract_writes(sqlite_db,
                                                                          monkeypatch):
    db = sqlite_db("reporting")
    moment = datetime(2026, 5, 6, 1, 2, 3, 456789, tzinfo=UTC)
    monkeypatch.setattr(kit_outbox.clock, "now", lambda: moment)
    OutboxWriter(db, "reporting").add_many("filing_acknowledged", filings(3))
    schema = schema_for("reporting", "filing_acknowledged", 1)
    for body, data in zip(written(db), filings(3), strict=True):
        event = parse_event(body, source="reporting", event_type="filing_acknowledged")
        assert body == dump_body(dump_payload(event.id, "reporting", "filing_acknowledged", 1,
                                              schema.dump(data), moment))


def test_the_envelope_text_around_id_and_data_is_dump_payloads():
    moment = datetime(2026, 5, 6, 1, 2, 3, tzinfo=UTC)
    event = new_event("reporting", "filing_acknowledged", FILING, occurred_at=moment)
    text = envelope_text("reporting", "filing_acknowledged", 1, moment)
    assert text.body(event.id, event.payload["data"]).encode() == event.body()


def test_a_batch_with_one_event_outside_its_contract_is_refused_whole(sqlite_db):
    db = sqlite_db("reporting")
    batch = filings(20) + [{**FILING, "sha256": "not a digest"}]
    with pytest.raises(ContractError, match="sha256"):
        OutboxWriter(db, "reporting").add_many("filing_acknowledged", batch)
    assert written(db) == []


def test_many_events_go_in_pages_in_order_with_those_added_around_them(sqlite_db, monkeypatch):
    monkeypatch.setattr(kit_outbox, "EVENTS_PER_ROW", 4)
    db = sqlite_db("reporting")
    writer = OutboxWriter(db, "reporting")
    writer.add("filing_acknowledged", {**FILING, "version": 1})
    assert writer.add_many("filing_acknowledged", filings(10, start=2)) == 10
    writer.add("filing_acknowledged", {**FILING, "version": 12})
    db.commit()
    rows = db.execute(select(outbox.c.events).order_by(outbox.c.position)).scalars().all()
    assert rows == [None, 4, 4, 2, None]
    assert [parse_event(body).data["version"] for body in written(db)] == list(range(1, 13))


def test_events_added_in_bulk_go_with_a_rollback(sqlite_db):
    db = sqlite_db("reporting")
    OutboxWriter(db, "reporting").add_many("filing_acknowledged", filings(5))
    db.rollback()
    assert written(db) == []


def test_event_ids_written_together_are_version_7_uuids_in_order():
    first, second = ordered_id_prefix(), ordered_id_prefix()
    ids = [f"{first}{n:06x}" for n in (1, 2, 255)] + [f"{second}{1:06x}"]
    parsed = [uuid.UUID(i) for i in ids]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in parsed)
    assert ids[:3] == sorted(ids[:3]) and len(set(ids)) == 4
    assert first[:13] <= second[:13]     # the same or a later millisecond


def test_more_ids_than_one_prefix_counts_take_another_prefix(monkeypatch):
    monkeypatch.setattr(kit_outbox, "ORDERED_IDS", 3)
    ids = list(ordered_ids(7))
    assert len(set(ids)) == 7 and len({i[:30] for i in ids}) == 3
    assert [i[30:] for i in ids] == ["000000", "000001", "000002"] * 2 + ["000000"]


# -- checking a batch against its contract -------------------------------------------------------

class NoSelfApproval(ContractSchema):
    """A contract with a check across fields: it cannot be checked a field at a time."""

    filed_by = fields.String(required=True)
    approved_by = fields.String(required=True)

    @validates_schema
    def not_by_oneself(self, data, **kwargs):
        if data["filed_by"] == data["approved_by"]:
            raise ValidationError("approved by whoever filed it", "approved_by")


def test_a_contract_that_checks_across_fields_is_checked_event_by_event():
    schema = NoSelfApproval()
    assert not field_by_field(schema)
    # Each value on its own is fine (both names appear in both fields); one event is not.
    batch = [{"filed_by": "a", "approved_by": "b"}, {"filed_by": "b", "approved_by": "b"}]
    with pytest.raises(ContractError, match="approved_by"):
        dump_many(schema, batch)


def test_a_contract_that_nests_another_is_checked_event_by_event():
    schema = schema_for("scheduling", "class_published", 1)
    assert not field_by_field(schema)
    assert field_by_field(schema_for("enrollment", "attendance_recorded", 1))
