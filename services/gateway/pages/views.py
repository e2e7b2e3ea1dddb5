"""Each admin page as HTML, from the data the routes fetched: the reports' own layouts (their
facts, tables and charts, as the PDF shows them, handed over by reporting as Documents) and the
services' lists. No RPC here."""

import re
from urllib.parse import urlencode

from services.contracts import vocabulary
from services.contracts.document import Document

from ..users import LOCK_AFTER, LOCK_FOR
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
# What an error page says when the service's own words are not for people (English, event and
# rule names): by status, then the rule in Chinese, then each field by its label.
ERROR_EXPLAINED = {
    400: "请求的格式不正确，请返回上一页重新操作。",
    403: "只能查看和办理本单位及下级单位的事项。",
    404: "要找的内容不存在，或统计服务尚未收到它（刚发布、刚报送的内容稍后才能看到）。",
    409: "当前状态下无法执行此操作。",
    413: "提交的内容过大：每个附件不超过 10 MB，每次报送最多 5 个附件。",
    415: "提交的内容格式不对。",
    422: "填写的内容有误，请按下列提示修改后重新提交。",
    500: "系统出错，已记入日志，请联系运维人员。",
    502: "后台服务处理时出错，请稍后重试；仍然出错请联系运维人员。",
    503: "后台服务暂不可用（可能正在重建统计数据），请稍后再试。",
    504: "后台服务未及时响应，请稍后再试。",
}
FIELD_LABELS = {"year": "年度", "org_code": "组织", "class_id": "班次", "member_no": "党员编号",
                "format": "下载格式", "section": "下载的表格", "status": "状态", "page": "页码",
                "reason": "退回原因", "kind": "备案类别", "attachments": "附件",
                "filing_id": "备案", "attachment_id": "附件", "confirm": "确认", "csrf": "表单",
                "username": "用户名", "password": "密码", "role": "角色", "org": "组织"}
# Words an error may show as they are (formats, units, the names of uploaded files); any other
# Latin word means the text was written for programs, not people.
SHOWN_AS_THEY_ARE = re.compile(r"[^\s：，]+\.(?:pdf|jpe?g|png|xlsx|csv)\b|PDF|JPEG|PNG|XLSX|"
                               r"CSV|JSON|MB|sha256|UTF-8", re.IGNORECASE)
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
NAV = (("glance", "/admin", "年度概览"), ("classes", "/admin/classes", "班次培训情况"),
       ("new_class", "/admin/classes/new", "新建班次"),
       ("filings", "/admin/filings", "备案收件箱"),
       ("outgoing", "/admin/filings/outgoing", "本单位备案"),
       ("status", "/admin/filing-status", "备案情况"),
       ("coverage", "/admin/coverage-gaps", "覆盖缺口"))
# Only a district_admin manages accounts and reads the audit trail.
DISTRICT_NAV = (("users", "/admin/users", "用户管理"), ("audit", "/admin/audit", "操作记录"))
# Signing in: one answer for an unknown user name and a wrong password, so that none tells
# which user names exist.
SIGN_IN_REFUSED = {"credentials": "用户名或密码不正确。",
                   "disabled": "该账号已停用，请联系区级管理员。",
                   "elsewhere": "登录请求不是从本系统的登录页提交的，未予受理。请在本页重新登录。"}
LOCKED = ("该用户名连续登录失败次数过多，已锁定 {minutes} 分钟，请于 {until} 后再试；"
          "忘记密码请联系区级管理员重置。")

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
main{max-width:1320px;margin:0 auto;padding:20px 24px 48px}
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
caption .caption-link{font-weight:400;font-size:13px;margin-left:12px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0e6e6;white-space:nowrap}
td{min-width:4.5em}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.nowrap{white-space:nowrap}
td.wide{min-width:14em}
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
.late,.alarm{color:#b00000;font-weight:700}
.actions form{display:flex;gap:4px;margin:2px 0}
.actions,.downloads{white-space:nowrap}
.attachments{margin:0;padding-left:1.2em}
form.review{background:#fff;padding:12px 16px;border-radius:3px;margin:12px 0;max-width:720px}
form.review textarea{width:100%}
form.review .confirm{display:block;margin:8px 0}
form.upload{background:#fff;padding:12px 16px;border-radius:3px;margin:12px 0;max-width:720px}
.hint{color:#666;font-size:12px}
.actions input[name=reason]{width:11em}
.pager{margin:12px 0;display:flex;gap:12px}
.login{max-width:520px;margin:60px auto;background:#fff;padding:24px 32px;border-radius:4px}
.login input{width:100%}
.login .note{color:#666;font-size:12px}
code{background:#eee;padding:1px 4px;border-radius:2px}
.panel{background:#fff;padding:12px 16px;border-radius:3px;margin:12px 0}
.fields{display:flex;flex-wrap:wrap;gap:10px 20px;align-items:flex-end}
.field{display:flex;flex-direction:column;gap:2px}
.field .label{color:#666;font-size:13px}
.field .hint{color:#888;font-size:12px}
.ratio{font-size:15px;font-weight:700;padding:8px 12px;border-radius:3px}
.ratio.ok{background:#eaf6e6;color:#1d6b1d}
.ratio.short{background:#fdecea;color:#b00000}
.picker{display:grid;grid-template-columns:260px 1fr;gap:16px}
.picker ul{list-style:none;margin:0;padding:0}
.checks{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:4px 12px}
.cards.places{grid-template-columns:repeat(auto-fill,minmax(150px,1fr));margin-bottom:12px}
@media (max-width:760px){
header{flex-wrap:wrap;gap:0 12px;padding:0 12px}
header .who{margin-left:auto}
header nav{order:3;flex:1 1 100%;flex-wrap:wrap;gap:2px;padding-bottom:4px}
header nav a{padding:6px 8px}
main{padding:12px 12px 32px}
.charts,.picker{grid-template-columns:1fr}
.toolbar form{flex-wrap:wrap}
button,.button{white-space:nowrap}
}
"""


def org_select(choices: list[dict], chosen: str | None, name: str = "org_code",
               blank: str | None = "全部") -> Markup:
    """The organisations a caller may choose (its subtree, from enrollment), indented by depth,
    instead of a field where a code is typed; `blank`: what choosing none means."""
    top = min((o.get("depth") or 0 for o in choices), default=0)
    options = [el("option", blank, value="")] if blank else []
    options += [el("option", "\u3000" * ((o.get("depth") or 0) - top)
                   + f"{o['name']}（{o['org_code']}）", value=o["org_code"],
                   selected=o["org_code"] == chosen) for o in choices]
    if chosen and chosen not in {o["org_code"] for o in choices}:
        options.append(el("option", chosen, value=chosen, selected=True))
    return el("select", *options, name=name)


def member_link(year: int | None):
    """A member number in a report, linked to that person's archive page."""
    return lambda member_no: url(f"/admin/members/{member_no}", year=year) if member_no else None


def url(path: str, **params) -> str:
    """A link with its query; empty parameters left out."""
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{path}?{query}" if query else path


def table_csv(path: str, **params):
    """Where each table of a report's page downloads as CSV: a function of its section."""
    return lambda section: url(path, format="csv", section=section, **params)


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
        links = NAV
        if principal is not None:
            who = (f"{principal.username} · " if principal.username else "") \
                + vocabulary.ACCESS_ROLES.get(principal.role, principal.role) \
                + (f" · {principal.org_code}" if principal.org_code else "")
            links = NAV + (DISTRICT_NAV if principal.role == "district_admin" else ())
        header = el("header", el("span", "培训管理", class_="brand"),
                    el("nav", *[el("a", text, href=href, class_="active" if key == active
                                   else None) for key, href, text in links]),
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

def login(next_path: str, error: str | None = None, username: str = "") -> Markup:
    return shell("登录", el(
        "div",
        el("h1", "培训管理 · 登录"),
        el("p", "请输入区级管理员为您开设的用户名和密码。", class_="sub"),
        el("p", error, class_="error") if error else None,
        el("form",
           el("p", el("label", "用户名", el("br"),
                      el("input", name="username", value=username, required=True,
                         autocomplete="username", autofocus=not username, maxlength=64))),
           el("p", el("label", "密码", el("br"),
                      el("input", type="password", name="password", required=True,
                         autocomplete="current-password", autofocus=bool(username),
                         maxlength=128))),
           el("input", type="hidden", name="next", value=next_path),
           el("p", el("button", "登录", type="submit")),
           method="post", action="/admin/login"),
        el("p", f"连续 {LOCK_AFTER} 次输错密码，该用户名将被锁定 "
                f"{LOCK_FOR.seconds // 60} 分钟。", class_="note"),
        class_="login"), nav=False)


def for_people(text: str | None) -> bool:
    """Whether a service's message can be shown as it is: Chinese, with no program's words.
    What comes before a "：" names what the reason is about (an uploaded file's own name)."""
    text = SHOWN_AS_THEY_ARE.sub("", (text or "").split("：", 1)[-1])
    return bool(re.search(r"[\u4e00-\u9fff]", text)) and not LATIN_WORD.search(text)


def error(status: int, detail: str | None, errors: dict | None = None,
          rule: str | None = None) -> Markup:
    """An error page in Chinese: the rule that refused, as people read it, else the service's
    message when it is Chinese, else what the status means; each field by its label."""
    title = ERROR_TITLES.get(status, "出错了")
    if rule in vocabulary.RULES:
        message = f"不符合规定：{vocabulary.RULES[rule]}。"
    elif for_people(detail):
        message = detail
    else:
        message = ERROR_EXPLAINED.get(status, "操作未能完成，请返回上一页重试。")
    unreadable = "查无此项" if status == 404 else "取值不正确"
    reasons = [el("li", f"{FIELD_LABELS.get(field.split('.')[0], '填写项')}："
                        f"{'；'.join(w if for_people(w) else unreadable for w in why)}")
               for field, why in (errors or {}).items()]
    return shell(title, el("h1", title), el("p", message, class_="error"),
                 el("ul", *reasons) if reasons else None,
                 el("p", el("a", "返回年度概览", href="/admin")))


# -- the year at a glance --------------------------------------------------------------------------

def _card(label: str, value, note: str) -> Markup:
    return el("div", el("div", label, class_="label"), el("div", value, class_="value"),
              el("div", note, class_="note"), class_="card")


def glance(data: dict, document: Document, principal, org_code: str | None,
           orgs: list[dict] = ()) -> Markup:
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
              el("label", "统计范围 ", org_select(orgs, org_code)),
              el("button", "查看", type="submit", class_="plain"), method="get",
              action="/admin"),
           el("a", f"{year + 1}年 »", href=url("/admin", year=year + 1, org_code=org_code)),
           el("span", "下载：", *downloads, class_="downloads"), class_="toolbar"),
        el("div", *cards, class_="cards"),
        el("div", *[el("figure", svg(chart)) for chart in document.charts], class_="charts"),
        *[table(t, csv=table_csv("/admin/annual-summary", year=year, org_code=org_code))
          for t in document.tables],
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
           el("a", "报名管理", href=f"/admin/classes/{facts_['class_id']}/nominations"),
           class_="toolbar"),
        facts(document.facts),
        *[table(t, {"member_no": member_link(facts_["year"])},
                csv=table_csv(f"/admin/classes/{facts_['class_id']}/class-record"))
          for t in document.tables],
        principal=principal, active="classes")


# -- the filing inbox ------------------------------------------------------------------------------

def inbox(answer: dict, principal, status: str, org_code: str | None, titles: dict,
          orgs: dict, csrf: str, notice: str | None, choices: list[dict] = ()) -> Markup:
    back = {"status": status, "org_code": org_code or ""}
    tabs = el("div", *[el("a", label, href=url("/admin/filings", status=key, org_code=org_code),
                          class_="active" if key == status else None)
                       for key, label in INBOX_TABS.items()], class_="tabs")
    rows = [_filing_row(f, titles, orgs, csrf, back) for f in answer["items"]]
    head = el("tr", *[el("th", h, scope="col") for h in (
        "报送单位", "班次", "类别", "版本", "报送时间", "截止日期", "状态", "审核", "备案文件",
        "附件", "操作")])
    body = rows or [el("tr", el("td", f"没有{INBOX_TABS[status]}的备案", colspan=11,
                                class_="empty"))]
    addressee = orgs.get(org_code) or org_code if org_code else "区委（全区直属）"
    chooser = el(
        "form", el("input", type="hidden", name="status", value=status),
        el("label", "收件组织 ", org_select(choices, org_code, blank="区委（全区直属）")),
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


def attachment_links(f: dict) -> Markup | None:
    """A filed version's attachments, each a download under its own name."""
    if not f.get("attachments"):
        return None
    return el("ul", *[el("li", el("a", a["file_name"], href=f"/admin/filings/{f['filing_id']}"
                                  f"/attachments/{a['attachment_id']}"),
                         el("span", f" {size_text(a['size'])}", class_="note"))
                      for a in f["attachments"]], class_="attachments")


def size_text(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{max(1, size // 1024)} KB"


def _filing_row(f: dict, titles: dict, orgs: dict, csrf: str, back: dict) -> Markup:
    filing_id = f["filing_id"]
    documents = [el("a", label, href=url(f"/admin/filings/{filing_id}/document", format=fmt))
                 for fmt, label in DOCUMENT_FORMATS]
    # Acknowledging and returning are confirmed on the filing's own page, its files in view.
    actions = el("a", "审核…", href=f"/admin/filings/{filing_id}", class_="button") \
        if f["status"] == "filed" else el("a", "查看", href=f"/admin/filings/{filing_id}")
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
                    href=f"/admin/classes/{f['class_id']}"), class_="wide"),
        el("td", f["kind_label"], class_="nowrap"),
        el("td", f"第{f['version']}版", class_="num"),
        el("td", local_time(f["filed_at"]), class_="nowrap"),
        el("td", f["deadline"], class_="nowrap"),
        el("td", f["status_label"], el("br") if f["late"] else None,
           el("span", "逾期报送", class_="late") if f["late"] else None,
           # The class changed after this version was built: it waits to be filed again.
           el("br") if f.get("changed_label") else None,
           el("span", f["changed_label"], class_="late") if f.get("changed_label") else None,
           # Attendance recorded after it was filed: the filed record no longer tells it all.
           el("br") if f.get("attendance_changed_label") else None,
           el("span", f["attendance_changed_label"], class_="late")
           if f.get("attendance_changed_label") else None),
        el("td", reviewed),
        el("td", *documents, class_="downloads"),
        el("td", attachment_links(f) or "—"),
        el("td", actions, class_="actions"))


def _pager(path: str, page: int, pages: int, **params) -> Markup | None:
    if pages <= 1:
        return None
    return el("div",
              el("a", "« 上一页", href=url(path, page=page - 1, **params)) if page > 1 else None,
              el("span", f"第 {page}/{pages} 页"),
              el("a", "下一页 »", href=url(path, page=page + 1, **params))
              if page < pages else None, class_="pager")
