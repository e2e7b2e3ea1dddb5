"""The pages of what an organisation files (备案 from the filer's side, with attachments) and of
the reports the API alone had: coverage gaps, filing status and overdue, a person's archive.
Built from the reports' own data and layouts, as the other pages are. No RPC here."""

from services.contracts import vocabulary
from services.contracts.document import Document
from services.contracts.rules import ATTACHMENT_MAX_BYTES, ATTACHMENT_MAX_COUNT

from .markup import Markup, el, facts, table
from .views import (
    DOCUMENT_FORMATS,
    attachment_links,
    local_time,
    member_link,
    org_select,
    shell,
    table_csv,
    url,
)

REPORT_FORMATS = (("xlsx", "XLSX"), ("pdf", "PDF"), ("csv", "CSV"))
OUTGOING_DONE = {"filed": "已报送，等待上级党组织审核。"}
# What the filer can do in each state (DESIGN §1): file, file again, or wait.
FILE_AGAIN = ("returned", "changed")
FILE_FIRST = ("due", "overdue")
MEGABYTES = ATTACHMENT_MAX_BYTES // (1024 * 1024)


def _downloads(path: str, **params) -> Markup:
    return el("span", "下载：", *[el("a", label, href=url(path, format=fmt, **params))
                                 for fmt, label in REPORT_FORMATS], class_="downloads")


def _year_and_org(path: str, year: int, org_code: str | None, orgs: list[dict],
                  blank: str | None = "全部") -> Markup:
    return el("form",
              el("label", "年度 ", el("input", type="number", name="year", value=year, min=2000,
                                      max=2100, style="width:6em")),
              el("label", "组织 ", org_select(orgs, org_code, blank=blank)),
              el("button", "查看", type="submit", class_="plain"),
              method="get", action=path)


# -- what this organisation files ---------------------------------------------------------------

def outgoing(data: dict, org: dict, versions: dict, principal, orgs: list[dict],
             may_file: bool, notice: str | None) -> Markup:
    """`data`: the filing-status report of the organisation's year; `versions`: each class's
    filed versions (with their attachments) by (class_id, kind)."""
    year, org_code = data["year"], org["org_code"]
    items = [i for i in data["items"] if i["org_code"] == org_code]
    head = el("tr", *[el("th", h, scope="col") for h in (
        "班次", "类别", "截止日期", "状态", "最新报送", "附件", "退回原因", "操作")])
    rows = [_outgoing_row(i, versions.get((i["class_id"], i["kind"]), []), may_file)
            for i in items]
    body = rows or [el("tr", el("td", f"{year}年本单位没有主办的班次", colspan=8,
                                class_="empty"))]
    counts = {}
    for i in items:
        counts[i["state_label"]] = counts.get(i["state_label"], 0) + 1
    summary = "，".join(f"{label} {n} 项" for label, n in counts.items()) or "暂无应备案事项"
    return shell(
        "本单位备案",
        el("h1", f"{year}年 · 本单位备案"),
        el("p", f"{org['name']}（{org_code}）主办班次的培训方案与培训情况：报送上级党组织备案，"
                "被退回或班次有变更的重新报送。", class_="sub"),
        el("p", notice, class_="notice") if notice else None,
        el("div", _year_and_org("/admin/filings/outgoing", year, org_code, orgs, blank=None),
           el("a", "全部备案情况与逾期 »", href=url("/admin/filing-status", year=year)),
           class_="toolbar"),
        el("p", summary, class_="sub"),
        el("div", el("table", el("caption", f"共 {len(items)} 项"), el("thead", head),
                     el("tbody", *body)), class_="table-wrap"),
        None if may_file else el("p", "只有主办单位的管理员可以报送；这里仅供查看。",
                                 class_="sub"),
        principal=principal, active="outgoing")


def _outgoing_row(item: dict, versions: list[dict], may_file: bool) -> Markup:
    latest = versions[-1] if versions else None
    state = item["state"]
    status = [item["state_label"]]
    if item["overdue"]:
        # The reason says more than the state only when it is not the state's own words.
        reason = item["overdue_reason"] or "逾期"
        status = [el("span", item["state_label"], class_="late")] if reason == \
            item["state_label"] else status + [el("br"), el("span", reason, class_="late")]
    elif item["late"]:
        status += [el("br"), el("span", "逾期报送", class_="late")]
    filed = "—"
    if latest:
        filed = [el("a", f"第{latest['version']}版", href=f"/admin/filings/{latest['filing_id']}"),
                 el("br"), el("span", local_time(latest["filed_at"]), class_="note")]
    action = None
    if may_file and state in FILE_FIRST + FILE_AGAIN:
        label = "重新报送" if state in FILE_AGAIN else "报送"
        action = el("a", label, class_="button",
                    href=f"/admin/filings/outgoing/{item['class_id']}/{item['kind']}")
    elif state == "filed":
        action = el("span", "待上级审核", class_="note")
    elif state == "not_due":
        action = el("span", "班次结业后报送", class_="note")
    return el(
        "tr",
        el("td", el("a", item["title"], href=f"/admin/classes/{item['class_id']}"),
           class_="wide"),
        el("td", item["kind_label"], class_="nowrap"),
        el("td", item["deadline"] or "结业后7日内", class_="nowrap"),
        el("td", *status, class_="nowrap"),
        el("td", filed, class_="nowrap"),
        el("td", (attachment_links(latest) if latest else None) or "—"),
        el("td", item["return_reason"] or "—", class_="wide"),
        el("td", action, class_="actions"))


def file_form(klass: dict, kind: str, item: dict, versions: list[dict], org: dict, csrf: str,
              principal) -> Markup:
    """The form that files (or files again) a class's plan or record, with attachments."""
    kind_label = vocabulary.FILING_KINDS[kind]
    again = bool(versions)
    verb = "重新报送" if again else "报送"
    earlier = [el("tr",
                  el("td", el("a", f"第{v['version']}版", href=f"/admin/filings/{v['filing_id']}"),
                     class_="nowrap"),
                  el("td", local_time(v["filed_at"]), class_="nowrap"),
                  el("td", v["status_label"], class_="nowrap"),
                  el("td", v.get("reason") or "—", class_="wide"),
                  el("td", attachment_links(v) or "—"))
               for v in versions]
    return shell(
        f"{verb}{kind_label}",
        el("p", el("a", "« 本单位备案", href=url("/admin/filings/outgoing", year=klass["year"],
                                                org_code=org["org_code"]))),
        el("h1", f"{verb}{kind_label} · {klass['title']}"),
        el("p", f"主办单位：{org['name']}（{org['org_code']}） · 截止日期："
                f"{item['deadline'] or '结业后7日内'} · 当前状态：{item['state_label']}",
           class_="sub"),
        el("div", el("table", el("caption", "已报送的版本"), el("thead", el("tr", *[
            el("th", h, scope="col") for h in ("版本", "报送时间", "状态", "退回原因", "附件")])),
            el("tbody", *earlier)), class_="table-wrap") if earlier else None,
        el("form",
           el("input", type="hidden", name="csrf", value=csrf),
           el("p", f"报送的是此刻的{kind_label}（系统按班次当前情况生成，报送后不再改变）。"
                   "可同时附上签字的签到表扫描件、现场照片等。"),
           el("label", "附件（可多选）", el("br"),
              el("input", type="file", name="attachments", multiple=True,
                 accept="application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png")),
           el("p", f"只接受 PDF、JPEG、PNG 文件，每个不超过 {MEGABYTES} MB，最多 "
                   f"{ATTACHMENT_MAX_COUNT} 个。附件随本版报送，之后不能更换或删除。",
              class_="hint"),
           el("p", el("button", f"{verb}{kind_label}", type="submit")),
           method="post", enctype="multipart/form-data", class_="upload",
           action=f"/admin/filings/outgoing/{klass['class_id']}/{kind}"),
        principal=principal, active="outgoing")


# -- one filed version, and its review ---------------------------------------------------------

def attendance_check_text(check: dict, filed_sequence: int) -> str | Markup:
    """What the log's check says of the attendance a record summarised, for a clerk; a record
    no longer matching its attendance in red, where the eye falls."""
    if check.get("unavailable"):
        return "暂时无法核验（报名考勤服务未响应），请稍后刷新"
    broken = check.get("broken")
    if broken is None:
        return f"完好：备案所依据的{filed_sequence}条考勤记录均未被改动"
    if broken["chain_seq"] <= filed_sequence:
        return el("span", f"不符：第{broken['chain_seq']}条考勤记录（党员编号 "
                          f"{broken['member_no']}）与备案时不同，已被改动，请联系系统管理员核查",
                  class_="alarm")
    return (f"完好：备案所依据的{filed_sequence}条考勤记录均未被改动；备案后的第"
            f"{broken['chain_seq']}条记录有改动，请联系系统管理员核查")


def filing_page(f: dict, title: str | None, org_name: str | None, reviewer: bool, csrf: str,
                principal, attendance_check: dict | None = None) -> Markup:
    """A filed version: what it is, its documents and attachments; for its reviewer, the two
    forms that acknowledge or return it, each confirmed with a box that must be ticked."""
    filing_id = f["filing_id"]
    documents = [el("a", label, href=url(f"/admin/filings/{filing_id}/document", format=fmt))
                 for fmt, label in DOCUMENT_FORMATS]
    lines = [("班次", title or "—"),
             ("报送单位", f"{org_name or f['org_code']}（{f['org_code']}）"),
             ("类别", f["kind_label"]), ("版本", f"第{f['version']}版"),
             ("报送时间", local_time(f["filed_at"])), ("截止日期", f["deadline"]),
             ("状态", f["status_label"] + ("（逾期报送）" if f["late"] else "")
              + (f"，{f['changed_label']}" if f.get("changed_label") else "")
              + (f"，{f['attendance_changed_label']}"
                 if f.get("attendance_changed_label") else "")),
             ("校验值（sha256）", f["sha256"])]
    # A record keeps the head of its class's attendance chain it summarised.
    chain = f.get("attendance_chain") or {}
    if chain.get("sequence") is not None:
        lines.append(("考勤记录链头",
                      f"第{chain['sequence']}条 {chain['head'] or '（无考勤记录）'}"))
    if attendance_check is not None and chain.get("sequence") is not None:
        lines.append(("考勤记录核验", attendance_check_text(attendance_check,
                                                        chain["sequence"])))
    if f["status"] != "filed":
        lines.append(("审核时间", local_time(f["reviewed_at"])))
    if f.get("reason"):
        lines.append(("退回原因", f["reason"]))
    reviews = None
    if reviewer and f["status"] == "filed":
        hidden = el("input", type="hidden", name="csrf", value=csrf)
        reviews = [
            el("h2", "审核"),
            el("form", hidden,
               el("label", el("input", type="checkbox", name="confirm", value="yes",
                              required=True),
                  " 我已核对备案文件和附件，确认备案（确认后不能撤销）", class_="confirm"),
               el("button", "确认备案", type="submit"),
               method="post", class_="review", action=f"/admin/filings/{filing_id}/acknowledge"),
            el("form", hidden,
               el("label", "退回原因", el("br"),
                  el("textarea", name="reason", rows=3, required=True, maxlength=500)),
               el("label", el("input", type="checkbox", name="confirm", value="yes",
                              required=True),
                  " 确认退回，报送单位将看到上面的原因并重新报送", class_="confirm"),
               el("button", "退回", type="submit", class_="plain"),
               method="post", class_="review", action=f"/admin/filings/{filing_id}/return")]
    return shell(
        f"备案 · {title or f['kind_label']}",
        el("p", el("a", "« 备案收件箱", href="/admin/filings") if reviewer
           else el("a", "« 本单位备案", href=url("/admin/filings/outgoing",
                                               org_code=f["org_code"]))),
        el("h1", f"{f['kind_label']} · {title or '—'}"),
        facts(lines),
        el("h2", "备案文件"), el("p", *documents, class_="downloads"),
        el("h2", "附件"), attachment_links(f) or el("p", "本版没有附件。", class_="sub"),
        reviews,
        principal=principal, active="filings" if reviewer else "outgoing")


# -- the reports only the API had --------------------------------------------------------------

def coverage_gaps(data: dict, document: Document, principal, org_code: str | None,
                  orgs: list[dict]) -> Markup:
    year = data["year"]
    links = {"member_no": member_link(year), "secretary_member_no": member_link(year)}
    return shell(
        f"{year}年书记参训覆盖缺口",
        el("h1", document.title),
        el("p", f"统计范围：{document.subtitle}。书记尚未参训的基层党组织、报名后未结业的党员，"
                "按党(工)委列出，便于跟进。", class_="sub"),
        el("div", _year_and_org("/admin/coverage-gaps", year, org_code, orgs),
           _downloads("/admin/coverage-gaps/file", year=year, org_code=org_code),
           class_="toolbar"),
        facts(document.facts),
        *[table(t, links, csv=table_csv("/admin/coverage-gaps/file", year=year,
                                        org_code=org_code)) for t in document.tables],
        principal=principal, active="coverage")


def filing_status(data: dict, document: Document, principal, org_code: str | None,
                  orgs: list[dict]) -> Markup:
    year = data["year"]
    return shell(
        f"{year}年备案情况",
        el("h1", document.title),
        el("p", f"统计范围：{document.subtitle}。截至 {data['as_of']}：应报送、已备案、待审核、"
                "已退回、逾期和有变更待重新报送的事项。", class_="sub"),
        el("div", _year_and_org("/admin/filing-status", year, org_code, orgs),
           _downloads("/admin/filing-status/file", year=year, org_code=org_code),
           el("a", "本单位备案 »", href=url("/admin/filings/outgoing", year=year)),
           class_="toolbar"),
        facts(document.facts),
        *[table(t, csv=table_csv("/admin/filing-status/file", year=year,
                                 org_code=org_code)) for t in document.tables],
        principal=principal, active="status")


def member_archive(data: dict, document: Document, principal, year: int | None) -> Markup:
    person = data["person"]
    member_no = person["member_no"]
    return shell(
        f"{person['name']} · 个人培训档案",
        el("h1", f"{person['name']} · {document.title}"),
        el("p", document.subtitle, class_="sub"),
        el("div",
           el("form",
              el("label", "年度 ", el("input", type="number", name="year", value=year or "",
                                      min=2000, max=2100, placeholder="全部",
                                      style="width:6em")),
              el("button", "查看", type="submit", class_="plain"),
              method="get", action=f"/admin/members/{member_no}"),
           el("a", "全部年度", href=f"/admin/members/{member_no}") if year else None,
           _downloads(f"/admin/members/{member_no}/archive", year=year),
           class_="toolbar"),
        facts(document.facts),
        *[table(t, csv=table_csv(f"/admin/members/{member_no}/archive", year=year))
          for t in document.tables],
        principal=principal, active=None)
