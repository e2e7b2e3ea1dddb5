"""The 签到表 and the check-in page through the gateway's door, every service running
(tests/support/door.py): the sheet's barcodes read back as the member numbers, in the sheet's
order; each scan answers at once (出席, a second scan harmless, a stranger refused naming why),
leave and a correction; and who may use them: a checkin token for its own class, an admin for
its own people in a class it may reach."""

import re

import pytest
import requests

import services.kit.rpc  # noqa: F401 - registers domain errors for deserialisation
from services.gateway.tokens import create_user
from tests.support.door import (
    IN_CLASS_A,
    PEOPLE,
    SHEET_ORDER,
    Door,
    build,
    decoded,
    pdf_pages_as_png,
    pdf_text,
)
from tests.support.system import whole_system


@pytest.fixture(scope="module")
def door(amqp_uri, vhost, database_urls):
    with whole_system(amqp_uri, vhost, database_urls) as (base, rpc):
        yield build(Door(base, database_urls["gateway"], rpc))


def result_of(page: str) -> str:
    """The answer to the last scan, as the clerk reads it at the top of the page."""
    found = re.search(r'<div class="result (\w+)" role="status">(.*?)</div>', page, flags=re.S)
    return f"{found.group(1)}: {re.sub(r'<[^>]+>', ' ', found.group(2)).split()}" \
        if found else ""


def test_the_sign_in_sheet_barcodes_read_back_as_the_member_numbers(door, tmp_path):
    sheet = door.call("GET", f"/admin/sessions/{door.sessions['a']}/sign-in-sheet.pdf")
    assert sheet.status_code == 200, sheet.text[:500]
    assert sheet.headers["Content-Type"] == "application/pdf"
    assert "filename*=UTF-8''%E7%AD%BE%E5%88%B0%E8%A1%A8" in sheet.headers[
        "Content-Disposition"]   # 签到表-…
    [page] = pdf_pages_as_png(sheet.content, tmp_path, "sheet")
    symbols = decoded(page)
    assert sorted(symbols) == sorted(("CODE-128", no) for no in IN_CLASS_A)
    text = pdf_text(sheet.content, tmp_path, "sheet")
    for words in ("签", "班次：CA党员示范班", "应到：4人（线下）", "第1页/共1页"):
        assert words in re.sub(r"\s", "", text), text
    names = [PEOPLE[no][0] for no in SHEET_ORDER]
    assert [text.index(name) for name in names] == sorted(text.index(n) for n in names)
    assert PEOPLE["A4"][0] not in text     # withdrawn: not on the sheet
    assert PEOPLE["A5"][0] not in text     # online: not at the door


def test_a_committee_sheet_holds_its_own_people_only(door, tmp_path):
    sheet = door.call("GET", f"/admin/sessions/{door.sessions['a']}/sign-in-sheet.pdf",
                      "committee_a")
    assert sheet.status_code == 200
    [page] = pdf_pages_as_png(sheet.content, tmp_path, "sheet-a")
    assert sorted(no for _kind, no in decoded(page)) == ["A1", "A2", "A3"]


def test_a_scan_checks_in_and_a_second_scan_is_harmless(door):
    page = door.check_in_page()
    assert page.status_code == 200
    assert re.search(r'<input name="member_no"[^>]* autofocus', page.text)
    first = door.scan("A1")
    assert first.status_code == 200
    assert result_of(first.text) == "ok: ['张小三', '出席，已记录']"
    # The field is empty and focused again for the next scan.
    field = re.search(r'<input name="member_no"[^>]*>', first.text).group(0)
    assert "autofocus" in field and "value=" not in field
    again = door.scan("A1")
    assert again.status_code == 200
    assert result_of(again.text) == "again: ['张小三', '已签到（重复扫描，未重复记录）']"
    assert door.history("A1") == [("present", "checkin")]
    listed = again.text[again.text.index("已签到 / 请假"):again.text.index("尚未签到")]
    assert "张小三" in listed and "李四" not in listed


@pytest.mark.parametrize("member_no,said", [
    ("A9", ["钱七", "不在本班名单"]),                     # nobody enrolled them in this class
    ("A4", ["赵六", "报名已退出，不在本班签到名单"]),       # withdrawn
    ("NOBODY1", ["NOBODY1", "查无此党员，或其已不在党组织中"]),
])
def test_a_stranger_is_refused_naming_the_reason(door, member_no, said):
    answer = door.scan(member_no)
    assert answer.status_code == 409
    assert result_of(answer.text) == f"refused: {said}"
    assert door.history(member_no) == []


def test_leave_and_a_correction_within_the_window(door):
    leave = door.scan("A2", action="leave")
    assert result_of(leave.text) == "ok: ['李四', '请假，已记录']"
    corrected = door.scan("A2", action="correct", status="present", reason="迟到补签")
    assert result_of(corrected.text) == "ok: ['李四', '已更正为出席']"
    assert door.history("A2") == [("leave", "checkin"), ("present", "correction")]
    no_reason = door.scan("A3", action="correct", status="absent", reason=" ")
    assert no_reason.status_code == 422
    assert "更正原因：请填写更正原因" in result_of(no_reason.text)
    assert door.history("A3") == []


def test_a_checkin_token_checks_in_its_own_class_and_corrects_nothing(door):
    page = door.check_in_page(token="checkin_a")
    assert page.status_code == 200 and "考勤更正" not in page.text
    assert result_of(door.scan("A3", token="checkin_a").text) == "ok: ['王五', '出席，已记录']"
    corrected = door.scan("A3", token="checkin_a", action="correct", status="absent",
                          reason="x")
    assert corrected.status_code == 403 and "当前角色无权办理此事项" in corrected.text
    assert door.history("A3") == [("present", "checkin")]


@pytest.mark.parametrize("token,session", [("checkin_b", "a"), ("committee_b", "a"),
                                           ("checkin_a", "b"), ("system", "a")])
def test_nobody_reaches_a_class_outside_their_own(door, token, session):
    for answer in (door.check_in_page(session, token),
                   door.call("GET", f"/admin/sessions/{door.sessions[session]}"
                                    "/sign-in-sheet.pdf", token),
                   door.scan("B2" if session == "b" else "A1", session, token)):
        assert answer.status_code == 403, (answer.status_code, answer.text[:300])
        assert "无权访问" in answer.text
    assert door.history("B2", "b") == []


def test_an_admin_checks_in_only_its_own_people(door):
    page = door.check_in_page(token="committee_a")
    assert page.status_code == 200 and "孙八" not in page.text
    answer = door.scan("B1", token="committee_a")
    assert answer.status_code == 403
    assert "只能办理本单位及下级单位的事项" in result_of(answer.text)
    assert door.history("B1") == []
    assert result_of(door.scan("B1").text) == "ok: ['孙八', '出席，已记录']"


def test_a_signed_in_clerks_scan_carries_the_forms_csrf_token(door):
    create_user("clerk_a", "committee_admin", "CA", "a long password 2026",
                database_url=door.gateway_db)
    browser = requests.Session()
    signed = browser.post(f"{door.base}/admin/login", allow_redirects=False, timeout=30,
                          data={"username": "clerk_a", "password": "a long password 2026"})
    assert signed.status_code == 303, signed.text
    path = f"{door.base}/admin/sessions/{door.sessions['a']}/check-in"
    page = browser.get(path, timeout=30)
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
    forged = browser.post(path, data={"member_no": "A3", "action": "leave"}, timeout=30)
    assert forged.status_code == 403 and "表单已过期" in forged.text
    assert ("leave", "checkin") not in door.history("A3")
    sent = browser.post(path, data={"member_no": "A3", "action": "leave", "csrf": csrf},
                        timeout=30)
    assert sent.status_code == 200 and "请假，已记录" in result_of(sent.text)
    # The attendance log keeps who made the entry and from where.
    latest = door.entries("A3")[-1]
    assert (latest["status"], latest["recorded_by"], latest["device"]) == (
        "leave", "clerk_a", "checkin-page")
