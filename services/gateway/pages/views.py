"""Each admin page as HTML, from the data the routes fetched: the reports' own layouts (their
facts, tables and charts, as the PDF shows them, handed over by reporting as Documents) and the
services' lists. No RPC here."""

from urllib.parse import urlencode

from services.contracts import vocabulary
from services.contracts.document import Document

from .charts import svg
from .markup import Markup, el, facts, table

# The class list shows published classes only (drafts have no record yet).
LISTED_STATUSES = {code: text for code, text in vocabulary.CLASS_STATUSES.items()
                   if code != "draft"}
INBOX_TABS = {"filed": "待审核", "acknowledged": "已备案", "returned": "已退回", "all": "全部"}
DONE = {"acknowledged": "已确认备案。", "returned": "已退回报送单位。"}
DOCUMENT_FORMATS = (("pdf", "PDF"), ("xlsx", "XLSX"), ("csv", "CSV"), ("json", "JSON"))
ERROR_TITLES = {400: "请求有误", 401: "请先登录", 403: "无权访问", 404: "未找到",
                409: "无法执行", 413: "提交内容过大", 422: "输入有误", 502: "服务出错",
                503: "服务未运行", 504: "服务未及时响应"}
NAV = (("glance", "/admin", "年度概览"), ("classes", "/admin/classes", "班次培训情况"),
       ("filings", "/admin/filings", "备案收件箱"))

STYLE = """
*{box-sizing:border-box}
body{margin:0;font:14px/1.6 "Noto Sans CJK SC","Source Han Sans SC","PingFang SC",
"Microsoft YaHei","WenQuanYi Micro Hei",sans-serif;color:#222;background:#f5f5f3}
header{background:#b00000;color:#fff;display:flex;align-items:center;gap:24px;padding:0 24px}
header .brand{font-weight:700;font-size:16px;padding:12px 0}
header nav{display:flex;gap:4px;flex:1}
header nav a{color:#fde;text-decoration:none;padding:14px 12px}
header nav a.active,header nav a:hover{color:#fff;background:#8c0000}
header .who{font-size:13px;display:flex;gap:10px;align-items:center}
header .who button{background:none;border:1px solid #fcc;color:#fff;border-radius:3px;
padding:2px 10px;cursor:pointer}
main{max-width:1200px;margin:0 auto;padding:20px 24px 48px}
h1{font-size:22px;margin:8px 0 4px}
h2{font-size:17px;margin:28px 0 8px}
.sub{color:#666;margin:0 0 16px}
a{color:#9b0000}
.toolbar{display:flex;flex-wrap:wrap;gap:12px;align-items:center;margin:12px 0 20px}
.toolbar form{display:flex;gap:6px;align-items:center}
input,select,textarea{font:inherit;padding:4px 6px;border:1px solid #bbb;border-radius:3px}
button,.button{font:inherit;background:#b00000;color:#fff;border:0;border-radius:3px;
padding:4px 12px;cursor:pointer;text-decoration:none;display:inline-block}
button.plain{background:#fff;color:#9b0000;border:1px solid #9b0000}
.downloads a{margin-right:8px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:12px}
.card{background:#fff;border-left:4px solid #b00000;padding:12px 16px;border-radius:3px}
.card .label{color:#666;font-size:13px}
.card .value{font-size:26px;font-weight:700}
.card .note{color:#666;font-size:12px}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:16px;
margin-top:16px}
.charts figure{margin:0;background:#fff;padding:8px;border-radius:3px}
svg.chart{max-width:100%;height:auto;font-size:12px}
svg.chart .chart-title{font-size:14px;font-weight:700}
svg.chart .grid{stroke:#ddd;stroke-width:1}
svg.chart .note,svg.chart .axis-label{fill:#777}
.table-wrap{overflow-x:auto;margin:12px 0}
table{border-collapse:collapse;background:#fff;min-width:50%}
caption{text-align:left;font-weight:700;padding:6px 0;font-size:15px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0e6e6}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tbody tr:nth-child(even){background:#faf8f8}
tfoot td{font-weight:700;background:#f6f0f0}
td.empty{color:#888;text-align:center}
td .note{color:#666;font-size:12px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;background:#fff;
padding:12px 16px;border-radius:3px}
dl.facts dt{color:#666}
dl.facts dd{margin:0}
.tabs{display:flex;gap:4px;border-bottom:2px solid #b00000;margin:16px 0 0}
.tabs a{padding:6px 16px;text-decoration:none;background:#eee;border-radius:3px 3px 0 0}
.tabs a.active{background:#b00000;color:#fff}
.notice{background:#eaf6e6;border:1px solid #9c9;padding:8px 12px;border-radius:3px}
.error{background:#fdecea;border:1px solid #e99;padding:8px 12px;border-radius:3px}
.late{color:#b00000;font-weight:700}
.actions form{display:flex;gap:4px;margin:2px 0}
.actions input[name=reason]{width:11em}
.pager{margin:12px 0;display:flex;gap:12px}
.login{max-width:520px;margin:60px auto;background:#fff;padding:24px 32px;border-radius:4px}
.login textarea{width:100%;font-family:monospace}
code{background:#eee;padding:1px 4px;border-radius:2px}
"""


def url(path: str, **params) -> str:
    """A link with its query; empty parameters left out."""
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{path}?{query}" if query else path


def pct(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def local_time(iso: str | None) -> str:
    """An ISO instant (already in Asia/Shanghai) as people read it: 2026-11-25 09:30."""
    return "—" if not iso else iso[:16].replace("T", " ")


def shell(title: str, *content, principal=None, active: str | None = None,
          nav: bool = True) -> Markup:
    header = None
    if nav:
        who = None
        if principal is not None:
            who = vocabulary.ACCESS_ROLES.get(principal.role, principal.role) \
                + (f" · {principal.org_code}" if principal.org_code else "")
        header = el("header", el("span", "培训管理", class_="brand"),
                    el("nav", *[el("a", text, href=href, class_="active" if key == active
                                   else None) for key, href, text in NAV]),
                    el("div", el("span", who) if who else None,
                       el("form", el("button", "退出", type="submit"), method="post",
                          action="/admin/logout"), class_="who"))
    return Markup("<!doctype html>" + el(
        "html",
        el("head", el("meta", charset="utf-8"),
           el("meta", name="viewport", content="width=device-width, initial-scale=1"),
           el("title", f"{title} · 培训管理"), el("style", Markup(STYLE))),
        el("body", header, el("main", *content)), lang="zh-CN"))


# -- signing in and errors -----------------------------------------------------------------------

def login(next_path: str, error: str | None = None) -> Markup:
    return shell("登录", el(
        "div",
        el("h1", "培训管理 · 登录"),
        el("p", "请粘贴运维人员用 ", el("code", "peixun token create --role district_admin"),
           " （或 committee_admin / org_admin 加 ", el("code", "--org 组织编码"),
           "）生成的访问令牌。", class_="sub"),
        el("p", error, class_="error") if error else None,
        el("form",
           el("label", "访问令牌", el("br"),
              el("textarea", name="token", rows=3, required=True, autocomplete="off",
                 spellcheck="false", autofocus=True)),
           el("input", type="hidden", name="next", value=next_path),
           el("p", el("button", "登录", type="submit")),
           method="post", action="/admin/login"),
        class_="login"), nav=False)


def error(status: int, detail: str, errors: dict | None = None) -> Markup:
    reasons = [el("li", f"{field}：{'；'.join(why)}") for field, why in (errors or {}).items()]
    return shell(ERROR_TITLES.get(status, "出错了"),
                 el("h1", f"{status} {ERROR_TITLES.get(status, '出错了')}"),
                 el("p", detail, class_="error"),
                 el("ul", *reasons) if reasons else None,
                 el("p", el("a", "返回年度概览", href="/admin")))


# -- the year at a glance --------------------------------------------------------------------------

def _card(label: str, value, note: str) -> Markup:
    return el("div", el("div", label, class_="label"), el("div", value, class_="value"),
              el("div", note, class_="note"), class_="card")


def glance(data: dict, document: Document, principal, org_code: str | None) -> Markup:
    year, totals, coverage = data["year"], data["totals"], data["coverage"]
    scope = data["scope"]
    scope_text = f"{scope['name']}（{scope['org_code']}）" if scope else "全区"
    district, unit = vocabulary.RUN_BY["district"], vocabulary.RUN_BY["unit"]
    parts = vocabulary.STUDY_HOUR_PARTS
    cards = [
        _card("完成人次", totals["person_times"],
              f"{district} {totals['district_person_times']}（目标 "
              f"{totals['district_target']} 人次 · 完成率 {pct(totals['district_achievement'])}）"
              f" · {unit} {totals['unit_person_times']}（目标 {totals['unit_target']} 人次）"),
        # The classes beside the enrolments are the classes those enrolments are in.
        _card("报名人次", totals["enrolled"],
              f"分布在 {totals['classes_attended']} 个班次 · 范围内主办 {totals['classes']} 个"),
        _card("书记参训覆盖率", pct(coverage["rate"]),
              f"{coverage['covered']}/{coverage['orgs']} 个基层党组织"),
        *[_card(f"{g['label']}学时达标率", pct(g["rate"]),
                f"{g['reached']}/{g['people']} 人达到 {g['quota']:g} 学时 · 人均 "
                f"{g['average_hours'] or 0:g} 学时（{parts['class']} {g['class_hours']:g}、"
                f"{parts['other']} {g['other_hours']:g}）")
          for g in data["study_hours"]["groups"]],
    ]
    downloads = [el("a", label, href=url("/admin/annual-summary", year=year, org_code=org_code,
                                         format=fmt))
                 for fmt, label in (("xlsx", "XLSX"), ("pdf", "PDF"), ("csv", "CSV"),
                                    ("png", "图表 PNG"))]
    return shell(
        f"{year}年度概览",
        el("h1", f"{year}年度大培训 · 年度概览"),
        el("p", f"统计范围：{scope_text}", class_="sub"),
        el("div",
           el("a", f"« {year - 1}年", href=url("/admin", year=year - 1, org_code=org_code)),
           el("form", el("label", "年度 ", el("input", type="number", name="year", value=year,
                                               min=2000, max=2100, style="width:6em")),
              el("label", "组织编码 ", el("input", name="org_code", value=org_code or "",
                                         placeholder="留空为全部", style="width:9em")),
              el("button", "查看", type="submit", class_="plain"), method="get",
              action="/admin"),
           el("a", f"{year + 1}年 »", href=url("/admin", year=year + 1, org_code=org_code)),
           el("span", "下载：", *downloads, class_="downloads"), class_="toolbar"),
        el("div", *cards, class_="cards"),
        el("div", *[el("figure", svg(chart)) for chart in document.charts], class_="charts"),
        *[table(t) for t in document.tables],
        principal=principal, active="glance")


# -- class records -----------------------------------------------------------------------------

def class_list(classes: list[dict], organisers: dict, programs: dict, principal, query: dict,
               page: int, pages: int, total: int) -> Markup:
    year = query["year"]
    rows = [el("tr",
               el("td", el("a", c["title"], href=f"/admin/classes/{c['class_id']}")),
               el("td", programs.get(c["program_id"]) or "—", el("br"),
                  el("span", vocabulary.label(vocabulary.TRACKS, c["track"]), class_="note")),
               el("td", organisers.get(c["organiser_org_code"]) or c["organiser_org_code"]),
               el("td", vocabulary.label(vocabulary.DELIVERIES, c["delivery"])),
               el("td", c["start_date"] if c["start_date"] == c["end_date"]
                  else f"{c['start_date']} 至 {c['end_date']}"),
               el("td", vocabulary.label(vocabulary.CLASS_STATUSES, c["status"])),
               el("td", f"{c.get('sessions_completed', 0)}/{c.get('session_count', 0)}",
                  class_="num"),
               el("td", f"{c['class_hours']:g}" if c.get("class_hours") is not None else "—",
                  class_="num"),
               el("td", pct(c.get("core_theory_ratio")), class_="num"))
            for c in classes]
    head = el("tr", *[el("th", h, scope="col") for h in (
        "班次", "所属培训项目", "主办单位", "培训方式", "培训日期", "状态", "已完成课次", "学时",
        "核心理论课占比")])
    body = rows or [el("tr", el("td", "本年度暂无班次", colspan=9, class_="empty"))]

    def select(name, options, chosen):
        return el("select", el("option", "全部", value=""),
                  *[el("option", label, value=key, selected=key == chosen)
                    for key, label in options.items() if key is not None], name=name)

    return shell(
        f"{year}年班次培训情况",
        el("h1", f"{year}年 · 班次培训情况"),
        el("p", "点击班次查看培训情况（各课次出勤、结业、参训人员），并可下载 PDF / XLSX / CSV。",
           class_="sub"),
        el("form",
           el("label", "年度 ", el("input", type="number", name="year", value=year, min=2000,
                                   max=2100, style="width:6em")),
           el("label", "培训项目 ", select("track", vocabulary.TRACKS, query.get("track"))),
           el("label", "状态 ", select("status", LISTED_STATUSES, query.get("status"))),
           el("button", "筛选", type="submit", class_="plain"),
           method="get", action="/admin/classes", class_="toolbar"),
        el("div", el("table", el("caption", f"共 {total} 个班次"), el("thead", head),
                     el("tbody", *body)), class_="table-wrap"),
        _pager("/admin/classes", page, pages, **{k: v for k, v in query.items()
                                                  if k != "page"}),
        principal=principal, active="classes")


def class_record_page(data: dict, document: Document, principal) -> Markup:
    facts_ = data["class"]
    downloads = [el("a", label, href=url(f"/admin/classes/{facts_['class_id']}/class-record",
                                         format=fmt))
                 for fmt, label in DOCUMENT_FORMATS]
    return shell(
        facts_["title"],
        el("p", el("a", f"« {facts_['year']}年班次列表",
                   href=url("/admin/classes", year=facts_["year"]))),
        el("h1", facts_["title"]),
        el("p", f"{document.title} · {facts_['organiser_name']} · {facts_['track_label']}",
           class_="sub"),
        el("div", el("span", "下载培训情况：", *downloads, class_="downloads"),
           class_="toolbar"),
        facts(document.facts),
        *[table(t) for t in document.tables],
        principal=principal, active="classes")


# -- the filing inbox ------------------------------------------------------------------------------

def inbox(answer: dict, principal, status: str, org_code: str | None, titles: dict,
          orgs: dict, csrf: str, notice: str | None) -> Markup:
    back = {"status": status, "org_code": org_code or ""}
    tabs = el("div", *[el("a", label, href=url("/admin/filings", status=key, org_code=org_code),
                          class_="active" if key == status else None)
                       for key, label in INBOX_TABS.items()], class_="tabs")
    rows = [_filing_row(f, titles, orgs, csrf, back) for f in answer["items"]]
    head = el("tr", *[el("th", h, scope="col") for h in (
        "报送单位", "班次", "类别", "版本", "报送时间", "截止日期", "状态", "审核", "备案文件",
        "操作")])
    body = rows or [el("tr", el("td", f"没有{INBOX_TABS[status]}的备案", colspan=10,
                                class_="empty"))]
    addressee = orgs.get(org_code) or org_code if org_code else "区委（全区直属）"
    chooser = el(
        "form", el("input", type="hidden", name="status", value=status),
        el("label", "收件组织编码 ", el("input", name="org_code", value=org_code or "",
                                       placeholder="留空为区委", style="width:9em")),
        el("button", "切换", type="submit", class_="plain"),
        method="get", action="/admin/filings", class_="toolbar") \
        if principal.role == "district_admin" else None
    pages = max(1, -(-answer["total"] // answer["per_page"]))
    return shell(
        "备案收件箱",
        el("h1", "备案收件箱"),
        el("p", f"报送给 {addressee} 的培训方案与培训情况：确认备案，或写明原因退回。",
           class_="sub"),
        el("p", notice, class_="notice") if notice else None,
        chooser, tabs,
        el("div", el("table", el("caption", f"共 {answer['total']} 项"), el("thead", head),
                     el("tbody", *body)), class_="table-wrap"),
        _pager("/admin/filings", answer["page"], pages, status=status, org_code=org_code),
        principal=principal, active="filings")


def _filing_row(f: dict, titles: dict, orgs: dict, csrf: str, back: dict) -> Markup:
    filing_id = f["filing_id"]
    documents = [el("a", label, href=url(f"/admin/filings/{filing_id}/document", format=fmt))
                 for fmt, label in DOCUMENT_FORMATS]
    hidden = [el("input", type="hidden", name="csrf", value=csrf),
              el("input", type="hidden", name="status", value=back["status"]),
              el("input", type="hidden", name="org_code", value=back["org_code"])]
    actions = None
    if f["status"] == "filed":
        actions = [
            el("form", *hidden, el("button", "确认备案", type="submit"), method="post",
               action=f"/admin/filings/{filing_id}/acknowledge"),
            el("form", *hidden,
               el("input", name="reason", required=True, placeholder="退回原因", maxlength=500),
               el("button", "退回", type="submit", class_="plain"), method="post",
               action=f"/admin/filings/{filing_id}/return")]
    reviewed = None
    if f["status"] != "filed":
        reviewed = [local_time(f["reviewed_at"]),
                    el("br") if f.get("reason") else None,
                    f"原因：{f['reason']}" if f.get("reason") else None]
    org = f["org_code"]
    return el(
        "tr",
        el("td", f"{orgs.get(org) or org}（{org}）"),
        el("td", el("a", titles.get(f["class_id"]) or f["class_id"],
                    href=f"/admin/classes/{f['class_id']}")),
        el("td", f["kind_label"]),
        el("td", f"第{f['version']}版", class_="num"),
        el("td", local_time(f["filed_at"])),
        el("td", f["deadline"]),
        el("td", f["status_label"], el("br") if f["late"] else None,
           el("span", "逾期报送", class_="late") if f["late"] else None,
           # The class changed after this version was built: it waits to be filed again.
           el("br") if f.get("changed_label") else None,
           el("span", f["changed_label"], class_="late") if f.get("changed_label") else None),
        el("td", reviewed),
        el("td", *documents, class_="downloads"),
        el("td", actions, class_="actions"))


def _pager(path: str, page: int, pages: int, **params) -> Markup | None:
    if pages <= 1:
        return None
    return el("div",
              el("a", "« 上一页", href=url(path, page=page - 1, **params)) if page > 1 else None,
              el("span", f"第 {page}/{pages} 页"),
              el("a", "下一页 »", href=url(path, page=page + 1, **params))
              if page < pages else None, class_="pager")
