"""The files people open: CSV with a BOM, XLSX with sheets, styled headers, frozen panes and
totals, PDF with the Chinese font embedded, PNG charts."""

import base64
import io
import subprocess

import pytest
from openpyxl import load_workbook

from services.kit import config
from services.reporting import store
from tests.support.districts import district_session, uid


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    yield from district_session(tmp_path_factory, "render")


def pull(db, name, fmt, **params):
    answer = store.pull(db, None, name, params, fmt)
    return answer, base64.b64decode(answer["content_b64"])


def test_csv_is_utf8_with_a_bom_and_chinese_headings(db):
    answer, content = pull(db, "annual-summary", "csv", year=2026)
    assert content.startswith(b"\xef\xbb\xbf")
    text = content[3:].decode("utf-8")
    assert "2026年度大培训统计" in text
    assert ("培训项目,区级调训目标人次,区级调训完成人次,区级调训完成率,单位自主培训目标人次,"
            "单位自主培训完成人次,完成人次合计,报名人次,参训班次,主办班次") in text
    assert "千名书记进党校,4,2,50.0%,0,0,2,4,2,2" in text
    assert answer["content_type"] == "text/csv; charset=utf-8"
    assert answer["file_name"] == "annual-summary-2026.csv"


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
    assert workbook.sheetnames == ["概况", "课次出勤", "参训人员"]
    sessions = workbook["课次出勤"]
    header = [c.value for c in sessions[1]]
    assert header[:4] == ["序号", "日期", "时间", "课程"]
    total = dict(zip(header, [c.value for c in sessions[sessions.max_row]], strict=True))
    assert (total["序号"], total["出席"], total["线上"], total["请假"], total["缺勤"]) == \
        ("合计", 7, 1, 1, 0)
    people = workbook["参训人员"]
    assert people.max_row == 1 + 3 + 1


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
                  "88.9%", "核心理论课占比"):
        assert words in text, words


def test_png_is_the_annual_summarys_charts(db):
    answer, content = pull(db, "annual-summary", "png", year=2026)
    assert content.startswith(b"\x89PNG\r\n\x1a\n")
    assert answer["file_name"] == "annual-summary-2026.png"
    assert answer["content_type"] == "image/png"


def test_the_font_comes_from_the_projects_set_up():
    assert config.cjk_font().exists(), "make installs fonts-wqy-microhei"
