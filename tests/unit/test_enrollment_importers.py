"""Organisation and member files: reading CSV and XLSX with English or Chinese headers, and the
row rules — good rows kept, each bad row reported with its number, field and reason, a
re-import updating instead of duplicating (and emitting only what changed)."""

from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from services.cli.importing import _chunk_call, run_import
from services.contracts import imports, parse_event, vocabulary
from services.enrollment import importers, tree
from services.enrollment.importers import BadRow
from services.enrollment.models import Member, Organisation
from services.kit.errors import InvalidInput
from services.kit.models import outbox
from services.kit.outbox import bodies_of
from tests.support.databases import BACKENDS, fresh_session
from tests.support.worlds import World


@pytest.fixture(params=BACKENDS)
def session(request, tmp_path):
    """Each database test twice: on PostgreSQL an import is one set-based statement
    (member_writes), elsewhere Python compares row by row; the rules are the same."""
    with fresh_session(request.param, "enrollment", tmp_path, request) as db:
        yield db


TODAY = date(2026, 3, 1)
ORG_CODES = {"FX", "FX01", "FX0101", "FX0102"}

CHINESE_MEMBER_HEADER = ["党员编号", "姓名", "党组织编码", "入党日期", "人员类别",
                         "任书记的党组织编码"]


def member(row, member_no="M1", name="张三", org_code="FX0101", joined_on="2010-07-01",
           employment="enterprise", secretary_of=""):
    return {"row": row, "member_no": member_no, "name": name, "org_code": org_code,
            "joined_on": joined_on, "employment": employment, "secretary_of": secretary_of}


# -- reading files -----------------------------------------------------------------------------

def test_an_xlsx_with_chinese_headers_and_typed_cells_reads_as_text(tmp_path):
    path = tmp_path / "members.xlsx"
    book = Workbook()
    sheet = book.active
    sheet.append(CHINESE_MEMBER_HEADER)
    sheet.append([1001, "张三", "FX0101", date(2010, 7, 1), "企业", None])
    sheet.append([None, None, None, None, None, None])           # empty rows are skipped
    sheet.append(["M2", "李四", "FX0102", "2011-07-01", "机关事业单位", "FX0102"])
    book.save(path)
    rows = imports.records(list(imports.iter_rows(path)), imports.MEMBER_HEADERS,
                           imports.MEMBER_REQUIRED)
    assert rows[0] == {"row": 2, "member_no": "1001", "name": "张三", "org_code": "FX0101",
                       "joined_on": "2010-07-01", "employment": "企业", "secretary_of": ""}
    assert rows[1]["row"] == 4 and rows[1]["secretary_of"] == "FX0102"


def test_a_csv_saved_by_excel_with_a_bom_or_in_gbk_reads(tmp_path):
    text = "org_code,name,parent_code,kind,sector\nFX,奉贤区委,,committee,\n"
    for encoding in ("utf-8-sig", "gb18030"):
        path = tmp_path / f"orgs-{encoding}.csv"
        path.write_bytes(text.encode(encoding))
        rows = imports.records(list(imports.iter_rows(path)), imports.ORG_HEADERS,
                               imports.ORG_REQUIRED)
        assert rows == [{"row": 2, "org_code": "FX", "name": "奉贤区委", "parent_code": "",
                         "kind": "committee", "sector": ""}]


def test_a_file_without_the_required_columns_cannot_be_read(tmp_path):
    path = tmp_path / "members.csv"
    path.write_text("member_no,name\nM1,张三\n", encoding="utf-8")
    with pytest.raises(imports.FileUnreadable, match="org_code/党组织编码"):
        imports.records(list(imports.iter_rows(path)), imports.MEMBER_HEADERS,
                        imports.MEMBER_REQUIRED)
    with pytest.raises(imports.FileUnreadable, match="no such file"):
        imports.iter_rows(tmp_path / "missing.xlsx")
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    with pytest.raises(imports.FileUnreadable, match="not a readable spreadsheet"):
        imports.iter_rows(tmp_path / "broken.xlsx")


def test_a_file_may_spell_a_value_as_its_code_or_as_the_vocabulary_labels_it():
    for spellings, labels in ((imports.KINDS, vocabulary.ORG_KINDS),
                              (imports.SECTORS, vocabulary.SECTORS),
                              (imports.EMPLOYMENTS, vocabulary.EMPLOYMENTS)):
        for code, label in labels.items():
            assert spellings[code] == spellings[label] == code
        assert set(spellings.values()) == set(labels)
    assert imports.SECTORS["两新组织"] == "two_new" and imports.KINDS["党委"] == "committee"


def test_the_cli_exits_2_when_nothing_could_be_read(tmp_path):
    lines = []
    assert run_import("members", str(tmp_path / "missing.csv"),
                      echo=lambda *a, **k: lines.append(a[0]), show_progress=False) == 2
    assert "nothing could be read" in lines[0]
    header_only = tmp_path / "empty.csv"
    header_only.write_text("member_no,name,org_code,joined_on,employment\n", encoding="utf-8")
    assert run_import("members", str(header_only), echo=lambda *a, **k: None,
                      show_progress=False) == 2


# -- member rows -------------------------------------------------------------------------------

def test_every_bad_member_row_is_reported_with_its_field_and_reason():
    rows = [
        member(2),
        member(3, member_no="bad no"),
        member(4, member_no="M1"),
        member(5, member_no="M5", name=""),
        member(6, member_no="M6", org_code="NOPE"),
        member(7, member_no="M7", joined_on="2010/07/01"),
        member(8, member_no="M8", joined_on="2010-02-30"),
        member(9, member_no="M9", joined_on="2027-01-01"),
        member(10, member_no="M10", employment="farmer"),
        member(11, member_no="M11", secretary_of="NOPE"),
        member(12, member_no="M12", secretary_of="FX0101"),
        member(13, member_no="M13", secretary_of="FX0101"),
        member(14, member_no="M14", name="名" * 101),
        member(15, member_no="M15", employment="其他"),
    ]
    good, bad = importers.validate_members(rows, ORG_CODES, TODAY)
    assert [r["member_no"] for r in good] == ["M1", "M12", "M15"]
    assert good[2]["employment"] == "other"
    assert [b.line() for b in bad] == [
        "row 3: member_no: not a valid member number (letters, digits, . _ - ; at most 64)",
        "row 4: member_no: M1 appears again (first at row 2)",
        "row 5: name: missing",
        "row 6: org_code: no organisation NOPE",
        "row 7: joined_on: '2010/07/01' is not a date (YYYY-MM-DD)",
        "row 8: joined_on: '2010-02-30' is not a date (YYYY-MM-DD)",
        "row 9: joined_on: 2027-01-01 is in the future",
        "row 10: employment: 'farmer' is not a valid employment (enterprise/企业, "
        "institution/机关事业单位, other/其他)",
        "row 11: secretary_of: no organisation NOPE",
        "row 13: secretary_of: FX0101 already has its secretary at row 12",
        "row 14: name: longer than 100 characters",
    ]


def test_the_kept_rows_come_column_by_column_as_the_import_writes_them():
    rows = [["M1", " 张三 ", "FX0101", "2010-07-01", "企业", "FX0101"],
            ["M2", "李四", "NOPE", "2010-07-01", "企业", ""],
            ["M3", "王五", "FX0102", "2011-01-02", "other", ""]]
    kept, bad = importers.check_members([[n, *row] for n, row in enumerate(rows, start=2)],
                                        ORG_CODES, TODAY, ["row", *importers.KEPT_FIELDS])
    assert [b.row for b in bad] == [3]
    assert kept.member_no == ["M1", "M3"] and kept.name == ["张三", "王五"]
    assert kept.joined_on == [date(2010, 7, 1), date(2011, 1, 2)]
    assert kept.joined_text == ["2010-07-01", "2011-01-02"]
    assert kept.employment == ["enterprise", "other"]
    assert kept.secretary_of == ["FX0101", None]
    assert kept.page(1, 2).rows() == [("M3", "王五", "FX0102", date(2011, 1, 2), "other", None)]
    assert len(kept) == 2


def test_member_codes_the_importer_keeps_are_codes_the_contract_accepts():
    from services.contracts import new_event

    good, _ = importers.validate_members([member(2, member_no="A-1_b.2")], ORG_CODES, TODAY)
    new_event("enrollment", "person_changed", {
        "member_no": good[0]["member_no"], "org_code": "FX0101", "committee_code": "FX01",
        "joined_on": good[0]["joined_on"], "employment": "enterprise", "secretary_of": None})


# -- organisation rows -------------------------------------------------------------------------

def org(row, code, parent, kind="grassroots", sector="village", name="某党组织"):
    return {"row": row, "org_code": code, "name": name, "parent_code": parent, "kind": kind,
            "sector": sector}


def test_organisation_rows_in_any_order_and_the_bad_ones_with_reasons():
    rows = [
        org(2, "C1", "B1"),                     # its parent comes later
        org(3, "B1", "ROOT", kind="党(工)委", sector=""),
        org(4, "ROOT", "", kind="committee", sector=""),
        org(5, "ORPHAN", "NEVER"),
        org(6, "CHILD", "ORPHAN"),
        org(7, "X1", "X2"),
        org(8, "X2", "X1"),
        org(9, "G1", "B1", sector=""),
        org(10, "G2", "B1", sector="farm"),
        org(11, "B1", "ROOT", kind="committee", sector=""),
        org(12, "K1", "ROOT", kind="party"),
        org(13, "G3", "G1"),                    # its parent is a bad row
    ]
    good, bad = importers.validate_orgs(rows, {})
    assert {r["org_code"] for r in good} == {"C1", "B1", "ROOT"}
    assert [b.line() for b in bad] == [
        "row 5: parent_code: parent NEVER never appears",
        "row 6: parent_code: its ancestor ORPHAN is not valid",
        "row 7: parent_code: forms a cycle (X1 → X2 → X1)",
        "row 8: parent_code: forms a cycle (X1 → X2 → X1)",
        "row 9: sector: missing (a grassroots organisation has a sector)",
        "row 10: sector: 'farm' is not a valid sector (institution/机关事业单位, "
        "residential/居民区, soe/国有(集体)企业, two_new/“两新”组织, village/村)",
        "row 11: org_code: B1 appears again (first at row 3)",
        "row 12: kind: 'party' is not a valid kind (committee/党(工)委, district/区委, "
        "grassroots/基层党组织)",
        "row 13: parent_code: parent G1 is not valid (row 9)",
    ]


def test_an_organisation_may_hang_under_one_already_known():
    good, bad = importers.validate_orgs([org(2, "NEW", "FX01")], {"FX": None, "FX01": "FX"})
    assert bad == [] and good[0]["parent_code"] == "FX01"


# -- into the database -------------------------------------------------------------------------

def test_reimporting_members_updates_instead_of_duplicating(session):
    world = World(session).build()
    rows = [member(2, member_no="M1", org_code="FX0101"),
            member(3, member_no="M2", org_code="FX0102")]
    first = tree.import_members(session, rows, world.emit)
    assert (first["kept"], first["changed"]) == (2, 2)
    assert len(world.events("person_changed")) == 2
    world.forget_events()

    again = tree.import_members(session, rows, world.emit)
    assert (again["kept"], again["changed"]) == (2, 0)
    assert world.events("person_changed") == []

    rows[0] = member(2, member_no="M1", org_code="FX0102", name="张三丰")
    third = tree.import_members(session, rows, world.emit)
    assert third["changed"] == 1
    assert session.execute(select(func.count()).select_from(Member).where(
        Member.member_no.in_(["M1", "M2"]))).scalar_one() == 2
    assert session.get(Member, "M1").org_code == "FX0102"
    [person] = world.events("person_changed")
    assert (person["member_no"], person["name"]) == ("M1", "张三丰")


def test_a_name_only_change_is_kept_and_told(session):
    """Records name people (DESIGN §1): reporting hears of a rename as of any change."""
    world = World(session).build()
    tree.import_members(session, [member(2, name="张三")], world.emit)
    world.forget_events()
    tree.import_members(session, [member(2, name="张叁")], world.emit)
    assert session.get(Member, "M1").name == "张叁"
    [person] = world.events("person_changed")
    assert (person["member_no"], person["name"], person["org_code"]) == ("M1", "张叁", "FX0101")


def test_a_secretary_named_in_the_file_replaces_the_one_before(session):
    world = World(session).build()
    tree.import_members(session, [member(2, member_no="NEWSEC", secretary_of="FX0101")],
                        world.emit)
    assert session.get(Organisation, "FX0101").secretary_member_no == "NEWSEC"
    assert session.get(Member, "V1").secretary_of is None
    [changed_org] = world.events("organisation_changed")
    assert changed_org["secretary_member_no"] == "NEWSEC"


def test_a_file_without_the_secretary_column_leaves_secretaries_alone(session):
    world = World(session).build()
    row = {k: v for k, v in member(2, member_no="V1", org_code="FX0101",
                                   joined_on="2001-07-01", employment="other").items()
           if k != "secretary_of"}
    tree.import_members(session, [row], world.emit)
    assert session.get(Member, "V1").secretary_of == "FX0101"


def test_reimporting_organisations_changes_only_what_changed(session):
    world = World(session).build()
    rows = [org(2, "FX0103", "FX01", sector="two_new", name="某两新党支部")]
    assert tree.import_orgs(session, rows, world.emit)["changed"] == 1
    world.forget_events()
    assert tree.import_orgs(session, rows, world.emit) == {"kept": 1, "bad": [], "changed": 0}
    assert world.events("organisation_changed") == []
    rows[0]["name"] = "某两新联合党支部"
    assert tree.import_orgs(session, rows, world.emit)["changed"] == 1
    assert session.get(Organisation, "FX0103").name == "某两新联合党支部"


def test_bad_rows_come_back_from_the_import_as_plain_data(session):
    world = World(session).build()
    answer = tree.import_members(session, [member(2, org_code="NOPE")], world.emit)
    assert answer == {"kept": 0, "changed": 0, "bad": [
        BadRow(2, "org_code", "no organisation NOPE").__dict__]}


@pytest.mark.postgres
def test_an_import_tells_reporting_the_same_on_either_database(tmp_path, request):
    """PostgreSQL compares and writes the person_changed events in SQL; the outcome and the
    events are those of the row-by-row way, and every event meets its contract."""
    steps = [
        [member(2, member_no="M1", org_code="FX0101"), member(3, member_no="M2"),
         member(4, member_no="M3", secretary_of="FX0102")],
        [member(2, member_no="M1", org_code="FX0102"),                  # transferred
         member(3, member_no="M2", name="改名"),                         # a name only
         member(4, member_no="M3", employment="institution"),           # post given up
         member(5, member_no="M4", secretary_of="FX0101")],             # replaces V1
    ]
    seen = {}
    for backend in ("sqlite", "postgresql"):
        with fresh_session(backend, "enrollment", tmp_path / backend, request) as db:
            world = World(db).build()
            told, answers = [], []
            for rows in steps:
                answers.append(tree.import_members(db, rows, world.emit))
                told.append({kind: [_wire(d) for d in world.events(kind)]
                             for kind in ("person_changed", "organisation_changed")})
                if backend == "postgresql":
                    for row in db.execute(select(outbox.c.body, outbox.c.events).where(
                            outbox.c.position > world.outbox_mark)):
                        for body in bodies_of(row.body, row.events):
                            parse_event(body, source="enrollment", event_type="person_changed")
                world.forget_events()
            people = sorted(tuple(m) for m in db.execute(select(
                Member.member_no, Member.name, Member.org_code, Member.joined_on,
                Member.employment, Member.secretary_of, Member.active)))
            seen[backend] = (answers, told, people)
    assert seen["postgresql"] == seen["sqlite"]
    answers, told, _ = seen["sqlite"]
    assert [a["changed"] for a in answers] == [3, 4]
    assert {p["member_no"]: p["secretary_of"] for p in told[1]["person_changed"]} == {
        "M1": None, "M2": None, "M3": None, "M4": "FX0101", "V1": None}
    assert {p["member_no"]: p["name"] for p in told[1]["person_changed"]}["M2"] == "改名"


def test_a_cell_holding_the_column_separator_is_kept_exactly(session):
    world = World(session).build()
    name = f"张{imports.SEP}三"
    assert tree.import_members(session, [member(2, name=name)], world.emit)["kept"] == 1
    assert session.get(Member, "M1").name == name


def _wire(data: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in data.items()}


# -- reading a member file column by column ------------------------------------------------------

def test_a_member_file_read_column_by_column_numbers_its_rows_as_the_file_does(tmp_path):
    path = tmp_path / "members.csv"
    path.write_text("党员编号,姓名,党组织编码,入党日期,人员类别\n"
                    " M1 ,张三,FX0101,2010-07-01,企业\n"
                    ",,,,\n"
                    "M2,李四,FX0102,2011-07-01,其他\n"
                    "M3\n", encoding="utf-8")
    [(numbers, texts)] = imports.column_chunks(imports.iter_rows(path), imports.MEMBER_HEADERS,
                                               imports.MEMBER_REQUIRED, 100)
    assert numbers == [2, 4, 5]
    assert texts["member_no"] == ["M1", "M2", "M3"] and texts["employment"][2] == ""
    chunks = list(imports.column_chunks(imports.iter_rows(path), imports.MEMBER_HEADERS,
                                        imports.MEMBER_REQUIRED, 2))
    assert [c[0] for c in chunks] == [[2], [4, 5]]
    chunks = list(imports.column_chunks(imports.iter_rows(path), imports.MEMBER_HEADERS,
                                        imports.MEMBER_REQUIRED, 3, first=1))
    assert [c[0] for c in chunks] == [[2], [4, 5]]   # a smaller first chunk, then three rows
    as_records = imports.records(list(imports.iter_rows(path)), imports.MEMBER_HEADERS,
                                 imports.MEMBER_REQUIRED)
    assert [r["row"] for r in as_records] == numbers


def test_a_chunk_is_sent_column_by_column_unless_a_cell_holds_the_separator():
    class Service:
        def __getattr__(self, method):
            return type("Method", (), {"call_async": lambda _, *args: (method, args)})()

    plain = _chunk_call(Service(), [2, 3], {"member_no": ["M1", "M2"], "name": ["甲", "乙"]})
    assert plain() == ("import_member_columns", ([2, 3], {"member_no": f"M1{imports.SEP}M2",
                                                          "name": f"甲{imports.SEP}乙"}))
    odd = _chunk_call(Service(), [2], {"member_no": ["M1"], "name": [f"甲{imports.SEP}"]})
    assert odd() == ("import_members", ([[2, "M1", f"甲{imports.SEP}"]],
                                        ["row", "member_no", "name"]))


def test_a_column_wise_chunk_must_have_a_value_for_every_row():
    from services.enrollment.service import _split_columns

    assert _split_columns([2, 3], {"member_no": "M1\x1fM2"}, "\x1f") == [(2, "M1"), (3, "M2")]
    with pytest.raises(InvalidInput) as refused:
        _split_columns([2, 3], {"member_no": "M1"}, "\x1f")
    assert refused.value.errors == {"columns.member_no": ["1 values for 2 rows"]}
