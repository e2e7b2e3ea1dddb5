"""A class's nominations as HTML: seats and quotas, people picked from the organisation tree
or a 报名表 uploaded (each bad row named, 第 N 行：字段：原因), the review queue and the
enrolments with their withdrawals. No RPC here."""

from services.contracts import vocabulary

from .classes import refusal_box
from .markup import Markup, el
from .views import local_time, shell, url

REVIEWABLE = "nominated"
ACTIVE = ("nominated", "confirmed", "waitlisted")
DONE = {"accepted": "已通过审核。", "rejected": "已退回该报名。", "withdrawn": "已办理退出。",
        "quota_set": "名额已保存。"}


def _csrf(csrf: str) -> Markup:
    return el("input", type="hidden", name="csrf", value=csrf)


def _place_cards(klass: dict, places: dict | None) -> Markup:
    if places is None:
        return el("p", "报名服务尚未收到该班次（刚发布的班次稍后可见），请稍后刷新本页。",
                  class_="notice")
    cards = [("线下名额", klass["offline_capacity"]),
             ("线下已报名", places["offline_confirmed"]),
             ("线下余额", places["offline_free"]),
             ("线上已报名", places["online_confirmed"]),
             ("候补", places["waitlisted"]),
             ("待审核", places["nominated"])]
    return el("div", *[el("div", el("div", label, class_="label"),
                          el("div", value, class_="value"), class_="card")
                       for label, value in cards], class_="cards places")


def _quota_form(class_id: str, csrf: str, committees: list[dict], values: dict) -> Markup:
    """The organiser sets (or, left empty, removes) a party committee's quota."""
    return el(
        "form", _csrf(csrf),
        el("label", "单位 ", el(
            "select", el("option", "请选择党委（党工委）", value=""),
            *[el("option", f"{c['name']}（{c['org_code']}）", value=c["org_code"],
                 selected=values.get("committee_code") == c["org_code"]) for c in committees],
            name="committee_code", required=True)),
        el("label", " 名额 ", el("input", type="number", name="seats", min=0,
                                 value=values.get("seats", ""), placeholder="不填则取消名额",
                                 style="width:9em")),
        el("button", "设置名额", type="submit", class_="plain"),
        method="post", action=f"/admin/classes/{class_id}/quotas", class_="toolbar")


def _quotas(quotas: list[dict], names: dict) -> Markup | None:
    if not quotas:
        return el("p", "本班次未给各单位分配名额：在线下名额内先报先得，额满进入候补。",
                  class_="sub")
    rows = [el("tr", el("td", f"{names.get(q['committee_code']) or q['committee_code']}"),
               el("td", "不限" if q["seats"] is None else q["seats"], class_="num"),
               el("td", q["used"], class_="num"),
               el("td", "—" if q["seats"] is None else max(q["seats"] - q["used"], 0),
                  class_="num"))
            for q in quotas]
    head = el("tr", *[el("th", h, scope="col") for h in ("单位", "名额", "已用（含待审核）",
                                                          "剩余")])
    return el("div", el("table", el("caption", "各单位名额"), el("thead", head),
                        el("tbody", *rows)), class_="table-wrap")


def _mode_select(modes: tuple[str, ...]) -> Markup:
    return el("label", "参训方式 ", el("select", *[
        el("option", vocabulary.ENROLLMENT_MODES[m], value=m) for m in modes], name="mode"))


def _picker(class_id: str, csrf: str, tree: dict, enrolled: dict, modes) -> Markup:
    """The organisation tree, from the caller's own organisation down: the way up, the
    organisations below the one chosen, and its members to tick."""
    current = tree["current"]
    path = el("p", *[[el("a", o["name"], href=url(f"/admin/classes/{class_id}/nominations",
                                                 org=o["org_code"])), " › "]
                     for o in tree["path"]], el("strong", current["name"]), class_="sub")
    children = el("ul", *[el("li", el("a", f"{o['name']}",
                                      href=url(f"/admin/classes/{class_id}/nominations",
                                               org=o["org_code"])),
                             el("span", f"（{vocabulary.label(vocabulary.ORG_KINDS, o['kind'])}）",
                                class_="note"))
                          for o in tree["children"]]) if tree["children"] else \
        el("p", "没有下级组织", class_="sub")

    def member(m):
        status = enrolled.get(m["member_no"])
        text = f"{m['name']}（{m['member_no']}）"
        if status:
            return el("label", el("input", type="checkbox", disabled=True),
                      f" {text} · {vocabulary.label(vocabulary.ENROLLMENT_STATUSES, status)}",
                      class_="note")
        return el("label", el("input", type="checkbox", name="member_no", value=m["member_no"]),
                  f" {text}")

    members = tree["members"]
    more = el("p", f"本组织共 {tree['member_total']} 人，这里列出前 {len(members)} 人；"
                   "人数较多时请用报名表上传。", class_="sub") \
        if tree["member_total"] > len(members) else None
    ticks = el("form", _csrf(csrf),
               el("div", *[member(m) for m in members], class_="checks") if members else
               el("p", "本组织没有党员，请选择下级组织。", class_="sub"),
               more,
               el("p", _mode_select(modes), " ", el("button", "报名所选党员", type="submit"))
               if members else None,
               method="post", action=f"/admin/classes/{class_id}/nominations")
    return el("div", el("div", el("h3", "选择组织"), path, children),
              el("div", el("h3", f"{current['name']}的党员"), ticks), class_="picker panel")


def _upload(class_id: str, csrf: str) -> Markup:
    return el(
        "form", _csrf(csrf),
        el("p", "按模板填写报名表（XLSX 或 CSV）后上传：有误的行逐行列出，其余各行照常报名。",
           class_="sub"),
        el("div",
           el("a", "下载报名表模板", href=f"/admin/classes/{class_id}/nominations/template.xlsx",
              class_="button plain"),
           el("input", type="file", name="file", accept=".xlsx,.csv", required=True),
           el("button", "上传报名表", type="submit"), class_="toolbar"),
        method="post", action=f"/admin/classes/{class_id}/nominations/upload",
        enctype="multipart/form-data", class_="panel")


def outcome_box(outcome: dict | None) -> Markup | None:
    """What a nomination did: how many were enrolled, and each person or row refused."""
    if outcome is None:
        return None
    statuses = outcome["statuses"]
    counted = "，".join(f"{vocabulary.label(vocabulary.ENROLLMENT_STATUSES, s)} {n} 人"
                       for s, n in statuses.items())
    # Seated is what a clerk expects; anything else (waiting for review, waitlisted) is said.
    done = el("p", f"本次成功报名 {outcome['enrolled']} 人"
              + (f"：{counted}" if set(statuses) - {"confirmed"} else "") + "。",
              class_="notice")
    if not outcome["bad"]:
        return done
    return el("div", done,
              el("div", el("strong", f"以下 {len(outcome['bad'])} 项未能报名，请改正后重新提交："),
                 el("ul", *[el("li", line) for line in outcome["bad"]]),
                 class_="error", role="alert"))


def _enrolment_rows(items: list[dict], csrf: str, orgs: dict, reviews: bool,
                    class_id: str) -> list[Markup]:
    rows = []
    for e in items:
        actions = []
        if reviews and e["status"] == REVIEWABLE:
            actions += [
                el("form", _csrf(csrf), el("button", "通过", type="submit"), method="post",
                   action=f"/admin/enrolments/{e['enrollment_id']}/accept"),
                el("form", _csrf(csrf),
                   el("input", name="reason", placeholder="退回原因", required=True,
                      maxlength=500),
                   el("button", "不通过", type="submit", class_="plain"), method="post",
                   action=f"/admin/enrolments/{e['enrollment_id']}/reject")]
        if e["status"] in ACTIVE:
            actions.append(el("form", _csrf(csrf),
                              el("input", name="reason", placeholder="退出原因", maxlength=500),
                              el("button", "退出", type="submit", class_="plain"),
                              method="post",
                              action=f"/admin/enrolments/{e['enrollment_id']}/withdraw"))
        org = e.get("org_code")
        rows.append(el(
            "tr",
            el("td", e.get("name") or "—", class_="nowrap"),
            el("td", e["member_no"], class_="nowrap"),
            el("td", orgs.get(org) or org or "—"),
            el("td", vocabulary.label(vocabulary.ENROLLMENT_MODES, e["mode"]), class_="nowrap"),
            el("td", vocabulary.label(vocabulary.ENROLLMENT_ORIGINS, e.get("origin")),
               class_="nowrap"),
            el("td", vocabulary.label(vocabulary.ENROLLMENT_STATUSES, e["status"]),
               class_="nowrap"),
            el("td", e.get("reason") or "", el("br") if e.get("reason") else None,
               el("span", local_time(e.get("updated_at")), class_="note")),
            el("td", *actions, class_="actions")))
    return rows


def _enrolments(title: str, answer: dict, csrf: str, orgs: dict, reviews: bool,
                class_id: str, empty: str) -> Markup:
    head = el("tr", *[el("th", h, scope="col") for h in (
        "姓名", "党员编号", "党组织", "方式", "来源", "状态", "原因 / 更新时间", "操作")])
    rows = _enrolment_rows(answer["items"], csrf, orgs, reviews, class_id) or [
        el("tr", el("td", empty, colspan=8, class_="empty"))]
    more = f"（列出前 {len(answer['items'])} 人）" if answer["total"] > len(answer["items"]) else ""
    return el("div", el("table", el("caption", f"{title}：共 {answer['total']} 人{more}"),
                        el("thead", head), el("tbody", *rows)), class_="table-wrap")


def nominations_page(principal, csrf: str, klass: dict, places: dict | None,
                     quotas: list[dict], committee_names: dict, tree: dict | None,
                     enrolments: dict, queue: dict | None, orgs: dict, modes,
                     organiser: bool, outcome: dict | None, problem: dict | None,
                     notice: str | None, committees: list[dict] | None = None,
                     values: dict | None = None) -> Markup:
    """`organiser`: the caller organises the class, so it reviews and manages it;
    `committees`: those it may give a quota (None: it may not set quotas)."""
    class_id = klass["class_id"]
    status = vocabulary.label(vocabulary.CLASS_STATUSES, klass["status"])
    open_ = klass["status"] == "published" and places is not None
    enrolled = {e["member_no"]: e["status"] for e in enrolments["items"]}
    return shell(
        f"{klass['title']} · 报名",
        el("p", el("a", f"« {klass['title']}", href=f"/admin/classes/{class_id}")),
        el("h1", f"{klass['title']} · 报名管理"),
        el("p", f"{vocabulary.label(vocabulary.TRACKS, klass['track'])} · "
                f"{vocabulary.label(vocabulary.DELIVERIES, klass['delivery'])} · "
                f"{klass['start_date']} 至 {klass['end_date']} · {status}"
                + (" · 报名须经主办单位审核" if klass["review_nominations"] else ""),
           class_="sub"),
        el("div", el("a", "班次管理（课次、发布、取消、结业）",
                     href=f"/admin/classes/{class_id}/edit"), class_="toolbar")
        if organiser else None,
        el("p", notice, class_="notice") if notice else None,
        refusal_box(problem),
        outcome_box(outcome),
        _place_cards(klass, places),
        _quotas(quotas, committee_names),
        _quota_form(class_id, csrf, committees, values or {})
        if committees and places is not None and klass["status"] == "published" else None,
        el("h2", "选人报名") if open_ and tree else None,
        _picker(class_id, csrf, tree, enrolled, modes) if open_ and tree else None,
        el("h2", "上传报名表") if open_ else None,
        _upload(class_id, csrf) if open_ else None,
        el("p", f"班次{status}，不能再报名。", class_="sub") if not open_ and places else None,
        el("h2", "待审核") if queue is not None else None,
        _enrolments("待审核的报名", queue, csrf, orgs, True, class_id, "没有待审核的报名")
        if queue is not None else None,
        el("h2", "报名人员"),
        _enrolments("报名人员", enrolments, csrf, orgs, False, class_id,
                    "还没有人报名"),
        principal=principal, active="classes")
