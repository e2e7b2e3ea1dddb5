"""The events enrollment emits: many at once still checked against the contract, a person's
name carried as the contract has it, and readable by their consumers; and the person_changed
bodies the member import writes in SQL on PostgreSQL (member_writes) are the contract's, field
for field."""

import json
from datetime import date

import pytest
from sqlalchemy import select

from services.contracts import ContractError, new_event, parse_event, schema_for
from services.contracts.batch import check_values, dump_many
from services.enrollment import tree
from services.enrollment.events import Emitter, person_data
from services.enrollment.models import Member, Organisation
from services.kit.models import outbox
from services.kit.outbox import OutboxWriter, bodies_of
from tests.support.databases import BACKENDS, fresh_session
from tests.support.worlds import World

PERSON = schema_for("enrollment", "person_changed", 1)
PERSON_FIELDS = {field.data_key or name for name, field in PERSON.dump_fields.items()}


def person(number="M1", **changes):
    return {**person_data(number, "张三", "FX0101", "FX01", date(2010, 7, 1), "enterprise",
                          None, True), **changes}


@pytest.mark.parametrize("bad", [
    {"member_no": "has space"},
    {"employment": "farmer"},
    {"committee_code": ""},
    {"active": None},
    {"name": "名" * 101},
    {"joined_on": "2010-07-01"},    # a date is a date, not its text
])
def test_checking_many_refuses_what_the_contract_refuses(bad):
    rows = [person(f"M{i}") for i in range(50)] + [person("M99", **bad)]
    with pytest.raises((ContractError, TypeError)):
        new_event("enrollment", "person_changed", rows[-1])
    with pytest.raises(ContractError) as by_check:
        dump_many(PERSON, rows)
    assert next(iter(bad)) in by_check.value.reason


def test_checking_many_refuses_a_missing_required_field():
    rows = [person(), {k: v for k, v in person("M2").items() if k != "org_code"}]
    with pytest.raises(ContractError, match="org_code"):
        dump_many(PERSON, rows)


def test_many_dumped_at_once_are_what_the_contract_dumps_one_by_one():
    rows = [person(f"M{i}", secretary_of=None if i % 2 else "FX0101",
                   joined_on=date(2010, 7, 1 + i % 3)) for i in range(100)]
    assert dump_many(PERSON, rows) == PERSON.dump(rows, many=True)


def test_events_written_in_bulk_are_read_back_under_their_contract(sqlite_db):
    db = sqlite_db("enrollment")
    datas = [person_data(f"M{i}", f"党员{i}", "FX0101", "FX01", date(2010, 7, 1),
                         "enterprise", None, True) for i in range(3)]
    assert OutboxWriter(db, "enrollment").add_many("person_changed", datas) == 3
    [row] = db.execute(select(outbox)).all()   # one page of three
    events = [parse_event(body, source="enrollment", event_type=row.routing_key)
              for body in bodies_of(row.body, row.events)]
    assert [e.data["member_no"] for e in events] == ["M0", "M1", "M2"]
    assert row.events == 3 and row.event_id == events[0].id
    assert len({e.id for e in events}) == 3
    assert events[0].data["joined_on"] == date(2010, 7, 1)
    assert [e.data["name"] for e in events] == ["党员0", "党员1", "党员2"]


def test_checking_values_takes_dates_as_dates_and_refuses_what_the_contract_refuses():
    values = {"member_no": {"M1", "A-1_b.2"}, "name": {"张三", None},
              "org_code": {"FX0101"}, "committee_code": {None},
              "joined_on": {date(2010, 7, 1), "2011-07-01"}, "employment": {"other"},
              "secretary_of": {None, "FX0101"}, "active": {True}}
    check_values(PERSON, values)
    for field, bad in [("member_no", "has space"), ("joined_on", "2010-13-01"),
                       ("employment", "farmer"), ("committee_code", ""), ("member_no", 7),
                       ("name", "名" * 101)]:
        with pytest.raises(ContractError, match=field):
            check_values(PERSON, {**values, field: {*values[field], bad}})


# -- the member import's person_changed, built in SQL on PostgreSQL -------------------------------

def member(row, member_no, org_code, secretary_of="", name="党员", joined_on="2015-07-01",
           employment="enterprise"):
    return {"row": row, "member_no": member_no, "name": name, "org_code": org_code,
            "joined_on": joined_on, "employment": employment, "secretary_of": secretary_of}


IMPORT = [
    member(2, "N2", "FX0101"),                          # new
    member(3, "E1", "FX0201", joined_on="2010-07-01"),  # to another committee
    member(4, "M4", "FX0101", secretary_of="FX0101"),   # new, and replaces V1 as secretary
    member(5, "E2", "FX0102", name="改名", joined_on="2011-07-01"),   # a name only
]


def import_and_read(db, rows) -> list[str]:
    """Import the rows as the service does (events it emits go to the outbox in bulk): the
    person_changed bodies written since the district was built, in order."""
    world = World(db).build()
    emit = Emitter()
    tree.import_members(db, rows, emit)
    writer = OutboxWriter(db, "enrollment")
    for kind in dict.fromkeys(kind for kind, _ in emit.events):
        writer.add_many(kind, emit.of_type(kind))
    return [body for row in db.execute(
        select(outbox.c.body, outbox.c.events)
        .where(outbox.c.position > world.outbox_mark, outbox.c.routing_key == "person_changed")
        .order_by(outbox.c.position)) for body in bodies_of(row.body, row.events)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_person_changed_an_import_writes_carries_the_contracts_fields_and_no_other(
        backend, tmp_path, request):
    """On PostgreSQL the import's statement writes the bodies (member_writes, from
    PersonChangedV1's fields); on SQLite the outbox's add_many does. Either way each meets the
    contract, carries each of its fields and nothing else, and says what the register holds."""
    with fresh_session(backend, "enrollment", tmp_path, request) as db:
        bodies = import_and_read(db, IMPORT)
        held = {m.member_no: person_data(m.member_no, m.name, m.org_code, committee,
                                         m.joined_on, m.employment, m.secretary_of, m.active)
                for m, committee in db.execute(select(Member, Organisation.committee_code).join(
                    Organisation, Organisation.org_code == Member.org_code))}
    events = [parse_event(body, source="enrollment", event_type="person_changed")
              for body in bodies]
    assert [set(e.payload["data"]) for e in events] == [PERSON_FIELDS] * len(events)
    assert {e.data["member_no"]: e.data for e in events} == {
        number: held[number] for number in ("N2", "E1", "M4", "E2", "V1")}
    assert {e.data["member_no"]: e.data["name"] for e in events}["E2"] == "改名"


@pytest.mark.postgres
def test_the_import_statement_writes_a_name_exactly_as_the_contract_reads_it(
        tmp_path, request):
    odd = 'Zhang "San" \\ 张\t三'    # text JSON must escape
    with fresh_session("postgresql", "enrollment", tmp_path, request) as db:
        bodies = import_and_read(db, [member(2, "N2", "FX0101", name=odd),
                                      member(3, "N3", "FX0102")])
    written = [json.loads(body)["data"] for body in bodies]
    assert [PERSON.load(data)["name"] for data in written] == [odd, "党员"]
