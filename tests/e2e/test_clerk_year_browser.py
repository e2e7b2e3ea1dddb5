"""A committee's clerk's whole year in a real browser (Debian's chromium), every service
running: the clerk of 甲镇党委 signs in with a user name and password, creates a class of its own
program from the catalogue (two thirds core theory, sessions held earlier today), publishes it,
fills it from the 报名表 with one bad row, prints a session's 签到表, checks three people in,
completes the sessions and the class, files the class's record with a scan; the district, signed
in in a second browser, returns it with a reason, the clerk files again, the district
acknowledges; a 结业证书's QR code opens the public verification page. Each step is photographed
at 1366 px into out/screenshots/clerk-year-NN-*.png.

The attendance of the two earlier sessions is recorded through /api/v1 (as from their signed
sheets, at their start) with a token of the clerk's role and organisation: the pages record
attendance at the door, now, and the browser's session cookie is for /admin only."""

import io
import os
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

import pytest
import requests
from openpyxl import load_workbook

from services.gateway.tokens import create, create_user
from services.kit import clock
from services.kit.clock import SHANGHAI
from tests.support.browser import SCREENSHOTS, context_for, reload_until, scan, screenshot
from tests.support.door import decoded, pdf_pages_as_png
from tests.support.system import load_tree, whole_system
from tests.support.unit_filing import PDF

CLERK, CLERK_PASSWORD = "zhang.min", "甲镇党委 2026 冬训"
DISTRICT, DISTRICT_PASSWORD = "li.hua", "区委组织部 2026 冬训"
TITLE = "甲镇党员冬训示范班"
ORGS = [("FX", "区委", "", "committee", ""),
        ("CA", "甲镇党委", "FX", "committee", ""),
        ("CA01", "甲镇某居民区党总支", "CA", "grassroots", "residential"),
        ("CA02", "甲镇某村党支部", "CA", "grassroots", "village")]
PEOPLE = {"A1": ("张一", "CA01"), "A2": ("王二", "CA01"), "A3": ("李三", "CA01"),
          "A7": ("周七", "CA02")}
CORE = {"title": "学习贯彻习近平新时代中国特色社会主义思想", "core_theory": True,
        "default_kind": "lecture", "default_hours": 1.5}
OTHER = {"title": "红色村居现场教学", "core_theory": False, "default_kind": "onsite",
         "default_hours": 1.0}
VENUE = {"name": "甲镇党群服务中心", "seats": 80}
# Held earlier today, the last ending a minute ago: each can be completed, and check-ins now are
# within the tolerance of the last one's times. The services run on a simulated clock set to
# 15:00 today in Shanghai (as the demo's year does), so the story fits whatever the hour.
NOW = datetime.combine(datetime.now(SHANGHAI).date(), time(15, 0), SHANGHAI)
SESSIONS = [("other", NOW - timedelta(hours=4, minutes=30), NOW - timedelta(hours=3, minutes=30)),
            ("core", NOW - timedelta(hours=3, minutes=20), NOW - timedelta(hours=1, minutes=50)),
            ("core", NOW - timedelta(hours=1, minutes=40), NOW - timedelta(minutes=1))]


class Year:
    def __init__(self, base, gateway_db):
        self.base, self.gateway_db = base, gateway_db
        self.tokens, self.catalogue, self.program = {}, {}, None

    def api(self, method, path, who="district", **kw):
        return requests.request(method, self.base + path, timeout=30,
                                headers={"Authorization": f"Bearer {self.tokens[who]}"}, **kw)


@pytest.fixture(scope="module")
def year(amqp_uri, vhost, database_urls, tmp_path_factory):
    clock_file = tmp_path_factory.mktemp("clock") / "now"
    clock.set_simulated(clock_file, NOW)
    os.environ["PEIXUN_CLOCK_FILE"] = str(clock_file)
    try:
        yield from _year(amqp_uri, vhost, database_urls)
    finally:
        del os.environ["PEIXUN_CLOCK_FILE"]


def _year(amqp_uri, vhost, database_urls):
    with whole_system(amqp_uri, vhost, database_urls) as (base, rpc):
        world = Year(base, database_urls["gateway"])
        load_tree(rpc, ORGS, PEOPLE)
        world.catalogue = {
            "core": rpc.scheduling.create_course(CORE)["course_id"],
            "other": rpc.scheduling.create_course(OTHER)["course_id"],
            "venue": rpc.scheduling.create_venue(VENUE)["venue_id"]}
        create_user(CLERK, "committee_admin", "CA", CLERK_PASSWORD,
                    database_url=world.gateway_db)
        create_user(DISTRICT, "district_admin", None, DISTRICT_PASSWORD,
                    database_url=world.gateway_db)
        world.tokens = {"district": create("district_admin", database_url=world.gateway_db),
                        "clerk": create("committee_admin", "CA",
                                        database_url=world.gateway_db)}
        answer = world.api("POST", "/api/v1/programs", json={
            "year": NOW.year, "track": "members", "organiser_org_code": "CA",
            "name": "甲镇党委党员培训", "target_person_times": 100})
        assert answer.status_code == 201, answer.text
        world.program = answer.json()["program_id"]
        yield world


def sign_in(page, username, password):
    page.goto("/admin/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    # The glance's header, waited on (navigation waits never return beside eventlet).
    assert page.locator("header .who").inner_text().startswith(username)


def submit(where, button: str, page=None) -> None:
    """Press a form's button and wait for the page it leads to, which says what was done."""
    where.get_by_role("button", name=button).click(no_wait_after=True)
    (page or where).wait_for_selector(".notice")


def test_a_clerks_year_from_signing_in_to_a_verified_certificate(chromium, year):
    clerk_context, district_context = (context_for(chromium, year.base),
                                       context_for(chromium, year.base))
    clerk, district = clerk_context.new_page(), district_context.new_page()
    for page in (clerk, district):
        page.set_default_timeout(20000)
    try:
        sign_in(clerk, CLERK, CLERK_PASSWORD)
        screenshot(clerk, "clerk-year-01-signed-in")

        # The class, its sessions from the catalogue, published.
        clerk.goto(f"/admin/classes/new?year={NOW.year}")
        clerk.select_option("select[name=program_id]", year.program)
        clerk.fill("input[name=title]", TITLE)
        clerk.select_option("select[name=category]", "enterprise")
        clerk.fill("input[name=start_date]", NOW.date().isoformat())
        clerk.fill("input[name=end_date]", NOW.date().isoformat())
        clerk.fill("input[name=offline_capacity]", "40")
        screenshot(clerk, "clerk-year-02-class-new")
        clerk.click("text=保存草稿并添加课次")
        assert "班次草稿已保存" in clerk.inner_text("main")
        for course, starts, ends in SESSIONS:
            clerk.select_option("select[name=course_id]", year.catalogue[course])
            clerk.fill("#add-session input[name=starts]", starts.strftime("%H:%M"))
            clerk.fill("#add-session input[name=ends]", ends.strftime("%H:%M"))
            clerk.select_option("select[name=place]", f"venue:{year.catalogue['venue']}")
            clerk.click("text=添加课次 >> nth=-1")
            assert "课次已添加" in clerk.inner_text("main"), clerk.inner_text("main")
        assert "核心理论课 2/3 个课次（66.7%） · 已达到三分之二" in clerk.inner_text(".ratio")
        screenshot(clerk, "clerk-year-03-class-sessions")
        clerk.click("text=发布班次")
        assert "班次已发布" in clerk.inner_text("main")
        class_id = clerk.url.split("/admin/classes/")[1].split("/")[0]
        editor = f"/admin/classes/{class_id}/edit"
        sessions = [urlsplit(link).path.split("/")[3] for link in clerk.eval_on_selector_all(
            "#sessions a[href$='/sign-in-sheet.pdf']", "links => links.map(a => a.href)")]
        assert len(sessions) == 3
        screenshot(clerk, "clerk-year-04-class-published")

        # The 报名表: downloaded, filled in with one bad row, uploaded.
        reload_until(clerk, f"/admin/classes/{class_id}/nominations", "上传报名表")
        clerk.click("text=甲镇某居民区党总支")
        link = clerk.get_by_role("link", name="下载报名表模板").get_attribute("href")
        template = clerk.request.get(link)
        assert template.ok, template.status
        workbook = load_workbook(io.BytesIO(template.body()))
        sheet = workbook.active
        assert [c.value for c in sheet[3]] == ["党员编号", "姓名", "党组织", "方式"]
        for row in (["A1", "张一", "CA01", "线下"], ["A2", "王二", "", ""],
                    ["A3", "李四", "", ""], ["A7", "周七", "甲镇某村党支部", ""]):
            sheet.append(row)
        filled = io.BytesIO()
        workbook.save(filled)
        clerk.set_input_files("input[name=file]", {
            "name": "报名表.xlsx", "buffer": filled.getvalue(),
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
        clerk.get_by_role("button", name="上传报名表").last.click(no_wait_after=True)
        clerk.wait_for_selector("text=本次成功报名 3 人。")
        said = clerk.inner_text("main")
        assert "第 6 行：姓名：与党员编号 A3 登记的姓名不符" in said
        listed = clerk.inner_text("table:has(caption:has-text('报名人员：'))")
        assert all(name in listed for name in ("张一", "王二", "周七")) and "李三" not in listed
        screenshot(clerk, "clerk-year-05-nominations-uploaded")

        # The last session's 签到表, printed: a PDF whose barcodes a scanner reads.
        printed = clerk.request.get(f"/admin/sessions/{sessions[2]}/sign-in-sheet.pdf")
        assert printed.status == 200 and printed.headers["content-type"] == "application/pdf"
        pages = pdf_pages_as_png(printed.body(), SCREENSHOTS, "clerk-year-06-sign-in-sheet",
                                 dpi=150)
        read = {text for png in pages for _kind, text in decoded(png)}
        assert {"A1", "A2", "A7"} <= read, read

        # Three people checked in at the door of the last session.
        clerk.goto(f"/admin/sessions/{sessions[2]}/check-in")
        for member_no, name in (("A1", "张一"), ("A2", "王二"), ("A7", "周七")):
            answer = scan(clerk, member_no)
            assert name in answer and "出席，已记录" in answer, answer
        assert "出席 3 人" in clerk.inner_text(".counts").replace("\n", "")
        screenshot(clerk, "clerk-year-07-checked-in")

        # The earlier sessions' attendance, as recorded from their signed sheets after the day
        # (through the API: the pages record attendance at the door only, and a check-in long
        # after a session is flagged); without it no one reaches the hours to complete.
        for (_course, starts, _ends), session_id in zip(SESSIONS[:2], sessions[:2],
                                                        strict=True):
            for member_no in ("A1", "A2", "A7"):
                recorded = year.api("POST", f"/api/v1/sessions/{session_id}/attendance",
                                    who="clerk", json={"member_no": member_no,
                                                       "at": starts.isoformat()})
                assert recorded.status_code == 201, recorded.text

        # Sessions completed on the class's page, the class's own 结业 not offered while one
        # is still open; it completes with its last session.
        def complete(session_id):
            clerk.click(f"form[action='/admin/sessions/{session_id}/complete'] button")
            assert "课次已标记为已完成" in clerk.inner_text("main"), clerk.inner_text("main")

        clerk.goto(editor)
        for session_id in sessions[:2]:
            complete(session_id)
        assert "还有1个课次未完成，全部完成或取消后方可结业" in clerk.inner_text("main")
        assert clerk.locator(f"form[action='/admin/classes/{class_id}/complete']").count() == 0
        screenshot(clerk, "clerk-year-08-completion-not-yet")
        complete(sessions[2])
        reload_until(clerk, editor, "打印结业证书")
        screenshot(clerk, "clerk-year-09-class-completed")

        # The record filed with a scan; the district returns it, the clerk files it again.
        scan_pdf = {"name": "签到表（签字）.pdf", "mimeType": "application/pdf", "buffer": PDF}
        reload_until(clerk, f"/admin/filings/outgoing?year={NOW.year}", TITLE)
        screenshot(clerk, "clerk-year-10-outgoing")
        clerk.get_by_role("row", name=f"{TITLE} 培训情况").get_by_role(
            "link", name="报送").click()
        clerk.set_input_files("input[name=attachments]", scan_pdf)
        submit(clerk, "报送培训情况")
        assert "已报送，等待上级党组织审核" in clerk.content()
        screenshot(clerk, "clerk-year-11-filed")

        sign_in(district, DISTRICT, DISTRICT_PASSWORD)
        reload_until(district, "/admin/filings", TITLE)
        district.get_by_role("link", name="审核…").click()
        returning = district.locator("form[action$='/return']")
        returning.locator("textarea[name=reason]").fill("签到表缺少第二页签字")
        returning.locator("input[name=confirm]").check()
        screenshot(district, "clerk-year-12-returning")
        submit(returning, "退回", district)
        assert "已退回报送单位" in district.content()

        clerk.goto(f"/admin/filings/outgoing?year={NOW.year}")
        assert "签到表缺少第二页签字" in clerk.content()
        screenshot(clerk, "clerk-year-13-returned")
        clerk.get_by_role("link", name="重新报送").click()
        clerk.set_input_files("input[name=attachments]", {
            **scan_pdf, "name": "签到表（补签）.pdf", "buffer": PDF + b"% signed again\n"})
        submit(clerk, "重新报送培训情况")

        reload_until(district, "/admin/filings", "签到表（补签）.pdf")
        district.get_by_role("link", name="审核…").click()
        acknowledging = district.locator("form[action$='/acknowledge']")
        acknowledging.locator("input[name=confirm]").check()
        submit(acknowledging, "确认备案", district)
        assert "已确认备案" in district.content()
        screenshot(district, "clerk-year-14-acknowledged")
        filed = year.api("GET", f"/api/v1/classes/{class_id}/filings").json()["items"]
        records = [f for f in filed if f["kind"] == "record"]
        assert [f["status"] for f in records] == ["returned", "acknowledged"], records
        assert [a["file_name"] for a in records[1]["attachments"]] == ["签到表（补签）.pdf"]

        # A 结业证书 printed from the class; its QR code opens the public verification page.
        clerk.goto(editor)
        link = clerk.get_by_role("link", name="打印结业证书").get_attribute("href")
        for _attempt in range(80):      # enrollment completes the people a moment later
            certificates = clerk.request.get(link)
            if certificates.status != 409:
                break
            clerk.wait_for_timeout(250)
        assert certificates.status == 200, certificates.status
        first = pdf_pages_as_png(certificates.body(), SCREENSHOTS, "clerk-year-15-certificates",
                                 dpi=200)[0]
        [(_kind, verify)] = [found for found in decoded(first) if "/verify/" in found[1]]
        public = context_for(chromium, year.base)     # no one signed in: it is public
        try:
            page = public.new_page()
            page.goto(urlsplit(verify).path)
            text = page.inner_text("main")
            assert "该结业证书真实有效" in text and TITLE in text, text
            screenshot(page, "clerk-year-16-verified")
        finally:
            public.close()
    finally:
        clerk_context.close()
        district_context.close()
