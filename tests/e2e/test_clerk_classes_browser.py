"""A committee's clerk in a real browser (Debian's chromium): creates a class, adds sessions from
the catalogue watching the two-thirds ratio, publishes it, downloads the 报名表 template, fills
it in with one bad row, uploads it and sees the bad row named and the good people enrolled.
Screenshots of each page at 1366 px go to out/screenshots/."""

import io
from datetime import timedelta
from urllib.parse import quote

from openpyxl import load_workbook

from tests.support.browser import context_for, reload_until, screenshot
from tests.support.clerk_world import DAY, YEAR


def test_a_clerk_builds_publishes_and_fills_a_class_in_the_browser(chromium, clerk_world,
                                                                    tmp_path):
    context = context_for(chromium, clerk_world.base, clerk_world.tokens["committee_a"])
    page = context.new_page()
    try:
        page.goto(f"/admin/classes/new?year={YEAR}")
        page.select_option("select[name=program_id]", clerk_world.programs["CA"])
        page.fill("input[name=title]", "甲镇企业党员示范培训班")
        page.select_option("select[name=category]", "enterprise")
        page.fill("input[name=start_date]", DAY.isoformat())
        page.fill("input[name=end_date]", (DAY + timedelta(days=1)).isoformat())
        page.fill("input[name=offline_capacity]", "40")
        screenshot(page, "clerk-class-new")
        page.click("text=保存草稿并添加课次")
        assert "班次草稿已保存" in page.inner_text("main")

        def add(course, starts, ends):
            page.select_option("select[name=course_id]", clerk_world.catalogue[course])
            page.fill("#add-session input[name=starts]", starts)
            page.fill("#add-session input[name=ends]", ends)
            page.select_option("select[name=place]", f"venue:{clerk_world.catalogue['venue']}")
            page.click("text=添加课次 >> nth=-1")
            assert "课次已添加" in page.inner_text("main"), page.inner_text("main")

        add("other", "14:00", "16:00")
        assert "核心理论课 0/1 个课次（0.0%） · 未达到三分之二" in page.inner_text(".ratio")
        page.click("text=发布班次")
        refusal = page.inner_text("[role=alert]")
        assert "违反规则：核心理论课（原原本本学习）课次不少于三分之二" in refusal
        screenshot(page, "clerk-class-refused")
        add("core", "09:00", "10:30")
        add("core", "10:45", "12:00")
        assert "核心理论课 2/3 个课次（66.7%） · 已达到三分之二" in page.inner_text(".ratio")
        screenshot(page, "clerk-class-editor")
        page.click("text=发布班次")
        assert "班次已发布" in page.inner_text("main")
        class_id = page.url.split("/admin/classes/")[1].split("/")[0]

        nominations = f"/admin/classes/{class_id}/nominations"
        reload_until(page, nominations, "上传报名表")   # enrollment hears of the class later
        page.click("text=甲镇某居民区党总支")
        screenshot(page, "clerk-nominations")

        # The link fetched in the browser's context (its headers, its cookies); playwright's
        # download events now and then never arrive with the gateway in this process.
        link = page.get_by_role("link", name="下载报名表模板").get_attribute("href")
        template = page.request.get(link)
        assert template.ok
        assert "filename*=UTF-8''" + quote("甲镇企业党员示范培训班-报名表.xlsx") in \
            template.headers["content-disposition"]
        workbook = load_workbook(io.BytesIO(template.body()))
        sheet = workbook.active
        assert [c.value for c in sheet[3]] == ["党员编号", "姓名", "党组织", "方式"]
        for row in (["A1", "张一", "CA01", "线下"], ["A2", "王二", "", ""],
                    ["A3", "李四", "", ""], ["A7", "周七", "甲镇某村党支部", ""]):
            sheet.append(row)
        filled = tmp_path / "报名表.xlsx"
        out = io.BytesIO()
        workbook.save(out)
        filled.write_bytes(out.getvalue())

        page.set_input_files("input[name=file]", str(filled))
        page.click("text=上传报名表 >> nth=-1")
        said = page.inner_text("main")
        assert "本次成功报名 3 人。" in said
        assert "第 6 行：姓名：与党员编号 A3 登记的姓名不符" in said
        listed = page.inner_text("table:has(caption:has-text('报名人员：'))")
        for name in ("张一", "王二", "周七"):
            assert name in listed
        assert "李三" not in listed
        screenshot(page, "clerk-nominations-uploaded")
    finally:
        context.close()
