"""A clerk signs in with a user name and password in a real browser, sees the year at a glance,
and signs out; a wrong password is refused on the sign-in page. Screenshots of the sign-in page
(desktop and phone), of the refusal and of the glance go to out/screenshots/."""

import pytest

from services.gateway.tokens import create_user
from services.kit import clock
from tests.support.browser import PHONE, context_for, screenshot
from tests.support.system import whole_system

PASSWORD = "甲镇居民区 2026 春"
ORGS = [("FX", "区委", "", "committee", ""), ("CA", "甲镇党委", "FX", "committee", ""),
        ("CA01", "甲镇某居民区党总支", "CA", "grassroots", "residential")]


@pytest.fixture(scope="module")
def site(amqp_uri, vhost, database_urls):
    with whole_system(amqp_uri, vhost, database_urls) as (base, rpc):
        rpc.enrollment.import_orgs([
            {"row": i + 2, "org_code": code, "name": name, "parent_code": parent, "kind": kind,
             "sector": sector} for i, (code, name, parent, kind, sector) in enumerate(ORGS)])
        create_user("zhang.min", "committee_admin", "CA", PASSWORD,
                    database_url=database_urls["gateway"])
        yield base


def test_a_clerk_signs_in_sees_the_year_and_signs_out(chromium, site):
    context = context_for(chromium, site)
    page = context.new_page()
    page.goto("/admin")
    assert page.url.endswith("/admin/login?next=%2Fadmin")
    assert page.get_by_label("用户名").is_visible() and page.get_by_label("密码").is_visible()
    screenshot(page, "sign-in")

    page.get_by_label("用户名").fill("zhang.min")
    page.get_by_label("密码").fill("not the password")
    page.get_by_role("button", name="登录").click()
    assert page.locator("p.error").inner_text() == "用户名或密码不正确。"
    assert page.get_by_label("用户名").input_value() == "zhang.min"
    screenshot(page, "sign-in-refused")

    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    # The signed-in header is the glance's (waiting on it, not on the URL: playwright's
    # navigation waits never return under the tests' eventlet).
    assert page.locator("header .who").inner_text().startswith("zhang.min · 党(工)委管理员 · CA")
    assert page.url.endswith("/admin")
    year = clock.today().year
    assert page.get_by_role("heading", level=1).inner_text() == f"{year}年度大培训 · 年度概览"
    assert "统计范围：甲镇党委（CA）" in page.content()
    screenshot(page, "glance-signed-in")

    page.get_by_role("button", name="退出").click()
    assert page.get_by_label("用户名").input_value() == ""
    assert page.url.endswith("/admin/login")
    page.goto("/admin")                      # signed out on the server: back to sign in
    assert "/admin/login" in page.url and page.get_by_label("密码").is_visible()


def test_the_sign_in_page_fits_a_phone(chromium, site):
    context = context_for(chromium, site, viewport=PHONE)
    page = context.new_page()
    page.goto("/admin/login")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    screenshot(page, "sign-in-phone")


def test_a_signed_in_page_fits_a_phone_its_menu_wrapped_not_cut(chromium, site):
    context = context_for(chromium, site, viewport=PHONE)
    page = context.new_page()
    page.goto("/admin/login")
    page.get_by_label("用户名").fill("zhang.min")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    assert page.locator("header .who").inner_text().startswith("zhang.min")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Every menu entry on the screen, none scrolled away or cut off.
    boxes = [link.bounding_box() for link in page.locator("header nav a").all()]
    assert len(boxes) == 7
    assert all(0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"] for box in boxes)
    screenshot(page, "glance-phone")
