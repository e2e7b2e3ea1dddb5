"""The events enrollment emits (events.py): many at once still checked against the contract,
never carrying a person's name, and readable by their consumers."""

import json
import uuid
from datetime import date

import pytest
from sqlalchemy import select

from services.contracts import ContractError, parse_event, schema_for
from services.enrollment.events import (
    check_many,
    check_values,
    ordered_id_prefix,
    person_data,
    write_many_to_outbox,
)
from services.kit.models import outbox
from services.kit.outbox import bodies_of
from tests.unit.test_enrollment_world import database

PERSON = schema_for("enrollment", "person_changed", 1)


def person(number="M1", **changes):
    return {**person_data(number, "FX0101", "FX01", "2010-07-01", "enterprise", None, True),
            **changes}


@pytest.mark.parametrize("bad", [
    {"member_no": "has space"},
    {"employment": "farmer"},
    {"joined_on": "2010-13-01"},
    {"committee_code": ""},
    {"active": "perhaps"},
])
def test_checking_many_refuses_what_the_contract_refuses(bad):
    rows = [person(f"M{i}") for i in range(50)] + [person("M99", **bad)]
    with pytest.raises(Exception) as by_marshmallow:
        PERSON.load(rows, many=True)
    with pytest.raises(ContractError) as by_check:
        check_many(PERSON, rows)
    field = next(iter(bad))
    assert field in by_check.value.reason
    assert field in json.dumps(by_marshmallow.value.messages)


def test_checking_many_refuses_a_missing_required_field():
    rows = [person(), {k: v for k, v in person("M2").items() if k != "org_code"}]
    with pytest.raises(ContractError, match="org_code"):
        check_many(PERSON, rows)


def test_checking_many_accepts_what_the_contract_accepts():
    check_many(PERSON, [person(f"M{i}", secretary_of=None if i % 2 else "FX0101")
                        for i in range(100)])


def test_events_written_in_bulk_are_read_back_under_their_contract(tmp_path):
    with database(tmp_path) as db:
        datas = [person_data(f"M{i}", "FX0101", "FX01", date(2010, 7, 1), "enterprise", None,
                             True) for i in range(3)]
        assert write_many_to_outbox(db, "person_changed", datas) == 3
        [row] = db.execute(select(outbox)).all()   # one page of three
    events = [parse_event(body, source="enrollment", event_type=row.routing_key)
              for body in bodies_of(row.body, row.events)]
    assert [e.data["member_no"] for e in events] == ["M0", "M1", "M2"]
    assert row.events == 3 and row.event_id == events[0].id
    assert len({e.id for e in events}) == 3
    assert events[0].data["joined_on"] == date(2010, 7, 1)
    assert all("name" not in e.payload["data"] for e in events)


def test_checking_values_takes_dates_as_dates_and_refuses_what_the_contract_refuses():
    values = {"member_no": {"M1", "A-1_b.2"}, "org_code": {"FX0101"}, "committee_code": {None},
              "joined_on": {date(2010, 7, 1), "2011-07-01"}, "employment": {"other"},
              "secretary_of": {None, "FX0101"}, "active": {True}}
    check_values(PERSON, values)
    for field, bad in [("member_no", "has space"), ("joined_on", "2010-13-01"),
                       ("employment", "farmer"), ("committee_code", ""), ("member_no", 7)]:
        with pytest.raises(ContractError, match=field):
            check_values(PERSON, {**values, field: {*values[field], bad}})


def test_event_ids_written_together_are_version_7_uuids_in_order():
    first, second = ordered_id_prefix(), ordered_id_prefix()
    ids = [f"{first}{n:06x}" for n in (1, 2, 255)] + [f"{second}{1:06x}"]
    parsed = [uuid.UUID(i) for i in ids]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in parsed)
    assert ids[:3] == sorted(ids[:3]) and len(set(ids)) == 4
    assert first[:13] <= second[:13]     # the same or a later millisecond
