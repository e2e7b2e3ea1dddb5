"""Study hours from elsewhere (study_hours.py): recorded per person and year, each told as
study_hours_recorded, withdrawable, counted once however often sent, and shown beside the hours
of the classes completed here against the role's quota; a file of them keeps its good rows and
names each bad one."""

from datetime import UTC, date, datetime

import pytest
from openpyxl import Workbook

from services.contracts import imports, new_event
from services.contracts.imports import HOUR_SOURCES
from services.enrollment import study_hours
from services.enrollment.models import StudyHours
from services.kit.errors import InvalidInput, NotFound
from tests.support.databases import BACKENDS, fresh_session
from tests.support.worlds import World

NOW = datetime(2026, 6, 2, 4, 0, tzinfo=UTC)
TODAY = date(2026, 6, 2)
KNOWN = {"E1", "V1"}


def entry(**changes):
    return {"year": 2026, "hours": 4.0, "source": "online", "title": "远程教育平台专题学习",
            "on": date(2026, 6, 1), **changes}


def record(world, member_no="E1", **changes):
    return study_hours.record(world.db, member_no, entry(**changes), world.emit, by="tester",
                              now=NOW)


def test_an_entry_is_recorded_and_told_under_its_contract(world):
    recorded, created = record(world)
    assert created and recorded.recorded_by == "tester"
    [told] = world.events("study_hours_recorded")
    assert told == {"entry_id": recorded.entry_id, "member_no": "E1", "year": 2026,
                    "hours": 4.0, "source": "online", "title": "远程教育平台专题学习",
                    "on": date(2026, 6, 1), "withdrawn": False}
    new_event("enrollment", "study_hours_recorded", told)


def test_the_same_entry_again_is_the_one_already_recorded(world):
    first, _ = record(world)
    again, created = record(world)
    assert (again.entry_id, created) == (first.entry_id, False)
    other, created = record(world, hours=2.0)
    assert created and other.entry_id != first.entry_id
    assert len(world.events("study_hours_recorded")) == 2


@pytest.mark.parametrize("day, reason", [(date(2025, 12, 31), "not in 2026"),
                                         (date(2026, 6, 3), "in the future")])
def test_hours_count_in_the_year_studied_and_never_ahead(world, day, reason):
    with pytest.raises(InvalidInput) as refused:
        record(world, on=day)
    assert reason in refused.value.errors["on"][0]
    assert world.events("study_hours_recorded") == []


def test_only_a_known_person_has_hours_recorded(world):
    with pytest.raises(NotFound):
        record(world, member_no="NOBODY")


def test_a_withdrawn_entry_counts_no_more_and_is_told_once(world):
    recorded, _ = record(world)
    world.forget_events()
    study_hours.withdraw(world.db, "E1", recorded.entry_id, world.emit, by="tester", now=NOW)
    study_hours.withdraw(world.db, "E1", recorded.entry_id, world.emit, by="tester", now=NOW)
    [told] = world.events("study_hours_recorded")
    assert (told["entry_id"], told["withdrawn"]) == (recorded.entry_id, True)
    year = study_hours.summary(world.db, "E1", 2026)
    assert year["years"][0]["other_hours"] == 0
    assert year["entries"][0]["withdrawn"] is True
    _, created = record(world)   # recorded anew once withdrawn
    assert created


def test_an_entry_is_withdrawn_only_through_its_own_person(world):
    recorded, _ = record(world)
    with pytest.raises(NotFound):
        study_hours.withdraw(world.db, "V1", recorded.entry_id, world.emit)


def test_the_years_figures_show_class_other_and_total_against_the_roles_quota(world,
                                                                              monkeypatch):
    world.db.add(StudyHours(enrollment_id="e-1", member_no="E1", year=2026, class_id="c-1",
                            hours=24.0, credited_at=NOW))
    record(world, hours=4.0)
    record(world, hours=4.5, source="party_school", title="党校专题班")
    record(world, member_no="V1", hours=10.0)
    member = study_hours.summary(world.db, "E1")
    assert member["role"] == "member" and member["quota_hours"] == 32
    assert member["years"] == [{"year": 2026, "class_hours": 24.0, "other_hours": 8.5,
                                "total_hours": 32.5, "quota_hours": 32, "reached": True}]
    assert member["labels"] == {"class_hours": "集中培训学时", "other_hours": "其他学时",
                                "total_hours": "合计学时"}
    secretary = study_hours.summary(world.db, "V1", 2026)
    assert (secretary["role"], secretary["years"][0]["reached"]) == ("secretary", False)
    assert secretary["years"][0]["quota_hours"] == 56
    monkeypatch.setenv("PEIXUN_QUOTA_SECRETARY_HOURS", "10")
    assert study_hours.summary(world.db, "V1", 2026)["years"][0]["reached"] is True
    assert study_hours.summary(world.db, "E1", 2025)["years"] == [
        {"year": 2025, "class_hours": 0, "other_hours": 0, "total_hours": 0,
         "quota_hours": 32, "reached": False}]


# -- a file of them --------------------------------------------------------------------------------

def row(number, **changes):
    return {"row": number, "member_no": "E1", "year": "2026", "hours": "4", "source": "online",
            "title": "远程教育平台专题学习", "on": "2026-06-01", **changes}


def test_every_bad_hours_row_is_reported_with_its_field_and_reason():
    rows = [row(2), row(3, member_no=""), row(4, member_no="has space"),
            row(5, member_no="NOBODY"), row(6, year="26"), row(7, year="1999"),
            row(8, hours="four"), row(9, hours="0"), row(10, hours="nan"),
            row(11, source="自学"), row(12, title="题" * 201), row(13, on="2026/06/01"),
            row(14, on="2026-02-30"), row(15, on="2025-06-01"), row(16, on="2026-07-01"),
            row(17), row(18, source="党校培训", hours="2.5")]
    good, bad = study_hours.check_hours(rows, KNOWN, TODAY)
    assert [(b.row, b.field) for b in bad] == [
        (3, "member_no"), (4, "member_no"), (5, "member_no"), (6, "year"), (7, "year"),
        (8, "hours"), (9, "hours"), (10, "hours"), (11, "source"), (12, "title"), (13, "on"),
        (14, "on"), (15, "on"), (16, "on"), (17, "member_no")]
    reasons = {b.row: b.reason for b in bad}
    assert reasons[3] == "missing" and reasons[5] == "no member NOBODY"
    assert "unit/单位自行组织" in reasons[11]
    assert reasons[15] == "2025-06-01 is not in 2026"
    assert reasons[17] == "the same entry as row 2"
    assert good == [entry(member_no="E1"),
                    entry(member_no="E1", source="party_school", hours=2.5)]


def test_a_source_may_be_spelt_as_its_code_or_its_label():
    assert {HOUR_SOURCES[text] for text in ("unit", "单位自行组织", "online", "网络自学",
                                             "party_school", "党校培训", "other", "其他")} == {
        "unit", "online", "party_school", "other"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_reimported_file_records_nothing_twice(backend, tmp_path, request):
    with fresh_session(backend, "enrollment", tmp_path, request) as db:
        world = World(db).build()
        rows = [row(2), row(3, member_no="V1", hours="3.5"), row(4, hours="x")]
        first = study_hours.import_entries(db, rows, world.emit, by="import", now=NOW)
        assert (first["kept"], first["changed"]) == (2, 2)
        assert first["bad"] == [{"row": 4, "field": "hours", "reason": "'x' is not a number"}]
        again = study_hours.import_entries(db, rows, world.emit, by="import", now=NOW)
        assert (again["kept"], again["changed"]) == (2, 0)
        assert len(world.events("study_hours_recorded")) == 2
        assert study_hours.summary(db, "V1", 2026)["years"][0]["other_hours"] == 3.5


def test_an_xlsx_of_hours_with_typed_cells_reads_as_rows_the_rules_keep(tmp_path):
    book = Workbook()
    book.active.append(["党员编号", "年度", "学时", "来源", "名称", "日期"])
    book.active.append(["E1", 2026, 2.5, "党校培训", "党校专题班", datetime(2026, 6, 1)])
    book.active.append(["V1", 2026.0, 4, "online", "远程教育平台专题学习", "2026-05-01"])
    book.save(tmp_path / "hours.xlsx")
    rows = imports.records(list(imports.iter_rows(tmp_path / "hours.xlsx")),
                           imports.HOURS_HEADERS, imports.HOURS_REQUIRED)
    good, bad = study_hours.check_hours(rows, KNOWN, TODAY)
    assert bad == []
    assert good == [entry(member_no="E1", hours=2.5, source="party_school", title="党校专题班"),
                    entry(member_no="V1", on=date(2026, 5, 1))]
