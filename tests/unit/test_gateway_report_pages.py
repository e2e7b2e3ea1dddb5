"""What the admin pages say when something is refused, how a download is named, and an empty
report table: in Chinese, without the words the services speak among themselves."""

from services.contracts.document import Column, Table
from services.gateway.pages import views
from services.gateway.pages.markup import table
from services.gateway.routes.reporting import disposition

CLASS_ID = "0b0c1a2e-1111-4222-8333-123456789abc"


def test_an_error_page_names_the_rule_in_chinese_and_hides_the_services_words():
    page = views.error(403, "only the organiser (CA) files this class's plan", None,
                       "filing_organiser")
    assert "只有主办单位可以报送本班次的备案" in page and "organiser" not in page
    missing = views.error(404, "class x is not known to reporting (no class event seen yet)",
                          {"member_no": ["no person_changed or enrolment event named it"]})
    assert "要找的内容不存在" in missing and "党员编号：查无此项" in missing
    assert "event" not in missing and "reporting" not in missing
    chinese = views.error(422, "年度应为数字", {"year": ["年度应为数字"]})
    assert "年度：年度应为数字" in chinese
    named = views.error(422, "an attachment is refused",
                        {"attachments": ["scan page.pdf：不是 PDF、JPEG 或 PNG 文件"]})
    assert "附件：scan page.pdf：不是 PDF、JPEG 或 PNG 文件" in named


def test_a_download_is_named_in_utf8_beside_an_ascii_name_without_the_id():
    assert disposition("签到表.pdf", f"class-record-{CLASS_ID}-2026.pdf") == (
        'attachment; filename="class-record-2026.pdf"; '
        "filename*=UTF-8''%E7%AD%BE%E5%88%B0%E8%A1%A8.pdf")
    assert disposition("annual-summary-2026.xlsx", "annual-summary-2026.xlsx") == \
        'attachment; filename="annual-summary-2026.xlsx"'
    assert disposition('照片".png', '照片".png').startswith('attachment; filename=".png"; ')


def test_an_empty_report_table_says_so_in_a_row():
    empty = table(Table("其他学时", [Column("year", "年度", "int")], []))
    assert '<tbody><tr><td colspan="1" class="empty">暂无数据</td></tr></tbody>' in empty


def test_an_overdue_filing_says_so_once_and_a_reason_beyond_the_state_beside_it():
    from services.gateway.pages.reports import _outgoing_row

    item = {"class_id": "c1", "kind": "plan", "state": "overdue", "state_label": "逾期未报",
            "overdue": True, "overdue_reason": "逾期未报", "late": False,
            "title": "甲镇党员冬训示范班", "class_title": "甲镇党员冬训示范班",
            "kind_label": "培训方案", "deadline": "2026-12-01", "return_reason": None}
    assert str(_outgoing_row(item, [], may_file=True)).count("逾期未报") == 1
    returned = {**item, "state": "returned", "state_label": "已退回",
                "overdue_reason": "退回后逾期未重新报送"}
    row = str(_outgoing_row(returned, [], may_file=True))
    assert "已退回" in row and "退回后逾期未重新报送" in row
