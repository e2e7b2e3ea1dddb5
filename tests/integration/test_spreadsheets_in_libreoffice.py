"""The CSV and XLSX files as people open and print them: LibreOffice (headless) reads each back.

A class whose people have 13-digit 党员编号 (one with a leading zero), whose organisation's
code is "0012", whose three sessions are all held ("已完成课次 3/3"): the CSV opened as a
person's import opens it keeps every one of those as it is; the XLSX printed to PDF puts every
table one page wide, its header row on every page, with 制表单位 and 制表日期."""

import base64
import io
from datetime import date

import pytest
import requests
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from services.gateway.tokens import create
from services.reporting import store
from tests.support.databases import sqlite_engine
from tests.support.districts import District, load, small_district, uid
from tests.support.documents import (
    CSV_EXPORT,
    CSV_IMPORT,
    libreoffice,
    pdf_page_sizes,
    pdf_page_texts,
    pdf_to_png,
)
from tests.support.system import reporting_behind_the_gateway

PEOPLE = 60
MEMBER_NOS = ["0310120000001"] + [f"31012{n:08d}" for n in range(2, PEOPLE + 1)]
LONG_COURSE = ("深入学习贯彻习近平新时代中国特色社会主义思想和党的二十大精神专题辅导报告"
               "暨基层党建工作实务")   # wider than a column may be: it wraps


def spreadsheet_district() -> District:
    w = District()
    w.org("FX", "奉贤区委", None, "district")
    w.org("C1", "南桥镇党委", "FX", "committee")
    w.org("0012", "南桥镇第一村党总支", "C1", "grassroots", "village", MEMBER_NOS[0])
    for i, member_no in enumerate(MEMBER_NOS):
        w.person(member_no, "0012", "C1", name=f"党员{i + 1:02d}",
                 secretary_of="0012" if i == 0 else None)
    w.program("PS", 2026, "secretaries", 60)
    audience = {"sector": None, "module": "basic_theory"}
    w.klass("class_published", "KS", "PS", 2026, "secretaries", "FX", "2026-04-01",
            "2026-04-02", audience)
    sessions = (("SA", "学习贯彻习近平新时代党建思想", True, "2026-04-01T09:00:00+08:00", 3),
                ("SB", LONG_COURSE, True, "2026-04-01T14:00:00+08:00", 3),
                ("SC", "奉贤区经济社会形势报告", False, "2026-04-02T09:00:00+08:00", 2))
    for n, (name, title, core, starts, hours) in enumerate(sessions):
        w.session("session_scheduled", name, "KS", title, core, starts, hours, n)
    for i, member_no in enumerate(MEMBER_NOS):
        w.enrol("enrollment_confirmed", f"ES{i}", "KS", member_no, "0012", "C1", "village")
    for n, (name, title, core, starts, hours) in enumerate(sessions):
        w.session("session_completed", name, "KS", title, core, starts, hours, n)
        for i, member_no in enumerate(MEMBER_NOS):
            w.attend(f"ES{i}", name, "KS", member_no, "present", hours, starts)
    w.klass("class_completed", "KS", "PS", 2026, "secretaries", "FX", "2026-04-01",
            "2026-04-02", audience, class_hours=8, sessions_completed=3)
    for i, member_no in enumerate(MEMBER_NOS):
        w.complete(f"ES{i}", "KS", member_no, 2026, "completed", 8, 8)
    return w


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    engine = sqlite_engine(tmp_path_factory.mktemp("sheets") / "reporting.db", "reporting")
    load(engine, spreadsheet_district().events)
    with Session(engine) as session:
        yield session
    engine.dispose()


def pulled(db, tmp_path, name, fmt, file_name=None, **params):
    answer = store.pull(db, None, name, params, fmt)
    path = tmp_path / (file_name or answer["file_name"])
    path.write_bytes(base64.b64decode(answer["content_b64"]))
    return path


def opened_csv(path, tmp_path):
    """The CSV as LibreOffice's import reads it: every cell (value, type), and the text it
    shows, row by row."""
    as_xlsx = libreoffice(path, "xlsx", tmp_path / "opened", infilter=CSV_IMPORT)
    sheet = load_workbook(as_xlsx, data_only=True).active
    cells = [[(c.value, c.data_type) for c in row] for row in sheet.iter_rows()]
    shown = libreoffice(path, CSV_EXPORT, tmp_path / "shown", infilter=CSV_IMPORT)
    lines = shown.read_text("utf-8-sig").splitlines()
    return cells, [line.split(",") for line in lines]


def test_csv_keeps_every_member_number_and_the_organisation_code_as_text(db, tmp_path):
    cells, shown = opened_csv(pulled(db, tmp_path, "class-record", "csv", class_id=uid("KS")),
                              tmp_path)
    header = [value for value, _ in cells[0]]
    assert header[:3] == ["党员编号", "姓名", "所在组织"]
    numbers = [row[0] for row in cells[1:]]
    assert numbers == [(m, "s") for m in MEMBER_NOS]
    assert [row[0] for row in shown[1:]] == MEMBER_NOS   # not 3.1012E+12, not 310120000001
    assert len(cells) == 1 + PEOPLE                         # one flat table: no totals row
    hours = header.index("出勤学时")
    assert {row[hours] for row in cells[1:]} == {(8, "n")}   # numbers stay numbers


def test_csv_overview_keeps_three_of_three_and_percentages_as_written(db, tmp_path):
    path = pulled(db, tmp_path, "class-record", "csv", "overview.csv", class_id=uid("KS"),
                  section="overview")
    cells, shown = opened_csv(path, tmp_path)
    assert [value for value, _ in cells[0]] == ["项目", "内容"]
    facts = {row[0][0]: row[1] for row in cells[1:]}
    assert facts["已完成课次"] == ("3/3", "s")
    assert facts["出勤率"] == ("100.0%", "s")
    assert facts["制表单位"] == ("奉贤区委", "s")
    assert dict((row[0], row[1]) for row in shown[1:] if len(row) == 2)["已完成课次"] == "3/3"


def test_csv_sessions_section_has_real_dates_and_text_times(db, tmp_path):
    path = pulled(db, tmp_path, "class-record", "csv", "sessions.csv", class_id=uid("KS"),
                  section="sessions")
    cells, _ = opened_csv(path, tmp_path)
    header = [value for value, _ in cells[0]]
    assert header[:4] == ["序号", "日期", "时间", "课程"]
    first = dict(zip(header, cells[1], strict=True))
    assert first["日期"][1] == "d" and first["日期"][0].date() == date(2026, 4, 1)
    assert first["时间"] == ("09:00-12:00", "s")
    assert first["出勤率"] == ("100.0%", "s")
    assert first["序号"] == (1, "n")


def sheet_pages(pdf, titles):
    """Pages by the table their page header names (a page's header is `title　table`)."""
    texts = pdf_page_texts(pdf, layout=True)
    pages = {}
    for number, text in enumerate(texts, 1):
        head = "".join(text.strip().splitlines()[0].split()) if text.strip() else ""
        table = next((t for t in titles if head.endswith(t)), None)
        pages.setdefault(table, []).append((number, text))
    return texts, pages


def assert_printed_one_page_wide_with_headers(workbook_path, pdf, expect_pages):
    workbook = load_workbook(workbook_path)
    headers = {}
    for sheet in workbook.worksheets[1:]:
        title = sheet.oddHeader.center.text.split("　", 1)[1]
        headers[title] = [c.value for c in sheet[1]]
    texts, pages = sheet_pages(pdf, list(headers))
    for title, labels in headers.items():
        printed = pages.get(title, [])
        assert len(printed) >= expect_pages.get(title, 1), (title, len(printed))
        for number, text in printed:
            # Every column's heading on every page: the header repeats, and no column was
            # pushed onto a page of its own.
            joined = "".join(text.split())
            missing = [label for label in labels if label not in joined]
            assert not missing, (title, number, missing)
    for number, text in enumerate(texts, 1):
        assert "制表单位：奉贤区委" in text and "制表日期：" in text, number
    return pages


def test_class_record_xlsx_prints_every_table_one_page_wide_with_its_header(db, tmp_path):
    workbook = pulled(db, tmp_path, "class-record", "xlsx", class_id=uid("KS"))
    pdf = libreoffice(workbook, "pdf", tmp_path / "printed")
    pages = assert_printed_one_page_wide_with_headers(workbook, pdf, {"参训人员": 2})
    sizes = pdf_page_sizes(pdf)
    sessions = [n for n, _ in pages["课次出勤"]]
    assert all(sizes[n - 1][0] > sizes[n - 1][1] for n in sessions)   # landscape: wide
    people = [n for n, _ in pages["参训人员"]]
    assert sizes[0][0] < sizes[0][1]                                   # 概况 fits upright
    text = "".join(t for _, t in pages["参训人员"])
    assert all(m in text for m in MEMBER_NOS)
    drawn = pdf_to_png(pdf, tmp_path / "png", (1, people[0], people[-1], sessions[0]))
    assert all(p.stat().st_size > 5000 for p in drawn)


def test_annual_summary_xlsx_prints_its_widest_table_on_one_page(db, tmp_path):
    workbook = pulled(db, tmp_path, "annual-summary", "xlsx", year=2026)
    pdf = libreoffice(workbook, "pdf", tmp_path / "printed")
    pages = assert_printed_one_page_wide_with_headers(workbook, pdf, {})
    sizes = pdf_page_sizes(pdf)
    assert all(sizes[n - 1][0] > sizes[n - 1][1] for n, _ in pages["学时完成情况"])


def test_xlsx_cells_are_typed_and_in_the_cjk_font(db, tmp_path):
    workbook = load_workbook(io.BytesIO(base64.b64decode(store.pull(
        db, None, "class-record", {"class_id": uid("KS")}, "xlsx")["content_b64"])))
    people = workbook["参训人员"]
    assert people["A2"].value == MEMBER_NOS[0] and people["A2"].number_format == "@"
    sessions = workbook["课次出勤"]
    assert sessions["B2"].value.date() == date(2026, 4, 1)
    assert sessions["B2"].number_format == "yyyy-mm-dd"
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.font.name == "宋体", (sheet.title, cell.coordinate)


# -- through the public door ------------------------------------------------------------------

@pytest.fixture
def gateway(runner_factory, service_config, database_urls, publish, rpc):
    base = reporting_behind_the_gateway(runner_factory, service_config, publish, rpc,
                                        small_district().events)
    token = create("district_admin", None, database_url=database_urls["gateway"])
    return base, {"Authorization": f"Bearer {token}"}


def test_the_api_hands_out_each_section_as_a_csv_of_its_own(gateway, tmp_path):
    base, admin = gateway

    def get(**params):
        return requests.get(f"{base}/api/v1/reports/class-record", headers=admin,
                            params={"class_id": uid("K1"), **params}, timeout=30)

    main, sessions = get(format="csv"), get(format="csv", section="sessions")
    assert main.status_code == sessions.status_code == 200, (main.text, sessions.text)
    assert main.content.decode("utf-8-sig").startswith("党员编号,姓名,所在组织")
    assert sessions.content.decode("utf-8-sig").startswith("序号,日期,时间,课程")
    assert sessions.headers["Content-Disposition"] == \
        f'attachment; filename="class-record-{uid("K1")}-2026-sessions.csv"'
    path = tmp_path / "overview.csv"
    path.write_bytes(get(format="csv", section="overview").content)
    cells, _ = opened_csv(path, tmp_path)
    assert {row[0][0]: row[1] for row in cells[1:]}["已完成课次"] == ("3/3", "s")

    unknown = get(format="csv", section="people")
    assert unknown.status_code == 422
    assert unknown.headers["Content-Type"] == "application/problem+json"
    (reason,) = unknown.json()["errors"]["section"]
    assert "participants, sessions, overview" in reason
    whole = get(format="xlsx", section="sessions")
    assert whole.status_code == 422 and "section" in whole.json()["errors"]
