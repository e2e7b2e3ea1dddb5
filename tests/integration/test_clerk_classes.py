"""The clerk's class and nomination pages over HTTP, every service running: a committee builds
a class from the catalogue seeing the two-thirds ratio, every refusal in Chinese naming its
rule, publishes, cancels and completes; nominates people picked from its own tree or listed in
a 报名表 (bad rows named, good rows kept); reviews and withdraws. Nobody acts outside its
subtree. The world: tests/support/clerk_world.py."""

import io
import re
from datetime import timedelta

import requests
from openpyxl import load_workbook

from services.gateway.tokens import create_user
from services.kit import clock
from tests.support.clerk_world import DAY, PEOPLE, YEAR
from tests.support.waiting import wait_until


def text_of(page: str) -> str:
    """What a person reads: the page without its tags."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def class_form(world, program="CA", **changes):
    return {"program_id": world.programs[program], "title": "甲镇企业党员学习班",
            "category": "enterprise", "delivery": "offline", "start_date": DAY.isoformat(),
            "end_date": (DAY + timedelta(days=1)).isoformat(), "offline_capacity": "30",
            **changes}


def new_class(world, who="committee_a", **changes) -> str:
    answer = world.call("POST", "/admin/classes/new", who, data=class_form(world, **changes))
    assert answer.status_code == 303, text_of(answer.text)
    return re.match(r"/admin/classes/([0-9a-f-]+)/edit", answer.headers["Location"]).group(1)


def add_session(world, class_id, course="core", who="committee_a", day=DAY, starts="09:00",
                ends="10:30", **extra):
    return world.call("POST", f"/admin/classes/{class_id}/sessions", who, data={
        "course_id": world.catalogue[course], "day": day.isoformat(), "starts": starts,
        "ends": ends, **extra})


def published_class(world, who="committee_a", day=DAY, **changes) -> str:
    """A class of three core sessions on `day`, published through the pages and known to
    enrollment."""
    class_id = new_class(world, who, **changes)
    for hour in (9, 11, 14):
        assert add_session(world, class_id, who=who, day=day, starts=f"{hour:02d}:00",
                           ends=f"{hour + 1:02d}:30").status_code == 303
    assert world.call("POST", f"/admin/classes/{class_id}/publish", who).status_code == 303
    wait_until(lambda: _known(world, class_id), timeout=20,
               message="enrollment to hear of the class")
    return class_id


def _known(world, class_id):
    return world.call("GET", f"/api/v1/classes/{class_id}/places").status_code == 200


def enrolments(world, class_id) -> dict:
    items = world.call("GET", f"/api/v1/classes/{class_id}/enrolments",
                       params={"per_page": 200}).json()["items"]
    return {e["member_no"]: e for e in items}


# -- building a class ------------------------------------------------------------------------------

def test_a_unit_sees_only_the_programs_it_may_use_and_may_create_its_own(clerk_world):
    page = text_of(clerk_world.call("GET", f"/admin/classes/new?year={YEAR}",
                                    "committee_a").text)
    assert "甲镇党委党员培训" in page
    assert "乙镇党委党员培训" not in page and "区委党员培训" not in page
    district = clerk_world.call("GET", f"/admin/classes/new?year={YEAR}").text
    assert "乙镇党委党员培训" in text_of(district) and "区委党员培训" in text_of(district)
    # The district picks a program's organiser from the tree; a unit's is its own.
    assert '<option value="CB01">乙镇某企业党支部（CB01）</option>' in district
    assert 'name="organiser_org_code" value="CA"' in \
        clerk_world.call("GET", f"/admin/classes/new?year={YEAR}", "committee_a").text

    made = clerk_world.call("POST", "/admin/programs/new", "org_a", data={
        "year": str(YEAR), "track": "members", "name": "居民区党员自主培训",
        "target_person_times": "20", "organiser_org_code": "CB01"})   # its own, whatever typed
    assert made.status_code == 303, text_of(made.text)
    program_id = re.search(r"program_id=([0-9a-f-]+)", made.headers["Location"]).group(1)
    assert clerk_world.call("GET", f"/api/v1/programs/{program_id}").json()[
        "organiser_org_code"] == "CA01"
    again = clerk_world.call("POST", "/admin/programs/new", "org_a", data={
        "year": str(YEAR), "track": "members", "name": "又一个", "target_person_times": "5"})
    assert again.status_code == 409
    assert "同一单位每年每类培训只设一个培训项目" in text_of(again.text)


def test_a_class_is_built_from_the_catalogue_with_the_ratio_shown_and_published(clerk_world):
    class_id = new_class(clerk_world)
    editor = f"/admin/classes/{class_id}/edit"
    assert "尚未安排课次" in text_of(clerk_world.call("GET", editor, "committee_a").text)

    assert add_session(clerk_world, class_id, "other", starts="14:00", ends="16:00",
                       place=f"venue:{clerk_world.catalogue['venue']}").status_code == 303
    page = text_of(clerk_world.call("GET", editor, "committee_a").text)
    assert "核心理论课 0/1 个课次（0.0%） · 未达到三分之二：还需增加 2 个核心理论课次" in page
    assert "区委党校第一教室" in page

    refused = clerk_world.call("POST", f"/admin/classes/{class_id}/publish", "committee_a")
    assert refused.status_code == 409
    said = text_of(refused.text)
    assert "违反规则：核心理论课（原原本本学习）课次不少于三分之二" in said
    assert "目前核心理论课 0/1 个课次（0.0%），还需增加 2 个核心理论课次" in said

    for starts, ends in (("09:00", "10:30"), ("10:45", "12:00")):
        assert add_session(clerk_world, class_id, starts=starts, ends=ends,
                           instructor_id=clerk_world.catalogue["instructor"]).status_code == 303
    page = text_of(clerk_world.call("GET", editor, "committee_a").text)
    assert "核心理论课 2/3 个课次（66.7%） · 已达到三分之二" in page and "陈教授" in page

    published = clerk_world.call("POST", f"/admin/classes/{class_id}/publish", "committee_a")
    assert published.status_code == 303
    assert clerk_world.call("GET", f"/api/v1/classes/{class_id}").json()["status"] == \
        "published"
    page = text_of(clerk_world.call("GET", published.headers["Location"], "committee_a").text)
    assert "班次已发布" in page and "报名管理" in page


def test_every_refusal_is_shown_in_chinese_naming_its_rule_and_keeps_what_was_typed(
        clerk_world):
    class_id = new_class(clerk_world, title="规则演示班")
    outside = add_session(clerk_world, class_id, day=DAY + timedelta(days=5))
    assert outside.status_code == 409
    assert "违反规则：课次须在班次起止日期之内" in text_of(outside.text)
    assert f'value="{(DAY + timedelta(days=5)).isoformat()}"' in outside.text   # kept

    backwards = add_session(clerk_world, class_id, starts="11:00", ends="10:00")
    assert backwards.status_code == 422
    assert "结束时间：结束时间须晚于开始时间" in text_of(backwards.text)

    assert add_session(clerk_world, class_id, starts="09:00", ends="10:30").status_code == 303
    overlapping = add_session(clerk_world, class_id, starts="10:00", ends="11:00")
    assert overlapping.status_code == 409
    said = text_of(overlapping.text)
    assert "违反规则：同一班次的课次时间不能重叠" in said
    assert f"《{'学习贯彻习近平新时代中国特色社会主义思想'}》{DAY.isoformat()} 09:00" in said

    no_audience = clerk_world.call("POST", "/admin/classes/new", "committee_a",
                                   data=class_form(clerk_world, category=""))
    assert no_audience.status_code == 422
    assert "违反规则：书记班须选择模块（领域可选），党员班须选择党员类别" in \
        text_of(no_audience.text)
    assert 'value="甲镇企业党员学习班"' in no_audience.text

    reversed_dates = clerk_world.call("POST", f"/admin/classes/{class_id}/edit", "committee_a",
                                      data={**class_form(clerk_world),
                                            "end_date": (DAY - timedelta(days=1)).isoformat()})
    assert reversed_dates.status_code == 422
    assert "结束日期：结束日期不能早于开始日期" in text_of(reversed_dates.text)


def test_publish_cancel_and_complete_from_the_class_page(clerk_world):
    class_id = published_class(clerk_world)
    early = clerk_world.call("POST", f"/admin/classes/{class_id}/complete", "committee_a")
    assert early.status_code == 409
    assert "违反规则：所有课次完成或取消后，班次才能结业" in text_of(early.text)

    no_reason = clerk_world.call("POST", f"/admin/classes/{class_id}/cancel", "committee_a",
                                 data={"reason": " "})
    assert no_reason.status_code == 422 and "请填写取消原因" in text_of(no_reason.text)
    cancelled = clerk_world.call("POST", f"/admin/classes/{class_id}/cancel", "committee_a",
                                 data={"reason": "台风停课"})
    assert cancelled.status_code == 303
    shown = clerk_world.call("GET", f"/api/v1/classes/{class_id}").json()
    assert (shown["status"], shown["cancel_reason"]) == ("cancelled", "台风停课")
    page = text_of(clerk_world.call("GET", cancelled.headers["Location"], "committee_a").text)
    assert "班次已取消，不能再更改。取消原因：台风停课" in page


def test_a_published_class_changes_but_keeps_its_audience(clerk_world):
    class_id = published_class(clerk_world, title="可改的班次")
    saved = clerk_world.call("POST", f"/admin/classes/{class_id}/edit", "committee_a",
                             data={**class_form(clerk_world), "title": "改名后的班次",
                                   "offline_capacity": "40", "review_nominations": "true"})
    assert saved.status_code == 303, text_of(saved.text)
    shown = clerk_world.call("GET", f"/api/v1/classes/{class_id}").json()
    assert (shown["title"], shown["offline_capacity"], shown["review_nominations"]) == \
        ("改名后的班次", 40, True)
    assert shown["audience"]["category"] == "enterprise"


def test_a_published_class_page_leads_to_each_sessions_check_in_and_sign_in_sheet(clerk_world):
    class_id = published_class(clerk_world, title="有签到的班次")
    shown = clerk_world.call("GET", f"/api/v1/classes/{class_id}").json()
    page = clerk_world.call("GET", f"/admin/classes/{class_id}/edit", "committee_a").text
    for session in shown["sessions"]:
        assert f'href="/admin/sessions/{session["session_id"]}/check-in"' in page
        assert f'href="/admin/sessions/{session["session_id"]}/sign-in-sheet.pdf"' in page


# -- who may -----------------------------------------------------------------------------------

def test_nobody_builds_or_changes_a_class_outside_its_subtree(clerk_world):
    class_id = new_class(clerk_world, title="甲镇草稿班")
    assert add_session(clerk_world, class_id).status_code == 303
    for who in ("committee_b", "org_a"):   # a neighbour; a unit below the organiser
        assert clerk_world.call("GET", f"/admin/classes/{class_id}/edit", who).status_code == 403
        for action in ("publish", "complete"):
            assert clerk_world.call("POST", f"/admin/classes/{class_id}/{action}",
                                    who).status_code == 403
        assert clerk_world.call("POST", f"/admin/classes/{class_id}/cancel", who,
                                data={"reason": "不要了"}).status_code == 403
        assert add_session(clerk_world, class_id, who=who, starts="14:00",
                           ends="15:00").status_code == 403
    assert clerk_world.call("GET", f"/api/v1/classes/{class_id}").json()["status"] == "draft"
    assert len(clerk_world.call("GET", f"/api/v1/classes/{class_id}").json()["sessions"]) == 1
    other = clerk_world.call("POST", "/admin/classes/new", "committee_b",
                             data=class_form(clerk_world))   # CA's program
    assert other.status_code == 403


def test_forms_signed_in_by_a_session_need_their_csrf_token(clerk_world):
    create_user("jiazhen", "committee_admin", "CA", "jiazhen-clerk-2026-口令",
                database_url=clerk_world.gateway_db)
    browser = requests.Session()
    signed = browser.post(f"{clerk_world.base}/admin/login", allow_redirects=False, timeout=30,
                          data={"username": "jiazhen", "password": "jiazhen-clerk-2026-口令"})
    assert signed.status_code == 303, signed.text
    form = class_form(clerk_world, title="口令登录的班次")
    forged = browser.post(f"{clerk_world.base}/admin/classes/new", data=form,
                          allow_redirects=False, timeout=30)
    assert forged.status_code == 403
    page = browser.get(f"{clerk_world.base}/admin/classes/new?year={YEAR}", timeout=30).text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
    made = browser.post(f"{clerk_world.base}/admin/classes/new", data={**form, "csrf": csrf},
                        allow_redirects=False, timeout=30)
    assert made.status_code == 303, text_of(made.text)
    class_id = published_class(clerk_world, title="口令登录报名的班次")
    upload = f"{clerk_world.base}/admin/classes/{class_id}/nominations/upload"
    sheet = {"file": ("报名表.csv", "党员编号\r\nA8\r\n".encode())}
    assert browser.post(upload, files=sheet, timeout=30).status_code == 403
    assert "A8" not in enrolments(clerk_world, class_id)
    assert browser.post(upload, files=sheet, data={"csrf": csrf}, timeout=30).status_code == 200
    assert "A8" in enrolments(clerk_world, class_id)


# -- nominations ---------------------------------------------------------------------------------

def test_the_picker_shows_the_units_own_tree_and_nominates_its_people(clerk_world):
    class_id = published_class(clerk_world, title="选人报名班")
    path = f"/admin/classes/{class_id}/nominations"
    page = clerk_world.call("GET", path, "committee_a")
    assert page.status_code == 200
    said = text_of(page.text)
    assert "甲镇某居民区党总支" in said and "乙镇" not in said
    assert "线下名额 30" in said
    members = text_of(clerk_world.call("GET", f"{path}?org=CA01", "committee_a").text)
    assert "张一（A1）" in members and "郑一" not in members
    assert clerk_world.call("GET", f"{path}?org=CB01", "committee_a").status_code == 403

    picked = clerk_world.call("POST", path, "committee_a",
                              data={"member_no": ["A1", "A2"], "mode": "offline"})
    assert picked.status_code == 200
    assert "本次成功报名 2 人。" in text_of(picked.text)
    assert {no: e["status"] for no, e in enrolments(clerk_world, class_id).items()} == {
        "A1": "confirmed", "A2": "confirmed"}
    again = clerk_world.call("POST", path, "committee_a", data={"member_no": ["A1", "A3"]})
    assert "张一（A1）：已报名本班次" in text_of(again.text)
    assert "A3" in enrolments(clerk_world, class_id)

    outside = clerk_world.call("POST", path, "committee_a", data={"member_no": ["B1"]})
    assert outside.status_code == 403
    assert "B1" not in enrolments(clerk_world, class_id)


def filled_template(world, class_id, rows) -> bytes:
    answer = world.call("GET", f"/admin/classes/{class_id}/nominations/template.xlsx",
                        "committee_a")
    assert answer.status_code == 200
    workbook = load_workbook(io.BytesIO(answer.content))
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_the_template_has_chinese_headers_the_title_and_a_cjk_font(clerk_world):
    class_id = published_class(clerk_world, title="模板班")
    answer = clerk_world.call("GET", f"/admin/classes/{class_id}/nominations/template.xlsx",
                              "committee_a")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert "filename*=UTF-8''%E6%A8%A1%E6%9D%BF%E7%8F%AD" in \
        answer.headers["Content-Disposition"]   # 模板班-报名表.xlsx
    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert sheet["A1"].value == "模板班 · 报名表"
    assert "从第 4 行起" in sheet["A2"].value
    assert [c.value for c in sheet[3]] == ["党员编号", "姓名", "党组织", "方式"]
    assert sheet["A3"].font.name == "宋体"
    assert sheet.column_dimensions["C"].width >= 30
    assert sheet.freeze_panes == "A4"


def test_an_upload_names_each_bad_row_and_keeps_the_good_ones(clerk_world):
    class_id = published_class(clerk_world, title="报名表班")
    content = filled_template(clerk_world, class_id, [
        ["A4", "赵四", "CA01", "线下"],          # row 4: good
        ["A5", "钱五错", "CA01", ""],             # row 5: the name does not match
        ["", "无编号", "", ""],                   # row 6: no number
        ["A9999", "查无", "", ""],                # row 7: nobody
        ["B1", "郑一", "", ""],                   # row 8: outside committee A
        ["A4", "赵四", "", ""],                   # row 9: a second time
        ["A6", "孙六", "甲镇某居民区党总支", ""],   # row 10: good, by the organisation's name
        ["A7", "周七", "CA01", ""],               # row 11: not that organisation
        ["A8", "吴八", "", "线上"],                # row 12: an offline class
    ])
    answer = clerk_world.call(
        "POST", f"/admin/classes/{class_id}/nominations/upload", "committee_a",
        files={"file": ("报名表.xlsx", content)})
    assert answer.status_code == 200, text_of(answer.text)
    said = text_of(answer.text)
    assert "本次成功报名 2 人。" in said
    for line in ("第 5 行：姓名：与党员编号 A5 登记的姓名不符", "第 6 行：党员编号：不能为空",
                 "第 7 行：党员编号：查无此党员",
                 "第 8 行：党员编号：不在本单位及下级党组织范围内",
                 "第 9 行：党员编号：与第 4 行重复", "第 11 行：党组织：与该党员所在的党组织不符",
                 "第 12 行：方式：本班次不提供线上参训"):
        assert line in said, line
    assert "郑一" not in said   # nobody's name from outside the subtree
    assert set(enrolments(clerk_world, class_id)) == {"A4", "A6"}

    # A CSV in GBK, as Excel in China saves it; a row already enrolled says so.
    csv = "党员编号,姓名,党组织,方式\r\nA7,周七,CA02,线下\r\nA4,赵四,,\r\n".encode("gb18030")
    answer = clerk_world.call(
        "POST", f"/admin/classes/{class_id}/nominations/upload", "committee_a",
        files={"file": ("报名表.csv", csv)})
    said = text_of(answer.text)
    assert "本次成功报名 1 人。" in said and "第 3 行：党员编号：已报名本班次" in said
    assert set(enrolments(clerk_world, class_id)) == {"A4", "A6", "A7"}

    unreadable = clerk_world.call(
        "POST", f"/admin/classes/{class_id}/nominations/upload", "committee_a",
        files={"file": ("报名表.pdf", b"%PDF-1.4")})
    assert unreadable.status_code == 422
    assert "报名表应为 XLSX 或 CSV 文件" in text_of(unreadable.text)


def test_the_organiser_reviews_nominations_and_anyone_withdraws_only_its_own(clerk_world):
    class_id = published_class(clerk_world, title="审核班", review_nominations="true")
    path = f"/admin/classes/{class_id}/nominations"
    nominated = clerk_world.call("POST", path, "org_a", data={"member_no": ["A1", "A2", "A3"]})
    assert "本次成功报名 3 人：待审核 3 人。" in text_of(nominated.text)
    people = enrolments(clerk_world, class_id)
    queue = text_of(clerk_world.call("GET", path, "committee_a").text)
    assert "待审核的报名：共 3 人" in queue and "班次管理" in queue
    # The unit below the organiser nominates but neither reviews nor manages the class.
    below = text_of(clerk_world.call("GET", path, "org_a").text)
    assert "待审核的报名" not in below and "班次管理" not in below
    accept = f"/admin/enrolments/{people['A1']['enrollment_id']}/accept"
    assert clerk_world.call("POST", accept, "org_a").status_code == 403
    assert clerk_world.call("POST", accept, "committee_b").status_code == 403
    assert clerk_world.call("POST", accept, "committee_a").status_code == 303
    again = clerk_world.call("POST", accept, "committee_a")
    assert again.status_code == 409 and "只有待审核的报名可以审核" in text_of(again.text)

    reject = f"/admin/enrolments/{people['A2']['enrollment_id']}/reject"
    blank = clerk_world.call("POST", reject, "committee_a", data={"reason": "  "})
    assert blank.status_code == 422 and "请填写不通过的原因" in text_of(blank.text)
    assert clerk_world.call("POST", reject, "committee_a",
                            data={"reason": "本期名额已满"}).status_code == 303

    withdraw = f"/admin/enrolments/{people['A3']['enrollment_id']}/withdraw"
    assert clerk_world.call("POST", withdraw, "committee_b",
                            data={"reason": "工作冲突"}).status_code == 403
    assert clerk_world.call("POST", withdraw, "org_a",
                            data={"reason": "工作冲突"}).status_code == 303
    after = enrolments(clerk_world, class_id)
    assert {no: (e["status"], e["reason"]) for no, e in after.items()} == {
        "A1": ("confirmed", None), "A2": ("rejected", "本期名额已满"),
        "A3": ("withdrawn", "工作冲突")}
    page = text_of(clerk_world.call("GET", path, "committee_a").text)
    assert "本期名额已满" in page and "已退出" in page


def test_a_neighbours_class_has_no_nomination_page_or_template(clerk_world):
    class_id = published_class(clerk_world, title="邻居看不到的班")
    path = f"/admin/classes/{class_id}/nominations"
    assert clerk_world.call("GET", path, "committee_b").status_code == 403
    assert clerk_world.call("GET", f"{path}/template.xlsx", "committee_b").status_code == 403
    assert clerk_world.call("POST", path, "committee_b",
                            data={"member_no": ["B1"]}).status_code == 403
    assert PEOPLE["B1"][1] == "CB01" and "B1" not in enrolments(clerk_world, class_id)


# -- a published class's sessions: moved, cancelled, held ------------------------------------------

def sessions_of(world, class_id) -> list[dict]:
    return world.call("GET", f"/api/v1/classes/{class_id}").json()["sessions"]


def test_a_published_session_is_moved_or_cancelled_with_each_refusal_in_chinese(clerk_world):
    class_id = new_class(clerk_world, title="调课演示班")
    for course, starts, ends in (("core", "09:00", "10:30"), ("core", "11:00", "12:30"),
                                 ("other", "14:00", "16:00")):
        assert add_session(clerk_world, class_id, course, starts=starts,
                           ends=ends).status_code == 303
    assert clerk_world.call("POST", f"/admin/classes/{class_id}/publish",
                            "committee_a").status_code == 303
    first, second, other = sessions_of(clerk_world, class_id)
    page = clerk_world.call("GET", f"/admin/classes/{class_id}/edit", "committee_a").text
    for session in (first, second, other):
        for action in ("reschedule", "cancel"):
            assert f'action="/admin/sessions/{session["session_id"]}/{action}"' in page
    move = f"/admin/sessions/{first['session_id']}/reschedule"

    def moved(day, starts, ends, **extra):
        return clerk_world.call("POST", move, "committee_a", data={
            "day": day.isoformat(), "starts": starts, "ends": ends, **extra})

    outside = moved(DAY + timedelta(days=5), "09:00", "10:30")
    assert outside.status_code == 409
    assert "违反规则：课次须在班次起止日期之内" in text_of(outside.text)
    overlapping = moved(DAY, "11:30", "12:00")
    assert overlapping.status_code == 409
    assert "违反规则：同一班次的课次时间不能重叠" in text_of(overlapping.text)
    backwards = moved(DAY, "11:00", "10:00")
    assert backwards.status_code == 422 and "结束时间须晚于开始时间" in text_of(backwards.text)
    done = moved(DAY + timedelta(days=1), "09:00", "10:30",
                 place=f"venue:{clerk_world.catalogue['venue']}", reason="教室调整")
    assert done.status_code == 303, text_of(done.text)
    shown = {s["session_id"]: s for s in sessions_of(clerk_world, class_id)}[
        first["session_id"]]
    assert shown["starts_at"].startswith(f"{(DAY + timedelta(days=1)).isoformat()}T09:00")
    assert shown["venue_name"] == "区委党校第一教室"
    assert "课次已调整" in text_of(clerk_world.call("GET", done.headers["Location"],
                                                 "committee_a").text)

    cancel = f"/admin/sessions/{second['session_id']}/cancel"
    blank = clerk_world.call("POST", cancel, "committee_a", data={"reason": " "})
    assert blank.status_code == 422 and "请填写取消原因" in text_of(blank.text)
    short = clerk_world.call("POST", cancel, "committee_a", data={"reason": "授课人生病"})
    assert short.status_code == 409
    assert "违反规则：核心理论课（原原本本学习）课次不少于三分之二" in text_of(short.text)
    assert clerk_world.call("POST", f"/admin/sessions/{other['session_id']}/cancel",
                            "committee_a", data={"reason": "现场教学点维修"}).status_code == 303
    statuses = {s["session_id"]: s["status"] for s in sessions_of(clerk_world, class_id)}
    assert (statuses[second["session_id"]], statuses[other["session_id"]]) == \
        ("scheduled", "cancelled")


def test_holding_a_session_warns_when_nobody_s_attendance_is_recorded(clerk_world):
    class_id = published_class(clerk_world, title="课次完成班")
    first = sessions_of(clerk_world, class_id)[0]
    page = clerk_world.call("GET", f"/admin/classes/{class_id}/edit", "committee_a").text
    assert "完成课次" not in page   # not before it has ended
    early = clerk_world.call("POST", f"/admin/sessions/{first['session_id']}/complete",
                             "committee_a")
    assert early.status_code == 409
    assert "违反规则：课次结束后才能标记为已完成" in text_of(early.text)

    past = clock.today() - timedelta(days=2)
    class_id = published_class(clerk_world, title="已上完课的班", start_date=past.isoformat(),
                               end_date=past.isoformat(), day=past)
    nominated = clerk_world.call("POST", f"/admin/classes/{class_id}/nominations",
                                 "committee_a", data={"member_no": ["A4"]})
    assert "本次成功报名 1 人" in text_of(nominated.text), text_of(nominated.text)
    first = sessions_of(clerk_world, class_id)[0]
    complete = f"/admin/sessions/{first['session_id']}/complete"
    page = clerk_world.call("GET", f"/admin/classes/{class_id}/edit", "committee_a").text
    assert f'action="{complete}"' in page and "完成课次" in page
    wait_until(lambda: clerk_world.call("GET", f"/api/v1/sessions/{first['session_id']}"
                                               "/attendance").status_code == 200,
               timeout=20, message="enrollment to hear of the sessions")
    held = clerk_world.call("POST", complete, "committee_a")
    assert held.status_code == 200, text_of(held.text)
    said = text_of(held.text)
    assert "课次已标记为已完成" in said
    assert "本课次尚无任何出席、线上学习或请假记录：课次结束后，已报名的 1 人将全部记为缺勤。" \
        in said
    assert {s["session_id"]: s["status"] for s in sessions_of(clerk_world, class_id)}[
        first["session_id"]] == "completed"


def test_the_organiser_sets_a_committees_quota_on_the_nominations_page(clerk_world):
    class_id = published_class(clerk_world, who="district", program="FX", title="区委分配名额班")
    path = f"/admin/classes/{class_id}/nominations"
    page = clerk_world.call("GET", path).text
    assert f'action="/admin/classes/{class_id}/quotas"' in page
    assert f'action="/admin/classes/{class_id}/quotas"' not in \
        clerk_world.call("GET", path, "committee_a").text   # nominates, does not organise
    assert '<option value="CB">乙镇党委（CB）</option>' in page
    quotas = f"/admin/classes/{class_id}/quotas"
    branch = clerk_world.call("POST", quotas, data={"committee_code": "CA01", "seats": "3"})
    assert branch.status_code == 422
    assert "违反规则：名额只能分配给主办单位及其下级的党委（党工委）" in text_of(branch.text)
    negative = clerk_world.call("POST", quotas, data={"committee_code": "CA", "seats": "-1"})
    assert negative.status_code == 422 and "请填写不小于 0 的整数" in text_of(negative.text)
    assert clerk_world.call("POST", quotas, data={"committee_code": "CA",
                                                  "seats": "2"}).status_code == 303
    shown = text_of(clerk_world.call("GET", path).text)
    assert "各单位名额" in shown and "甲镇党委 2 0 2" in shown
    nominated = clerk_world.call("POST", path, "committee_a",
                                 data={"member_no": ["A1", "A2", "A3"]})
    assert "本单位在该班次的名额已用完" in text_of(nominated.text)
    assert clerk_world.call("POST", quotas, data={"committee_code": "CA",
                                                  "seats": ""}).status_code == 303
    assert clerk_world.call("GET", f"/api/v1/classes/{class_id}/quotas").json()["items"] == []

    # A committee's own class: the committees of its subtree only, not a neighbour.
    own = published_class(clerk_world, title="甲镇分配名额班")
    neighbour = clerk_world.call("POST", f"/admin/classes/{own}/quotas", "committee_a",
                                 data={"committee_code": "CB", "seats": "3"})
    assert neighbour.status_code == 422
    assert "违反规则：名额只能分配给主办单位及其下级的党委（党工委）" in text_of(neighbour.text)
    assert clerk_world.call("POST", f"/admin/classes/{own}/quotas", "committee_a",
                            data={"committee_code": "CA", "seats": "3"}).status_code == 303


def test_nobody_outside_the_organisers_subtree_moves_holds_cancels_or_sets_quotas(clerk_world):
    class_id = published_class(clerk_world, title="别人动不了的班")
    session_id = sessions_of(clerk_world, class_id)[0]["session_id"]
    for who in ("committee_b", "org_a"):
        for action, data in (("reschedule", {"day": DAY.isoformat(), "starts": "08:00",
                                             "ends": "08:45"}),
                             ("cancel", {"reason": "不要了"}), ("complete", {})):
            assert clerk_world.call("POST", f"/admin/sessions/{session_id}/{action}", who,
                                    data=data).status_code == 403
        assert clerk_world.call("POST", f"/admin/classes/{class_id}/quotas", who, data={
            "committee_code": "CB", "seats": "5"}).status_code == 403
    assert [s["status"] for s in sessions_of(clerk_world, class_id)] == ["scheduled"] * 3
    assert sessions_of(clerk_world, class_id)[0]["starts_at"].endswith("09:00:00+08:00")
    assert clerk_world.call("GET", f"/api/v1/classes/{class_id}/quotas").json()["items"] == []


def test_the_session_and_quota_forms_need_their_csrf_token(clerk_world):
    create_user("jiazhen-sessions", "committee_admin", "CA", "jiazhen-sessions-2026-口令",
                database_url=clerk_world.gateway_db)
    browser = requests.Session()
    assert browser.post(f"{clerk_world.base}/admin/login", allow_redirects=False, timeout=30,
                        data={"username": "jiazhen-sessions",
                              "password": "jiazhen-sessions-2026-口令"}).status_code == 303
    class_id = published_class(clerk_world, title="口令登录调课的班")
    session_id = sessions_of(clerk_world, class_id)[0]["session_id"]
    page = browser.get(f"{clerk_world.base}/admin/classes/{class_id}/edit", timeout=30).text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
    cancel = f"{clerk_world.base}/admin/sessions/{session_id}/cancel"
    assert browser.post(cancel, data={"reason": "伪造"}, allow_redirects=False,
                        timeout=30).status_code == 403
    move = f"{clerk_world.base}/admin/sessions/{session_id}/reschedule"
    assert browser.post(move, data={"day": DAY.isoformat(), "starts": "08:00", "ends": "08:45"},
                        allow_redirects=False, timeout=30).status_code == 403
    assert sessions_of(clerk_world, class_id)[0]["starts_at"].endswith("09:00:00+08:00")
    assert browser.post(move, data={"day": DAY.isoformat(), "starts": "08:00", "ends": "08:45",
                                     "csrf": csrf}, allow_redirects=False,
                        timeout=30).status_code == 303
    assert sessions_of(clerk_world, class_id)[0]["starts_at"].endswith("08:00:00+08:00")
