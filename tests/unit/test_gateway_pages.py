"""The admin pages' building blocks without a broker: HTML that escapes whatever it is given, and
bar charts drawn as SVG from a report's Chart."""

import xml.etree.ElementTree as ET

import pytest

from services.contracts.document import Chart, Column, Document, Table
from services.gateway import openapi
from services.gateway.pages import charts, markup, views
from services.gateway.routes.pages import csrf_token, safe_next
from services.gateway.service import GatewayService

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg_text: str) -> ET.Element:
    return ET.fromstring(svg_text)


def bars(root: ET.Element) -> list[ET.Element]:
    return [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]


def test_every_value_is_escaped_and_markup_is_not():
    hostile = '<script>alert("x")</script>'
    written = markup.el("td", hostile, title=hostile)
    assert "<script>" not in written
    assert written == ('<td title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;">'
                       "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</td>")
    assert markup.el("p", markup.el("b", "粗")) == "<p><b>粗</b></p>"
    assert markup.el("input", name="year", value=2026, required=True) == \
        '<input name="year" value="2026" required>'


def test_a_report_table_keeps_its_columns_kinds_and_totals():
    t = Table("按领域统计", [Column("label", "领域"), Column("total", "合计人次", "int"),
                           Column("coverage", "覆盖率", "pct")],
              [{"label": "村<i>", "total": 3, "coverage": 0.5}],
              totals={"label": "合计", "total": 3, "coverage": 0.5})
    written = markup.table(t)
    assert "<caption>按领域统计</caption>" in written
    assert "村&lt;i&gt;" in written and '<td class="num">50.0%</td>' in written
    assert "<tfoot><tr><td>合计</td>" in written


def test_bars_are_as_tall_as_their_values_on_a_nice_axis():
    chart = Chart("各培训项目完成人次与目标", ["千名书记进党校", "万名党员进课堂"],
                  {"完成人次": [30, 120], "目标人次": [40, 200]}, value_label="人次")
    root = parse(charts.svg(chart))
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    drawn = bars(root)
    assert len(drawn) == 4
    heights = {r.find(f"{SVG}title").text: float(r.get("height")) for r in drawn}
    assert heights["万名党员进课堂 · 目标人次：200"] == pytest.approx(
        heights["万名党员进课堂 · 完成人次：120"] * 200 / 120, abs=0.2)
    assert heights["千名书记进党校 · 完成人次：30"] == pytest.approx(
        heights["万名党员进课堂 · 完成人次：120"] / 4, abs=0.2)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "200" in texts and "完成人次" in texts and "目标人次" in texts   # values, legend
    assert charts.scale(200, False) == (200, 50)
    assert charts.scale(7, False) == (8, 2)
    assert charts.scale(0, False) == (1, 1)
    assert charts.scale(0.6, True) == (100, 25)


def test_percentages_are_drawn_out_of_a_hundred():
    chart = Chart("覆盖率", ["村", "居民区"], {"覆盖率": [0.5, 1.0]}, percent=True)
    root = parse(charts.svg(chart))
    heights = [float(r.get("height")) for r in bars(root)]
    assert heights[1] == 2 * heights[0]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "50.0%" in texts and "100%" in texts


def test_horizontal_bars_put_the_first_category_at_the_bottom_and_cut_long_names():
    long = "区国有资产监督管理委员会党委所属某某集团有限公司党委"
    chart = Chart("各党(工)委参训人次", ["甲镇党委", long], {"书记班": [1, 2]}, kind="barh")
    root = parse(charts.svg(chart))
    first, second = bars(root)
    assert float(first.get("y")) > float(second.get("y"))
    assert float(second.get("width")) == 2 * float(first.get("width"))
    labels = [t.text for t in root.iter(f"{SVG}text") if t.text and t.text.endswith("…")]
    assert labels and long.startswith(labels[0][:-1])
    assert second.find(f"{SVG}title").text.startswith(long)   # the whole name in the tooltip


def test_a_chart_without_data_says_so_and_names_are_escaped():
    root = parse(charts.svg(Chart("<b>空</b>", [], {})))
    assert root.find(f"{SVG}title").text == "<b>空</b>"      # escaped in the markup
    assert "暂无数据" in [t.text for t in root.iter(f"{SVG}text")]
    assert "<b>" not in charts.svg(Chart("<b>空</b>", ["<i>"], {"<u>": [1]}))


def test_the_glance_page_draws_the_reports_own_charts_and_no_other():
    """The PDF and the page draw the same charts: the annual summary's (its per-sector chart
    included), none added by the page."""
    own = [Chart(title, ["甲"], {"人次": [n]}) for n, title in enumerate((
        "各培训项目完成人次与目标", "各领域参训人次", "各党(工)委参训人次（前15）"), 1)]
    totals = {"person_times": 3, "district_person_times": 2, "district_target": 4,
              "district_achievement": 0.5, "unit_person_times": 1, "unit_target": 2,
              "enrolled": 5, "classes_attended": 2, "classes": 1}
    data = {"year": 2026, "scope": None, "totals": totals,
            "coverage": {"rate": 0.5, "covered": 1, "orgs": 2}, "study_hours": {"groups": []}}
    page = views.glance(data, Document("2026年度大培训统计", charts=own), None, None)
    assert page.count("<svg") == 3
    assert all(chart.title in page for chart in own)


def test_the_inbox_says_when_a_class_changed_after_its_filing():
    filed = {"filing_id": "f1", "class_id": "k1", "org_code": "CA", "kind_label": "培训方案",
             "version": 1, "filed_at": "2026-09-01T10:00:00+08:00", "deadline": "2026-10-31",
             "status": "acknowledged", "status_label": "已备案", "late": False,
             "reviewed_at": "2026-09-02T10:00:00+08:00", "reason": None,
             "changed_label": "有变更待重新报送"}
    row = views._filing_row(filed, {}, {}, "csrf", {"status": "all", "org_code": ""})
    assert "已备案" in row and "有变更待重新报送" in row
    assert "有变更" not in views._filing_row({**filed, "changed_label": None}, {}, {}, "csrf",
                                            {"status": "all", "org_code": ""})


def test_sign_in_only_returns_to_admin_pages():
    assert safe_next("/admin/classes?year=2026") == "/admin/classes?year=2026"
    for outside in ("https://elsewhere.example/", "//elsewhere", "/api/v1/classes", None,
                    "/admin\r\nSet-Cookie: x=1"):
        assert safe_next(outside) == "/admin"


def test_the_csrf_token_depends_on_the_signed_in_token():
    assert csrf_token("px_a") == csrf_token("px_a") != csrf_token("px_b")
    assert "px_a" not in csrf_token("px_a")


def test_the_pages_stay_out_of_the_api_document():
    paths = openapi.build(GatewayService)["paths"]
    assert "/api/v1/classes" in paths
    assert not [p for p in paths if p.startswith("/admin")]


def test_a_class_is_offered_its_completion_only_once_no_session_is_open():
    from services.gateway.pages.classes import _actions

    def klass(*statuses):
        return {"class_id": "k1", "status": "in_progress",
                "sessions": [{"status": status} for status in statuses]}

    open_one = str(_actions(klass("completed", "scheduled", "cancelled"), "t"))
    assert "还有1个课次未完成，全部完成或取消后方可结业" in open_one
    assert "/admin/classes/k1/complete" not in open_one
    closable = str(_actions(klass("completed", "cancelled"), "t"))
    assert 'action="/admin/classes/k1/complete"' in closable and "班次结业" in closable
    assert "未完成" not in closable


def test_a_report_table_links_to_its_own_csv_when_the_page_gives_where():
    sessions = Table("课次出勤", [Column("sequence", "序号", "int")], [{"sequence": 1}],
                     section="sessions")
    linked = str(markup.table(sessions, csv=views.table_csv("/admin/x", year=2026)))
    assert 'href="/admin/x?format=csv&amp;section=sessions&amp;year=2026"' in linked
    assert "下载本表 CSV" not in str(markup.table(sessions))
    unnamed = Table("概况", [Column("label", "项目")], [{"label": "a"}])
    assert "下载本表 CSV" not in str(markup.table(unnamed, csv=views.table_csv("/admin/x")))

