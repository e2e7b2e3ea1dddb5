"""The files people open: CSV with a BOM, one flat table per section, nothing a spreadsheet would
convert; XLSX with sheets, styled headers, frozen panes, totals, typed cells in a CJK font and a
page set up for printing; PDF with the Chinese font embedded; PNG charts; the 制表单位 /
制表日期 line. (tests/integration/test_spreadsheets_in_libreoffice.py opens them in LibreOffice.)"""

import base64
import csv
import io
import subprocess
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from services.contracts.document import Column, Document, Table
from services.kit import clock, config
from services.kit.errors import InvalidInput
from services.reporting import filing, store
from services.reporting.render.csv import render_csv, spreadsheet_safe
from services.reporting.reports import REPORTS
from tests.support.databases import sqlite_engine
from tests.support.districts import district_session, load, small_district, uid
from tests.support.fakes import FakeOutbox


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    yield from district_session(tmp_path_factory, "render")


def pull(db, name, fmt, **params):
    answer = store.pull(db, None, name, params, fmt)
    return answer, base64.b64decode(answer["content_b64"])


def test_csv_is_utf8_with_a_bom_and_one_flat_table_under_chinese_headings(db):
    answer, content = pull(db, "annual-summary", "csv", year=2026)
    assert content.startswith(b"\xef\xbb\xbf")
    lines = content[3:].decode("utf-8").splitlines()
    # The main table alone: no title, facts, other tables or totals row.
    assert lines[0] == ("培训项目,区级调训目标人次,区级调训完成人次,区级调训完成率,"
                        "单位自主培训目标人次,单位自主培训完成人次,完成人次合计,报名人次,"
                        "参训班次,主办班次")
    assert lines[1] == '千名书记进党校,4,2,"=""50.0%""",0,0,2,4,2,2'
    assert len(lines) == 3 and not any("合计" in line for line in lines[1:])
    assert answer["content_type"] == "text/csv; charset=utf-8"
    assert answer["file_name"] == "annual-summary-2026.csv"


@pytest.mark.parametrize(("text", "written"), [
    ("3/3", '="3/3"'), ("3101200000001", '="3101200000001"'), ("0012", '="0012"'),
    ("88.9%", '="88.9%"'), ("09:00-12:00", '="09:00-12:00"'), ("1e5", '="1e5"'),
    ("=HYPERLINK(\"x\")", '="=HYPERLINK(""x"")"'), ("-3", '="-3"'), ("TRUE", '="TRUE"'),
    ("3月3日", '="3月3日"'), (" 7", '=" 7"'),
    # Text a spreadsheet leaves alone, and ISO dates (which are the dates they look like).
    ("张建国", "张建国"), ("S11", "S11"), ("合计", "合计"), ("—", "—"),
    ("2026-04-01", "2026-04-01"),
])
def test_csv_writes_what_a_spreadsheet_would_convert_as_a_text_formula(text, written):
    assert spreadsheet_safe(text) == written


def test_csv_writes_numbers_bare_and_defuses_text_too_long_for_a_formula():
    assert spreadsheet_safe("1" * 300) == "1" * 300
    assert spreadsheet_safe("=" + "1" * 300) == "'=" + "1" * 300
    document = Document("表", None, [], [Table("表", [
        Column("n", "人数", "int"), Column("h", "学时", "hours"), Column("r", "出勤率", "pct"),
        Column("no", "党员编号")], [{"n": 3, "h": 1.5, "r": 0.889, "no": "0310120000001"}])])
    assert render_csv(document).decode("utf-8-sig").splitlines()[1] == \
        '3,1.5,"=""88.9%""","=""0310120000001"""'


def test_csv_sections_are_each_table_and_the_overview(db):
    def lines(section=None):
        params = {"class_id": uid("K1"), **({"section": section} if section else {})}
        return pull(db, "class-record", "csv", **params)[1][3:].decode().splitlines()

    assert lines()[0].startswith("党员编号,姓名,所在组织")      # participants: the main table
    assert lines("participants") == lines()
    sessions = lines("sessions")
    assert sessions[0].startswith("序号,日期,时间,课程")
    assert sessions[1].startswith('1,2026-04-01,"=""09:00-12:00""",学习贯彻习近平新时代党建思想')
    overview = lines("overview")
    assert overview[0] == "项目,内容"
    assert '已完成课次,"=""3/3"""' in overview
    assert "制表单位,奉贤区委" in overview


@pytest.mark.parametrize(("name", "params"), [
    ("class-record", {"class_id": uid("K1")}), ("class-plan", {"class_id": uid("K1")}),
    ("annual-summary", {"year": 2026}), ("coverage-gaps", {"year": 2026}),
    ("filing-status", {"year": 2026}), ("personal-archive", {"member_no": "S12"})])
def test_every_section_of_every_report_is_one_of_its_tables(db, name, params):
    spec = REPORTS[name]
    document = spec.layout(spec.build(db, params))
    assert len(spec.SECTIONS) == len(document.tables)
    for section, table in zip(spec.SECTIONS, document.tables, strict=True):
        _, content = pull(db, name, "csv", **params, section=section)
        header = next(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        assert header == [spreadsheet_safe(c.label) for c in table.columns], section


def test_an_unknown_section_is_refused_naming_the_valid_ones(db):
    with pytest.raises(InvalidInput) as refused:
        pull(db, "class-record", "csv", class_id=uid("K1"), section="people")
    (reason,) = refused.value.errors["section"]
    assert "participants, sessions, overview" in reason


def test_the_made_line_names_the_organisation_and_shanghais_date(db, tmp_path, monkeypatch):
    clock_file = tmp_path / "clock"
    clock.set_simulated(clock_file, datetime(2026, 12, 2, 16, 30, tzinfo=UTC))   # 3 Dec there
    monkeypatch.setenv("PEIXUN_CLOCK_FILE", str(clock_file))
    record = dict(REPORTS["class-record"].layout(
        REPORTS["class-record"].build(db, {"class_id": uid("K2")})).facts)
    assert (record["制表单位"], record["制表日期"]) == ("南桥镇党委", "2026年12月3日")
    scoped = REPORTS["coverage-gaps"].build(db, {"year": 2026, "org_code": "C2"})
    assert dict(REPORTS["coverage-gaps"].layout(scoped).facts)["制表单位"] == "区教育工作党委"
    district = REPORTS["annual-summary"].build(db, {"year": 2026})
    assert dict(REPORTS["annual-summary"].layout(district).facts)["制表单位"] == "奉贤区委"


def test_xlsx_has_the_sheets_headers_frozen_panes_and_totals(db):
    answer, content = pull(db, "annual-summary", "xlsx", year=2026)
    workbook = load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ["概况", "培训项目", "按领域", "按党委", "学时", "学时按党委"]
    tracks = workbook["培训项目"]
    assert [c.value for c in tracks[1]] == [
        "培训项目", "区级调训目标人次", "区级调训完成人次", "区级调训完成率",
        "单位自主培训目标人次", "单位自主培训完成人次", "完成人次合计", "报名人次", "参训班次",
        "主办班次"]
    assert tracks.freeze_panes == "A2"
    assert tracks["A1"].font.bold and tracks["A1"].fill.fgColor.rgb.endswith("C00000")
    assert [c.value for c in tracks[2]] == ["千名书记进党校", 4, 2, 0.5, 0, 0, 2, 4, 2, 2]
    totals = [c.value for c in tracks[tracks.max_row]]
    assert totals == ["合计", 9, 4, 0.4444, 0, 0, 4, 7, 3, 3]
    assert tracks["D4"].number_format == "0.0%"
    committees = workbook["按党委"]
    assert [c.value for c in committees[committees.max_row]][:4] == ["合计", 2, 2, 4]
    # Width in character units; Chinese counts two: "区教育工作党委" is 14 wide.
    assert committees.column_dimensions["A"].width >= 14
    assert answer["content_type"] == \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_class_record_xlsx_lists_sessions_and_participants_with_totals(db):
    _, content = pull(db, "class-record", "xlsx", class_id=uid("K1"))
    workbook = load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ["概况", "参训人员", "课次出勤"]
    sessions = workbook["课次出勤"]
    header = [c.value for c in sessions[1]]
    assert header[:4] == ["序号", "日期", "时间", "课程"]
    total = dict(zip(header, [c.value for c in sessions[sessions.max_row]], strict=True))
    assert (total["序号"], total["出席"], total["线上"], total["请假"], total["缺勤"]) == \
        ("合计", 7, 1, 1, 0)
    people = workbook["参训人员"]
    assert people.max_row == 1 + 3 + 1


def test_xlsx_sheets_are_set_up_to_print_one_page_wide_with_their_header(db):
    _, content = pull(db, "class-record", "xlsx", class_id=uid("K1"))
    workbook = load_workbook(io.BytesIO(content))
    for sheet in workbook.worksheets:
        setup = sheet.page_setup
        assert (setup.paperSize, setup.fitToWidth, setup.fitToHeight) == (9, 1, 0)   # A4
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.page_margins.left == 0.4 and sheet.page_margins.top == 0.75
        assert sheet.oddFooter.left.text == "制表单位：奉贤区委"
        assert sheet.oddFooter.right.text.startswith("制表日期：")
        assert sheet.oddFooter.center.text == "第 &P 页，共 &N 页"
    sessions, people = workbook["课次出勤"], workbook["参训人员"]
    assert sessions.print_title_rows == people.print_title_rows == "$1:$1"
    assert sessions.page_setup.orientation == "landscape"       # twelve columns
    assert workbook["概况"].page_setup.orientation == "portrait"
    assert sessions.oddHeader.center.text == "班次培训情况　课次出勤"


def test_xlsx_cells_are_dates_numbers_and_text_in_one_cjk_font(db):
    _, content = pull(db, "class-record", "xlsx", class_id=uid("K1"))
    workbook = load_workbook(io.BytesIO(content))
    sessions = workbook["课次出勤"]
    assert sessions["B2"].value.date() == date(2026, 4, 1)
    assert sessions["B2"].number_format == "yyyy-mm-dd"
    assert (sessions["F2"].value, sessions["F2"].number_format) == (3, "0.0#")
    assert sessions["L2"].number_format == "0.0%"
    people = workbook["参训人员"]
    assert (people["A2"].value, people["A2"].number_format) == ("S11", "@")
    # The widths fit Chinese: "南桥村党总支" is 12 wide.
    assert people.column_dimensions["C"].width >= 12
    fonts = {cell.font.name for sheet in workbook.worksheets for row in sheet.iter_rows()
             for cell in row}
    assert fonts == {"宋体"}


def test_pdf_embeds_the_cjk_font_and_its_text_holds_the_headings_and_figures(db, tmp_path):
    answer, content = pull(db, "annual-summary", "pdf", year=2026)
    assert content.startswith(b"%PDF")
    path = tmp_path / answer["file_name"]
    path.write_bytes(content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    for heading in ("2026年度大培训统计", "培训项目完成情况", "按领域统计", "按党(工)委统计",
                    "学时完成情况", "书记参训覆盖率", "南桥镇党委", "千名书记进党校"):
        assert heading in text, heading
    assert "50.0%（2/4 个基层党组织）" in text
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                           check=True).stdout
    line = next(row for row in fonts.splitlines() if "WenQuanYi" in row)
    assert line.split()[-5:-3] == ["yes", "yes"]   # embedded, subset
    assert answer["content_type"] == "application/pdf"


def test_class_record_pdf_names_the_sessions_and_counts(db, tmp_path):
    _, content = pull(db, "class-record", "pdf", class_id=uid("K1"))
    path = tmp_path / "record.pdf"
    path.write_bytes(content)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    for words in ("班次培训情况", "课次出勤", "参训人员", "学习贯彻习近平新时代党建思想",
                  "88.9%", "核心理论课占比", "制表单位：奉贤区委", "制表日期："):
        assert words in text, words


def test_a_filed_record_carries_the_made_line_in_xlsx_and_pdf(tmp_path):
    engine = sqlite_engine(tmp_path / "reporting.db", "reporting")
    load(engine, small_district().events)
    with Session(engine) as session:
        filed = filing.file(session, FakeOutbox(), uid("K2"), "record", "C1", "c1")
        files = {fmt: base64.b64decode(filing.document(session, filed["filing_id"], fmt)
                                       ["content_b64"]) for fmt in ("xlsx", "pdf")}
    engine.dispose()
    workbook = load_workbook(io.BytesIO(files["xlsx"]))
    assert {sheet.oddFooter.left.text for sheet in workbook.worksheets} == {"制表单位：南桥镇党委"}
    path = tmp_path / "record.pdf"
    path.write_bytes(files["pdf"])
    first_page = subprocess.run(["pdftotext", "-l", "1", str(path), "-"], capture_output=True,
                                text=True, check=True).stdout
    assert "制表单位：南桥镇党委" in first_page and "制表日期：" in first_page


def test_png_is_the_annual_summarys_charts(db):
    answer, content = pull(db, "annual-summary", "png", year=2026)
    assert content.startswith(b"\x89PNG\r\n\x1a\n")
    assert answer["file_name"] == "annual-summary-2026.png"
    assert answer["content_type"] == "image/png"


def test_the_font_comes_from_the_projects_set_up():
    assert config.cjk_font().exists(), "make installs fonts-wqy-microhei"
