"""The clerk's class pages as HTML: a new class, and a class being built or run — its facts,
its sessions from the catalogue with the two-thirds ratio as it stands, publish, cancel and
complete. Refusals are shown in Chinese, naming the rule (vocabulary.RULES). No RPC here."""

from services.contracts import rules, vocabulary

from .markup import Markup, el
from .views import local_time, pct, shell, url

FIELD_LABELS = {
    "program_id": "培训项目", "title": "班次名称", "audience": "培训对象",
    "audience.sector": "领域", "audience.module": "模块", "audience.category": "党员类别",
    "delivery": "培训方式", "start_date": "开始日期", "end_date": "结束日期",
    "offline_capacity": "线下名额", "online_open": "线上开放", "review_nominations": "报名审核",
    "sessions": "课次", "course_id": "课程", "day": "日期", "starts_at": "开始时间",
    "ends_at": "结束时间", "hours": "学时", "place": "地点", "venue_id": "教室",
    "site_id": "现场教学点", "instructor_id": "授课人", "live": "直播", "reason": "原因",
    "year": "年度", "track": "培训类别", "organiser_org_code": "主办单位", "name": "项目名称",
    "target_person_times": "目标人次", "class_id": "班次", "committee_code": "单位",
    "seats": "名额", "session_id": "课次",
}
ONLINE_OPEN = (("", "按默认（书记班直播、线下+直播时开放）"), ("true", "开放"), ("false", "不开放"))
CHANGEABLE = ("draft", "published", "in_progress")
DONE = {"created": "班次草稿已保存，请添加课次。", "saved": "班次信息已保存。",
        "session_added": "课次已添加。", "session_removed": "课次已删除。",
        "published": "班次已发布，可以开始报名。", "cancelled": "班次已取消。",
        "completed": "班次已结业。", "program_created": "培训项目已创建。",
        "session_rescheduled": "课次已调整。", "session_cancelled": "课次已取消。",
        "session_completed": "课次已标记为已完成。"}


# -- refusals ------------------------------------------------------------------------------------

def field_label(key: str) -> str:
    """`sessions.1.venue_id` → 第 2 个课次 · 教室."""
    parts = key.split(".")
    if len(parts) >= 3 and parts[0] == "sessions" and parts[1].isdigit():
        return f"第 {int(parts[1]) + 1} 个课次 · {field_label('.'.join(parts[2:]))}"
    return FIELD_LABELS.get(key, key)


def session_name(session: dict) -> str:
    return f"《{session['course_title']}》{local_time(session['starts_at'])}"


def refusal_lines(problem: dict, sessions: dict | None = None) -> list[str]:
    """What a refusal says to a clerk: each rule broken, in Chinese, and where. `problem`: a
    refusal's info (rule, errors, violations …); `sessions`: the class's sessions by id."""
    sessions = sessions or {}
    codes = [code for code in (problem.get("rule") or "").split(",") if code]
    lines = [f"违反规则：{vocabulary.RULES.get(code, code)}" for code in codes]
    if "two_thirds_core_theory" in codes and problem.get("sessions"):
        # Numbers cross RPC in a refusal's info as text (nameko's safe serialisation).
        core, total = int(problem["core_sessions"]), int(problem["sessions"])
        lines.append(f"目前核心理论课 {core}/{total} 个课次（{pct(core / total)}），还需增加 "
                     f"{rules.core_sessions_missing(core, total)} 个核心理论课次，"
                     "或减少非核心课次。")
    for violation in problem.get("violations") or []:
        named = [session_name(sessions[s]) for s in violation["sessions"] if s in sessions]
        where = "、".join(named) if named else "新添加的课次"
        lines.append(f"{where}：{vocabulary.RULES.get(violation['rule'], violation['rule'])}")
    if problem.get("violations") or "two_thirds_core_theory" in codes:
        return lines   # each said above, with where and how many
    for key, reasons in (problem.get("errors") or {}).items():
        # A single known rule says it in Chinese; a form's own check says it in Chinese too.
        said = vocabulary.RULES[codes[0]] if len(codes) == 1 and codes[0] in vocabulary.RULES \
            else "；".join(reasons if isinstance(reasons, list) else [reasons])
        lines.append(f"{field_label(key)}：{said}")
    if not lines:
        lines.append(problem.get("detail") or "未能完成操作")
    return lines


def refusal_box(problem: dict | None, sessions: dict | None = None) -> Markup | None:
    if not problem:
        return None
    return el("div", el("strong", problem.get("title") or "未能完成"),
              el("ul", *[el("li", line) for line in refusal_lines(problem, sessions)]),
              class_="error", role="alert")


# -- the form's parts ------------------------------------------------------------------------------

def _csrf(csrf: str) -> Markup:
    return el("input", type="hidden", name="csrf", value=csrf)


def _select(name: str, options, chosen, blank: str | None = None, **attrs) -> Markup:
    """`options`: (value, label) pairs."""
    return el("select", el("option", blank, value="") if blank is not None else None,
              *[el("option", text, value=value, selected=str(value) == str(chosen or ""))
                for value, text in options], name=name, **attrs)


def _field(label: str, control, hint: str | None = None) -> Markup:
    return el("label", el("span", label, class_="label"), control,
              el("span", hint, class_="hint") if hint else None, class_="field")


def _audience(values: dict, track: str | None) -> list[Markup]:
    """The audience's controls: a secretaries' class names a module (and may name a sector),
    a members' class a category; a track already chosen shows only its own."""
    secretaries = [
        _field("模块", _select("module", vocabulary.MODULES.items(), values.get("module"),
                               "（书记班必选）")),
        _field("领域", _select("sector", vocabulary.SECTORS.items(), values.get("sector"),
                               "全部领域"))]
    members = [_field("党员类别", _select("category", vocabulary.CATEGORIES.items(),
                                          values.get("category"), "（党员班必选）"))]
    if track == "secretaries":
        return secretaries
    if track == "members":
        return members
    return [*secretaries, *members]


def class_fields(values: dict, track: str | None, fixed: bool) -> list[Markup]:
    """The class's own fields; `fixed`: published, so audience and delivery no longer change."""
    audience = [_field("培训对象", el("span", values.get("audience_label") or "—"),
                       "发布后不再更改")] if fixed else _audience(values, track)
    delivery = _field("培训方式", el("span", vocabulary.label(vocabulary.DELIVERIES,
                                                          values.get("delivery")))) if fixed \
        else _field("培训方式", _select("delivery", vocabulary.DELIVERIES.items(),
                                        values.get("delivery") or "offline"))
    return [
        _field("班次名称", el("input", name="title", value=values.get("title", ""), required=True,
                              maxlength=200, size=40)),
        *audience, delivery,
        _field("开始日期", el("input", type="date", name="start_date",
                              value=values.get("start_date", ""), required=True)),
        _field("结束日期", el("input", type="date", name="end_date",
                              value=values.get("end_date", ""), required=True)),
        _field("线下名额", el("input", type="number", name="offline_capacity", min=0,
                              max=100000, value=values.get("offline_capacity", ""),
                              required=True, style="width:7em")),
        _field("线上开放", _select("online_open", ONLINE_OPEN, values.get("online_open"))),
        _field("报名审核", el("span", el("input", type="checkbox", name="review_nominations",
                                         value="true",
                                         checked=values.get("review_nominations") in
                                         (True, "true")),
                              " 各单位报名须经主办单位审核")),
    ]


# -- a new class --------------------------------------------------------------------------------

def program_label(program: dict, organisers: dict) -> str:
    organiser = organisers.get(program["organiser_org_code"]) or program["organiser_org_code"]
    return (f"{program['name']}（{program['year']}年 · "
            f"{vocabulary.label(vocabulary.TRACKS, program['track'])} · {organiser}）")


def new_class(principal, csrf: str, year: int, programs: list[dict], organisers: dict,
              drafts: list[dict], values: dict, problem: dict | None,
              own_org: str | None, notice: str | None, choices: list[dict]) -> Markup:
    """`choices`: the organisations a district admin may name as a program's organiser."""
    chosen = next((p for p in programs if p["program_id"] == values.get("program_id")), None)
    program_select = _select("program_id", [(p["program_id"], program_label(p, organisers))
                                            for p in programs],
                             values.get("program_id"), "请选择培训项目", required=True)
    form = el(
        "form", _csrf(csrf),
        el("div", _field("培训项目", program_select,
                         "书记班选择模块，党员班选择党员类别；先选项目再填写培训对象"),
           *class_fields(values, chosen["track"] if chosen else None, fixed=False),
           class_="fields"),
        el("p", el("button", "保存草稿并添加课次", type="submit")),
        method="post", action="/admin/classes/new", class_="panel") if programs else \
        el("p", f"{year}年还没有可用的培训项目：请先在下方新建培训项目。", class_="notice")
    return shell(
        "新建班次",
        el("p", el("a", f"« {year}年班次列表", href=url("/admin/classes", year=year))),
        el("h1", "新建班次"),
        el("p", "先保存班次草稿，再从课程库添加课次；核心理论课达到三分之二后即可发布。",
           class_="sub"),
        el("p", notice, class_="notice") if notice else None,
        refusal_box(problem),
        el("form", el("label", "年度 ", el("input", type="number", name="year", value=year,
                                            min=2000, max=2100, style="width:6em")),
           el("button", "切换", type="submit", class_="plain"), method="get",
           action="/admin/classes/new", class_="toolbar"),
        form,
        _drafts(drafts),
        _new_program(csrf, year, own_org, choices, values if problem and
                     "target_person_times" in values else {}),
        principal=principal, active="new_class")


def _drafts(drafts: list[dict]) -> Markup:
    rows = [el("tr", el("td", el("a", d["title"], href=f"/admin/classes/{d['class_id']}/edit")),
               el("td", f"{d['start_date']} 至 {d['end_date']}"),
               el("td", d.get("session_count", 0), class_="num"),
               el("td", pct(d.get("core_theory_ratio")), class_="num")) for d in drafts]
    head = el("tr", *[el("th", h, scope="col")
                      for h in ("班次", "培训日期", "课次", "核心理论课占比")])
    body = rows or [el("tr", el("td", "没有未发布的草稿", colspan=4, class_="empty"))]
    return el("div", el("table", el("caption", "未发布的草稿"), el("thead", head),
                        el("tbody", *body)), class_="table-wrap")


def _new_program(csrf: str, year: int, own_org: str | None, choices: list[dict],
                 values: dict) -> Markup:
    organiser = el("span", own_org, el("input", type="hidden", name="organiser_org_code",
                                        value=own_org)) if own_org else \
        _select("organiser_org_code", [(o["org_code"], f"{o['name']}（{o['org_code']}）")
                                       for o in choices],
                values.get("organiser_org_code"), "请选择主办单位", required=True)
    return el(
        "details",
        el("summary", "新建培训项目（本单位自主培训）"),
        el("form", _csrf(csrf),
           el("div",
              _field("年度", el("input", type="number", name="year", value=year, min=2018,
                                max=2100, required=True, style="width:6em")),
              _field("培训类别", _select("track", vocabulary.TRACKS.items(), values.get("track"),
                                         required=True)),
              _field("主办单位", organiser),
              _field("项目名称", el("input", name="name", value=values.get("name", ""),
                                    required=True, maxlength=200, size=30)),
              _field("目标人次", el("input", type="number", name="target_person_times", min=0,
                                    value=values.get("target_person_times", ""), required=True,
                                    style="width:7em")),
              class_="fields"),
           el("p", el("button", "创建培训项目", type="submit", class_="plain")),
           method="post", action="/admin/programs/new"),
        class_="panel", open=bool(values))


# -- a class being built or run ----------------------------------------------------------------

def ratio_line(sessions: list[dict]) -> Markup:
    """The two-thirds rule as it stands, over the class's non-cancelled sessions."""
    counted = [s for s in sessions if s["status"] != "cancelled"]
    core, total = sum(1 for s in counted if s["core_theory"]), len(counted)
    if not total:
        return el("p", "尚未安排课次：发布前须添加课次，核心理论课不少于三分之二。",
                  class_="ratio short")
    state = f"核心理论课 {core}/{total} 个课次（{pct(core / total)}）"
    if rules.passes_two_thirds(core, total):
        return el("p", f"{state} · 已达到三分之二", class_="ratio ok")
    return el("p", f"{state} · 未达到三分之二：还需增加 "
                   f"{rules.core_sessions_missing(core, total)} 个核心理论课次，或减少非核心课次",
              class_="ratio short")


def _session_changes(s: dict, csrf: str, catalogue: dict) -> Markup:
    """A published class's scheduled session moved or cancelled (a published session is never
    edited or removed silently): a row of its own under the session's, across the table."""
    action = f"/admin/sessions/{s['session_id']}"
    starts, ends = local_time(s["starts_at"]), local_time(s["ends_at"])
    move = el("form", _csrf(csrf),
              el("input", type="date", name="day", value=starts[:10], required=True,
                 aria_label="日期"),
              el("input", type="time", name="starts", value=starts[11:], required=True,
                 aria_label="开始"),
              el("input", type="time", name="ends", value=ends[11:], required=True,
                 aria_label="结束"),
              _places(catalogue, "", "（地点不变）"),
              el("input", name="reason", placeholder="调课原因（可不填）", maxlength=500),
              el("button", "调课", type="submit", class_="plain"),
              method="post", action=f"{action}/reschedule")
    cancel = el("form", _csrf(csrf),
                el("input", name="reason", placeholder="取消原因", maxlength=500,
                   required=True),
                el("button", "取消课次", type="submit", class_="plain"),
                method="post", action=f"{action}/cancel")
    return el("tr", el("td", el("details", el("summary", "调课 / 取消本课次"), move, cancel,
                                class_="toolbar"), colspan=11), class_="changes")


def _session_rows(klass: dict, csrf: str, catalogue: dict, now: str) -> list[Markup]:
    """`now`: the services' clock as an ISO instant in Shanghai, to tell which have ended."""
    draft = klass["status"] == "draft"
    running = klass["status"] in ("published", "in_progress")
    rows = []
    for number, s in enumerate(klass["sessions"], start=1):
        # A draft's session can go; a published one is checked in on the day, from its 签到表.
        remove = el("form", _csrf(csrf), el("button", "删除", type="submit", class_="plain"),
                    method="post", action=f"/admin/sessions/{s['session_id']}/remove") \
            if draft else el("span", el("a", "签到", href=f"/admin/sessions/{s['session_id']}"
                                                          "/check-in"), " · ",
                             el("a", "签到表", href=f"/admin/sessions/{s['session_id']}"
                                                   "/sign-in-sheet.pdf"))
        changeable = running and s["status"] == "scheduled"
        complete = el("form", _csrf(csrf), el("button", "完成课次", type="submit",
                                              class_="plain"),
                      method="post", action=f"/admin/sessions/{s['session_id']}/complete") \
            if changeable and s["ends_at"] <= now else None
        rows.append(el(
            "tr",
            el("td", number, class_="num"),
            el("td", s["course_title"]),
            el("td", "是" if s["core_theory"] else "否"),
            el("td", vocabulary.label(vocabulary.SESSION_KINDS, s["kind"])),
            el("td", f"{local_time(s['starts_at'])}–{local_time(s['ends_at'])[11:]}"),
            el("td", f"{s['hours']:g}", class_="num"),
            el("td", s.get("venue_name") or "—"),
            el("td", s.get("instructor_name") or "—"),
            el("td", "直播" if s.get("live") else "—"),
            el("td", vocabulary.label(vocabulary.SESSION_STATUSES, s["status"])),
            el("td", remove, complete, class_="actions")))
        if changeable:
            rows.append(_session_changes(s, csrf, catalogue))
    return rows


def _places(catalogue: dict, chosen: str | None, none_label: str) -> Markup:
    """A select of the catalogue's classrooms and sites, as `venue:<id>` or `site:<id>`."""
    return el(
        "select", el("option", none_label, value=""),
        el("optgroup", *[el("option", f"{v['name']}（{v['seats']} 座）",
                            value=f"venue:{v['venue_id']}",
                            selected=chosen == f"venue:{v['venue_id']}")
                         for v in catalogue["venues"]], label="教室"),
        el("optgroup", *[el("option", f"{s['name']}（每批 {s['group_capacity']} 人）",
                            value=f"site:{s['site_id']}",
                            selected=chosen == f"site:{s['site_id']}")
                         for s in catalogue["sites"]], label="现场教学点"),
        name="place")


def warnings_box(warnings: list[dict] | None) -> Markup | None:
    """What a completion did that its organiser may not have expected (the gateway's
    completion warnings, each already in Chinese)."""
    if not warnings:
        return None
    return el("div", el("strong", "请注意："),
              el("ul", *[el("li", w["message"]) for w in warnings]),
              class_="error", role="status")


def _add_session(csrf: str, class_id: str, catalogue: dict, values: dict,
                 first_day: str) -> Markup:
    courses = catalogue["courses"]
    course_options = [
        el("optgroup", *[el("option", f"{c['title']}（{c['default_hours']:g} 学时）",
                            value=c["course_id"],
                            selected=c["course_id"] == values.get("course_id"))
                         for c in courses if c["core_theory"] is core], label=group)
        for core, group in ((True, "核心理论课"), (False, "其他课程"))]
    instructors = [(i["instructor_id"], i["name"] + (f"（{i['affiliation']}）"
                                                     if i.get("affiliation") else ""))
                   for i in catalogue["instructors"]]
    return el(
        "form", _csrf(csrf),
        el("div",
           _field("课程", el("select", el("option", "请选择课程库中的课程", value=""),
                             *course_options, name="course_id", required=True)),
           _field("日期", el("input", type="date", name="day",
                             value=values.get("day") or first_day, required=True)),
           _field("开始", el("input", type="time", name="starts", value=values.get("starts", ""),
                             required=True)),
           _field("结束", el("input", type="time", name="ends", value=values.get("ends", ""),
                             required=True)),
           _field("地点", _places(catalogue, values.get("place"), "（不指定）")),
           _field("授课人", _select("instructor_id", instructors, values.get("instructor_id"),
                                   "按课程默认")),
           _field("学时", el("input", type="number", name="hours", min=0.5, max=24, step=0.5,
                             value=values.get("hours", ""), placeholder="按课程默认",
                             style="width:7em")),
           class_="fields"),
        el("p", el("button", "添加课次", type="submit")),
        method="post", action=f"/admin/classes/{class_id}/sessions", id="add-session")


def _actions(klass: dict, csrf: str) -> Markup:
    class_id, status = klass["class_id"], klass["status"]
    buttons = []
    if status == "draft":
        buttons.append(el("form", _csrf(csrf), el("button", "发布班次", type="submit"),
                          method="post", action=f"/admin/classes/{class_id}/publish"))
    if status in ("published", "in_progress"):
        # Offered once it can succeed: while a session is open it could only be refused.
        still_open = sum(1 for s in klass["sessions"] if s["status"] == "scheduled")
        buttons.append(
            el("span", f"还有{still_open}个课次未完成，全部完成或取消后方可结业", class_="hint")
            if still_open else
            el("form", _csrf(csrf), el("button", "班次结业", type="submit"), method="post",
               action=f"/admin/classes/{class_id}/complete"))
    if status in CHANGEABLE:
        buttons.append(el("form", _csrf(csrf),
                          el("input", name="reason", placeholder="取消原因", maxlength=500,
                             required=True),
                          el("button", "取消班次", type="submit", class_="plain"),
                          method="post", action=f"/admin/classes/{class_id}/cancel"))
    if not buttons:
        return el("p", f"班次{vocabulary.label(vocabulary.CLASS_STATUSES, status)}，不能再更改。"
                  + (f"取消原因：{klass['cancel_reason']}" if klass.get("cancel_reason") else ""),
                  class_="sub")
    return el("div", *buttons, class_="actions toolbar")


def class_editor(principal, csrf: str, klass: dict, program: dict, organiser: str,
                 catalogue: dict, values: dict, problem: dict | None,
                 notice: str | None, now: str, warnings: list[dict] | None = None) -> Markup:
    """`now`: the services' clock, an ISO instant in Shanghai; `warnings`: a completion's."""
    class_id, status = klass["class_id"], klass["status"]
    sessions = {s["session_id"]: s for s in klass["sessions"]}
    published = status != "draft"
    head = el("tr", *[el("th", h, scope="col") for h in (
        "序号", "课程", "核心理论", "形式", "时间", "学时", "地点", "授课人", "直播", "状态", "")])
    table = el("div", el("table", el("caption", f"课次（{len(klass['sessions'])}）"),
                         el("thead", head),
                         el("tbody", *_session_rows(klass, csrf, catalogue, now) or [
                             el("tr", el("td", "尚未添加课次", colspan=11, class_="empty"))])),
               class_="table-wrap", id="sessions")
    links = [el("a", "报名管理", href=f"/admin/classes/{class_id}/nominations")
             if published else None,
             el("a", "培训情况", href=f"/admin/classes/{class_id}") if published else None,
             el("a", "打印结业证书", href=f"/admin/classes/{class_id}/certificates.pdf")
             if status == "completed" else None]
    facts_form = el(
        "form", _csrf(csrf),
        el("div", *class_fields(values, program["track"], fixed=published), class_="fields"),
        el("p", el("button", "保存班次信息", type="submit", class_="plain")),
        method="post", action=f"/admin/classes/{class_id}/edit", class_="panel") \
        if status in CHANGEABLE else None
    return shell(
        klass["title"],
        el("p", el("a", f"« {klass['year']}年班次列表", href=url("/admin/classes",
                                                            year=klass["year"]))),
        el("h1", klass["title"]),
        el("p", f"{program['name']} · {vocabulary.label(vocabulary.TRACKS, program['track'])} · "
                f"主办单位 {organiser} · "
                f"{vocabulary.label(vocabulary.CLASS_STATUSES, status)}",
           class_="sub"),
        el("div", *[link for link in links if link], class_="toolbar downloads")
        if published else None,
        el("p", notice, class_="notice") if notice else None,
        warnings_box(warnings),
        refusal_box(problem, sessions),
        ratio_line(klass["sessions"]),
        _actions(klass, csrf),
        table,
        el("h2", "添加课次（课程库）") if status in CHANGEABLE else None,
        _add_session(csrf, class_id, catalogue, values, klass["start_date"])
        if status in CHANGEABLE else None,
        el("h2", "班次信息") if facts_form else None,
        facts_form,
        principal=principal, active="classes")


def editor_values(klass: dict) -> dict:
    """The class's fields as its form shows them."""
    audience = klass["audience"]
    described = [vocabulary.label(table, audience.get(key)) for key, table in (
        ("module", vocabulary.MODULES), ("sector", vocabulary.SECTORS),
        ("category", vocabulary.CATEGORIES)) if audience.get(key)]
    return {"title": klass["title"], "delivery": klass["delivery"],
            "start_date": klass["start_date"], "end_date": klass["end_date"],
            "offline_capacity": klass["offline_capacity"],
            "online_open": "true" if klass["online_open"] else "false",
            "review_nominations": klass["review_nominations"],
            "audience_label": "、".join(described), **{k: v for k, v in audience.items() if v}}
