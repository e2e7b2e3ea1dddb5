"""Checking people in through a real browser (Debian's chromium), as at the door of a class: the
clerk scans three people in (a scanner types the number and presses Enter), scans one again,
scans a stranger; each answer shows at once and the field is ready for the next scan. On a
phone's 390 px the field and its button are on the screen and nothing runs off it. Then a
certificate's QR code opens the public verification page. Screenshots at 1366 px and 390 px, and
the 签到表 and 结业证书 drawn to PNG, go to out/screenshots/."""

from urllib.parse import urlsplit

import pytest

from tests.support.browser import PHONE, SCREENSHOTS, context_for, scan, screenshot
from tests.support.door import Door, build, decoded, pdf_pages_as_png
from tests.support.system import whole_system
from tests.support.waiting import wait_until


@pytest.fixture(scope="module")
def door(amqp_uri, vhost, database_urls):
    with whole_system(amqp_uri, vhost, database_urls) as (base, rpc):
        yield build(Door(base, database_urls["gateway"], rpc))


def test_a_clerk_scans_three_people_in(chromium, door):
    context = context_for(chromium, door.base, door.tokens["district_admin"])
    page = context.new_page()
    try:
        page.goto(f"/admin/sessions/{door.sessions['a']}/check-in")
        screenshot(page, "checkin-empty")
        for member_no, name in (("A1", "张小三"), ("A2", "李四"), ("B1", "孙八")):
            assert page.evaluate("document.activeElement.name") == "member_no"
            answer = scan(page, member_no)
            assert name in answer and "出席，已记录" in answer, answer
            assert page.input_value("input[name=member_no]") == ""
        assert "已签到（重复扫描，未重复记录）" in scan(page, "A1")
        assert "不在本班名单" in scan(page, "A9")
        counts = page.inner_text(".counts")
        assert "出席 3 人" in counts.replace("\n", "") and "线下应到 4 人" in counts
        listed = page.inner_text("table >> nth=0")
        assert all(name in listed for name in ("张小三", "李四", "孙八"))
        screenshot(page, "checkin-desktop")
    finally:
        context.close()
    assert [door.history(no) for no in ("A1", "A2", "B1")] == [[("present", "checkin")]] * 3


def test_the_check_in_page_fits_a_phone(chromium, door):
    context = context_for(chromium, door.base, door.tokens["checkin_a"], viewport=PHONE)
    page = context.new_page()
    try:
        page.goto(f"/admin/sessions/{door.sessions['a']}/check-in")
        answer = scan(page, "A3")
        assert "王五" in answer and "出席，已记录" in answer
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page is {width} px wide on a 390 px phone"
        for selector in ("input[name=member_no]", "button[value=present]",
                         "button[value=leave]", "[role=status]"):
            box = page.locator(selector).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], \
                (selector, box)
            assert box["y"] + box["height"] <= PHONE["height"], (selector, box)
        screenshot(page, "checkin-phone")
    finally:
        context.close()


def test_a_certificate_verifies_in_the_browser(chromium, door):
    """After the two tests above: the session completes, so does the class; 张小三's 结业证书
    and the 签到表 are drawn to PNG beside the screenshots; its QR code opens the public page."""
    sheet = door.call("GET", f"/admin/sessions/{door.sessions['a']}/sign-in-sheet.pdf")
    pdf_pages_as_png(sheet.content, SCREENSHOTS, "sign-in-sheet", dpi=100)
    done = door.call("POST", f"/api/v1/sessions/{door.sessions['a']}/complete")
    assert done.status_code == 200, done.text
    wait_until(lambda: door.call("GET", f"/api/v1/enrolments/{door.enrolments['A1']}")
               .json()["status"] == "completed", timeout=30, message="the class to complete")
    made = door.call("GET", f"/api/v1/enrolments/{door.enrolments['A1']}/certificate.pdf")
    [png] = pdf_pages_as_png(made.content, SCREENSHOTS, "certificate", dpi=200)
    [(_kind, link)] = decoded(png)
    for viewport, name in ((None, "verify-desktop"), (PHONE, "verify-phone")):
        context = context_for(chromium, door.base, **({"viewport": viewport} if viewport
                                                      else {}))   # no token: it is public
        page = context.new_page()
        try:
            page.goto(urlsplit(link).path)
            text = page.inner_text("main")
            assert "该结业证书真实有效" in text and "张*三" in text and "张小三" not in text
            screenshot(page, name)
        finally:
            context.close()
