"""Filing from the unit's side through the pages, every service running (tests/support/
unit_filing.py): CA01 files its completed class's record with attachments (PDF/JPEG/PNG by their
bytes, at most 10 MB each, kept with their sha256 and as final as the filing), its superior CA
sees and downloads them, returns the record after confirming, CA01 files again; the pages of the
reports the API alone had; error pages in Chinese; downloads named by the class's title.
"""

import hashlib
import re
from urllib.parse import quote

import psycopg2
import pytest

from services.contracts.rules import ATTACHMENT_MAX_BYTES
from tests.support.system import whole_system
from tests.support.unit_filing import PDF, PNG, TITLE_B, TITLE_UNIT, YEAR, build


@pytest.fixture(scope="module")
def world(amqp_uri, vhost, database_urls):
    with whole_system(amqp_uri, vhost, database_urls) as (base, rpc):
        yield build(base, database_urls["gateway"], rpc)


def main_text(page: str) -> str:
    """What a person reads in the page's body: its <main> without tags."""
    body = re.search(r"<main>(.*)</main>", page, re.S).group(1)
    return re.sub(r"<[^>]+>", " ", body)


def file_record(world, browser, files):
    return world.post(browser, f"/admin/filings/outgoing/{world.classes['unit']}/record",
                      files=[("attachments", f) for f in files])


# -- filing with attachments ------------------------------------------------------------------

def test_the_unit_files_its_record_with_attachments_and_the_superior_reviews_them(
        world, database_urls):
    unit, superior = world.browser("org_a"), world.browser("committee_a")
    outgoing = world.get(unit, "/admin/filings/outgoing")
    assert outgoing.status_code == 200, outgoing.text
    record_form = f"/admin/filings/outgoing/{world.classes['unit']}/record"
    assert TITLE_UNIT in outgoing.text and f'href="{record_form}"' in outgoing.text
    form = world.get(unit, record_form)
    assert form.status_code == 200
    assert 'enctype="multipart/form-data"' in form.text and 'type="file"' in form.text

    # Refused, and nothing filed: a file whose bytes are no PDF whatever its name, one too big.
    disguised = file_record(world, unit, [("签到表.pdf", b"PK\x03\x04 a word document")])
    assert disguised.status_code == 422
    assert "不是 PDF、JPEG 或 PNG 文件" in disguised.text
    assert "附件只能是 PDF、JPEG 或 PNG 文件" in disguised.text
    too_big = file_record(world, unit, [("扫描件.pdf", PDF + b"0" * ATTACHMENT_MAX_BYTES)])
    assert too_big.status_code == 422 and "超过每个附件 10 MB 的上限" in too_big.text
    assert world.filings_of("unit", "record") == []

    filed = file_record(world, unit, [("签到表（签字）.pdf", PDF), ("现场照片.png", PNG)])
    assert filed.status_code == 303, filed.text
    assert "done=filed" in filed.headers["Location"]
    assert "已报送" in world.get(unit, filed.headers["Location"]).text
    [version] = world.filings_of("unit", "record")
    assert [(a["file_name"], a["sha256"]) for a in version["attachments"]] == [
        ("签到表（签字）.pdf", hashlib.sha256(PDF).hexdigest()),
        ("现场照片.png", hashlib.sha256(PNG).hexdigest())]

    # The superior sees them in its inbox and on the filing's page, and downloads them.
    inbox = world.get(superior, "/admin/filings")
    scan = version["attachments"][0]
    link = f"/admin/filings/{version['filing_id']}/attachments/{scan['attachment_id']}"
    assert f'href="{link}"' in inbox.text and "签到表（签字）.pdf" in inbox.text
    page = world.get(superior, f"/admin/filings/{version['filing_id']}")
    assert page.status_code == 200 and f'href="{link}"' in page.text
    got = world.get(superior, link)
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["X-Peixun-Sha256"] == hashlib.sha256(PDF).hexdigest()
    assert f"filename*=UTF-8''{quote('签到表（签字）.pdf', safe='')}" in \
        got.headers["Content-Disposition"]
    # Nobody outside CA's subtree reads them.
    assert world.get(world.browser("committee_b"), link).status_code == 403
    assert world.get(world.browser("committee_b"),
                     f"/admin/filings/{version['filing_id']}").status_code == 403

    # What was filed with a version never changes, the database says so too.
    connection = psycopg2.connect(database_urls["reporting"])
    try:
        for statement in ("UPDATE filing_attachment SET content = 'x' WHERE attachment_id = %s",
                          "DELETE FROM filing_attachment WHERE attachment_id = %s"):
            with connection.cursor() as cursor, pytest.raises(
                    psycopg2.Error, match="a filed version never changes"):
                cursor.execute(statement, (scan["attachment_id"],))
            connection.rollback()
    finally:
        connection.close()

    # Returning needs the box ticked; then CA01 sees the reason and files again.
    returned = f"/admin/filings/{version['filing_id']}/return"
    unconfirmed = world.post(superior, returned, data={"reason": "签到表缺少签字页"})
    assert unconfirmed.status_code == 422 and "请勾选确认框" in unconfirmed.text
    assert world.filings_of("unit", "record")[0]["status"] == "filed"
    done = world.post(superior, returned, data={"reason": "签到表缺少签字页", "confirm": "yes"})
    assert done.status_code == 303 and world.filings_of("unit", "record")[0]["status"] == \
        "returned"
    again = world.get(unit, "/admin/filings/outgoing")
    assert "签到表缺少签字页" in again.text and "重新报送" in again.text
    refiled = file_record(world, unit, [("签到表（补签）.pdf", PDF + b"% signed\n")])
    assert refiled.status_code == 303, refiled.text
    first, second = world.filings_of("unit", "record")
    assert [a["file_name"] for a in first["attachments"]] == ["签到表（签字）.pdf", "现场照片.png"]
    assert [a["file_name"] for a in second["attachments"]] == ["签到表（补签）.pdf"]
    acknowledged = world.post(superior, f"/admin/filings/{second['filing_id']}/acknowledge",
                              data={"confirm": "yes"})
    assert acknowledged.status_code == 303
    assert world.filings_of("unit", "record")[1]["status"] == "acknowledged"


def test_only_the_organiser_files_from_the_outgoing_page(world):
    superior = world.browser("committee_a")
    # CA may look at CA01's filings, not file them; CB01's are not CA's to see.
    looked = world.get(superior, "/admin/filings/outgoing?org_code=CA01")
    assert looked.status_code == 200 and "仅供查看" in looked.text
    assert world.get(superior, "/admin/filings/outgoing?org_code=CB01").status_code == 403
    before = world.filings_of("unit", "plan")
    form = world.get(superior, f"/admin/filings/outgoing/{world.classes['unit']}/plan")
    assert form.status_code == 403 and 'type="file"' not in form.text
    refused = world.post(superior, f"/admin/filings/outgoing/{world.classes['unit']}/plan")
    assert refused.status_code == 403
    assert "只有主办单位可以报送本班次的备案" in refused.text
    assert world.filings_of("unit", "plan") == before


# -- the reports' pages ---------------------------------------------------------------------------

def test_the_reports_pages_and_the_member_links(world):
    district = world.browser("district_admin")
    gaps = world.get(district, f"/admin/coverage-gaps?year={YEAR}&org_code=CA")
    assert gaps.status_code == 200, gaps.text
    assert "报名未结业党员" in gaps.text and '<select name="org_code">' in gaps.text
    assert '<option value="CA" selected>' in gaps.text
    assert f'href="/admin/members/A2?year={YEAR}"' in gaps.text   # absent: not completed
    status = world.get(district, f"/admin/filing-status?year={YEAR}")
    assert status.status_code == 200 and "备案明细" in status.text and TITLE_B in status.text
    xlsx = world.get(district, f"/admin/filing-status/file?year={YEAR}&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
    member = world.get(district, f"/admin/members/A1?year={YEAR}")
    assert member.status_code == 200
    assert "张三" in member.text and "集中培训学时" in member.text and "其他学时" in member.text
    record = world.get(district, f"/admin/classes/{world.classes['unit']}")
    assert f'<a href="/admin/members/A1?year={YEAR}">A1</a>' in record.text


def test_the_organisation_picker_lists_the_callers_subtree_only(world):
    page = world.get(world.browser("committee_a"), "/admin/coverage-gaps")
    options = re.findall(r'<option value="([^"]*)"', page.text)
    assert options == ["", "CA", "CA01"]
    glance = world.get(world.browser("committee_a"), "/admin")
    assert "甲镇东风居民区党总支（CA01）" in glance.text and "乙镇" not in glance.text


@pytest.mark.parametrize("token,path,allowed", [
    ("org_a", "/admin/members/A1", True),
    ("org_a", "/admin/members/B1", False),
    ("committee_b", "/admin/members/A1", False),
    ("committee_a", "/admin/coverage-gaps?org_code=CB", False),
    ("committee_a", "/admin/filing-status?org_code=CB", False),
    ("committee_b", "/admin/filing-status?org_code=CB", True),
    ("org_a", "/admin/filings/outgoing?org_code=CA", False),
    ("district_admin", "/admin/filings/outgoing?org_code=CB01", True),
])
def test_each_report_page_stays_inside_the_callers_subtree(world, token, path, allowed):
    answer = world.get(world.browser(token), path)
    assert answer.status_code == (200 if allowed else 403), (answer.status_code, path)
    if not allowed:
        assert "王五" not in answer.text and "张三" not in answer.text


# -- error pages and downloads ------------------------------------------------------------------

@pytest.mark.parametrize("path,status", [
    ("/admin/classes/00000000-0000-4000-8000-000000000000", 404),
    ("/admin/members/NOBODY", 404),
    ("/admin/coverage-gaps?org_code=NOWHERE", 404),
    ("/admin/coverage-gaps?year=soon", 422),
    ("/admin/filings/00000000-0000-4000-8000-000000000000", 404),
    ("/admin/filing-status/file?format=docx", 422),
])
def test_error_pages_are_in_chinese_without_the_programs_words(world, path, status):
    answer = world.get(world.browser("committee_a"), path)
    assert answer.status_code == status, answer.text
    said = re.sub(r"(?i)xlsx|json", "", main_text(answer.text))   # formats, named as they are
    assert not re.search(r"[A-Za-z]{4,}", said), said


def test_downloads_are_named_by_the_class_title(world):
    district = world.browser("district_admin")
    record = world.get(district, f"/admin/classes/{world.classes['unit']}/class-record"
                                 "?format=pdf")
    assert record.status_code == 200
    assert record.headers["Content-Disposition"] == (
        f'attachment; filename="class-record-{YEAR}.pdf"; '
        f"filename*=UTF-8''{quote(f'{TITLE_UNIT}-培训情况.pdf', safe='')}")
    document = world.get(district, f"/admin/filings/{world.filings['b']}/document?format=xlsx")
    assert document.status_code == 200
    assert f"filename*=UTF-8''{quote(f'{TITLE_B}-培训方案-第1版.xlsx', safe='')}" in \
        document.headers["Content-Disposition"]
    assert world.classes["b"] not in document.headers["Content-Disposition"]
