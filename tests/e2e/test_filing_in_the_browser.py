"""Filing in a real browser (Debian's chromium driven by playwright), every service running: a
unit files its completed class's record with a scanned sign-in sheet, its superior looks at it,
ticks the box and returns it with a reason, the unit sees the reason and files again with a new
scan, the superior acknowledges. Each page is photographed at 1366 px into out/screenshots/, and
none of its tables wraps a short cell one character a line.
"""

import pytest

from tests.support.browser import context_for, screenshot
from tests.support.system import whole_system
from tests.support.unit_filing import PDF, TITLE_UNIT, YEAR, build

# A cell narrower than this many pixels holds a character a line.
NARROWEST_CELL = 40


@pytest.fixture(scope="module")
def world(amqp_uri, vhost, database_urls):
    with whole_system(amqp_uri, vhost, database_urls) as (base, rpc):
        yield build(base, database_urls["gateway"], rpc)


def look(page, name: str) -> None:
    """A screenshot to look at, and no table cell squeezed to a character's width."""
    screenshot(page, name)
    narrow = page.eval_on_selector_all(
        "td, th", f"cells => cells.filter(c => c.innerText.trim().length > 1 && "
                  f"c.getBoundingClientRect().width < {NARROWEST_CELL}).map(c => c.innerText)")
    assert narrow == [], (name, narrow)


def submit(where, button: str, page=None) -> None:
    """Press a form's button and wait for the page it leads to, which says what was done.
    (Not expect_navigation: after a file upload it never returns beside eventlet.)"""
    where.get_by_role("button", name=button).click(no_wait_after=True)
    (page or where).wait_for_selector(".notice")


def test_a_unit_files_its_record_with_a_scan_the_superior_returns_it_then_acknowledges(
        chromium, world):
    # Chosen as the browser's file dialog would hand them over. (From a path, playwright reads
    # the file in a worker thread, which eventlet's patched threads leave waiting forever.)
    scan = {"name": "签到表（签字）.pdf", "mimeType": "application/pdf", "buffer": PDF}
    rescan = {"name": "签到表（补签）.pdf", "mimeType": "application/pdf",
              "buffer": PDF + b"% signed again\n"}
    unit_context = context_for(chromium, world.base, world.tokens["org_a"])
    superior_context = context_for(chromium, world.base, world.tokens["committee_a"])
    unit, superior = unit_context.new_page(), superior_context.new_page()
    for page in (unit, superior):
        page.set_default_timeout(15000)
    try:
        unit.goto("/admin/filings/outgoing")
        look(unit, "filing-01-outgoing")
        unit.get_by_role("row", name=f"{TITLE_UNIT} 培训情况").get_by_role(
            "link", name="报送").click()
        unit.set_input_files("input[name=attachments]", scan)
        look(unit, "filing-02-file-form")
        submit(unit, "报送培训情况")
        assert "已报送，等待上级党组织审核" in unit.content()
        look(unit, "filing-03-filed")

        superior.goto("/admin/filings")
        assert "签到表（签字）.pdf" in superior.content()
        look(superior, "filing-04-inbox")
        superior.get_by_role("link", name="审核…").click()
        look(superior, "filing-05-review")
        # The scan's link downloads it as filed (fetched beside the browser: playwright saves a
        # download through a worker thread too).
        link = superior.get_by_role("link", name="签到表（签字）.pdf").get_attribute("href")
        got = world.get(world.browser("committee_a"), link)
        assert got.content == PDF and "filename*=UTF-8''" in got.headers["Content-Disposition"]
        # 退回 needs a reason and the box ticked: without it the browser does not send it.
        returning = superior.locator("form[action$='/return']")
        returning.locator("textarea[name=reason]").fill("签到表缺少第二页签字")
        returning.get_by_role("button", name="退回").click()
        assert world.filings_of("unit", "record")[0]["status"] == "filed"
        returning.locator("input[name=confirm]").check()
        submit(returning, "退回", superior)
        assert "已退回报送单位" in superior.content()
        assert world.filings_of("unit", "record")[0]["status"] == "returned"

        unit.goto(f"/admin/filings/outgoing?year={YEAR}")
        assert "签到表缺少第二页签字" in unit.content()
        look(unit, "filing-06-returned")
        unit.get_by_role("link", name="重新报送").click()
        unit.set_input_files("input[name=attachments]", rescan)
        look(unit, "filing-07-refile-form")
        submit(unit, "重新报送培训情况")

        superior.goto("/admin/filings")
        superior.get_by_role("link", name="审核…").click()
        acknowledging = superior.locator("form[action$='/acknowledge']")
        acknowledging.locator("input[name=confirm]").check()
        submit(acknowledging, "确认备案", superior)
        assert "已确认备案" in superior.content()
        versions = world.filings_of("unit", "record")
        assert [v["status"] for v in versions] == ["returned", "acknowledged"]
        assert [a["file_name"] for a in versions[1]["attachments"]] == ["签到表（补签）.pdf"]
        superior.goto(f"/admin/filings/{versions[1]['filing_id']}")
        look(superior, "filing-08-acknowledged")

        # The other pages a clerk meets on the way, looked at too.
        for path, name in (("/admin", "page-glance"), ("/admin/filings?status=all",
                                                         "page-inbox-all"),
                           (f"/admin/filing-status?year={YEAR}", "page-filing-status"),
                           (f"/admin/coverage-gaps?year={YEAR}", "page-coverage-gaps"),
                           (f"/admin/members/A1?year={YEAR}", "page-member"),
                           (f"/admin/classes/{world.classes['unit']}", "page-class-record"),
                           (f"/admin/classes?year={YEAR}", "page-classes"),
                           ("/admin/members/NOBODY", "page-error-404")):
            superior.goto(path)
            look(superior, name)
    finally:
        unit_context.close()
        superior_context.close()
