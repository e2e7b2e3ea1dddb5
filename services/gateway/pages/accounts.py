"""The district admin's pages for accounts: people's user names with their roles and
organisations (open, disable, re-enable, reset a password), and the audit trail of every write.
No RPC here."""

from services.contracts import vocabulary
from services.kit.clock import local

from ..users import MIN_PASSWORD, USER_ROLES
from .markup import Markup, el
from .views import _pager, shell, url

USERS_DONE = {"created": "账号已开设。", "disabled": "账号已停用，其登录已全部失效。",
              "enabled": "账号已重新启用。", "password": "密码已重置，其原有登录已全部失效。"}
AUDIT_HEAD = ("时间", "操作人", "角色", "组织", "操作", "路径", "结果")


def moment(value) -> str:
    return "—" if value is None else f"{local(value):%Y-%m-%d %H:%M:%S}"


def user_list(rows: list, orgs: dict, principal, csrf: str, notice: str | None) -> Markup:
    hidden = el("input", type="hidden", name="csrf", value=csrf)

    def actions(user) -> Markup:
        base = f"/admin/users/{user.username}"
        toggle = el("form", hidden,
                    el("button", "启用" if user.disabled else "停用", type="submit",
                       class_="plain"),
                    method="post", action=f"{base}/{'enable' if user.disabled else 'disable'}")
        reset = el("form", hidden,
                   el("input", type="password", name="password", required=True,
                      minlength=MIN_PASSWORD, placeholder="新密码", autocomplete="new-password",
                      aria_label=f"{user.username} 的新密码"),
                   el("button", "重置密码", type="submit", class_="plain"),
                   method="post", action=f"{base}/password")
        return el("td", toggle, reset, class_="actions")

    body = [el("tr",
               el("td", el("a", user.username, href=url("/admin/audit", actor=user.username),
                           title="查看此人的操作记录")),
               el("td", vocabulary.ACCESS_ROLES.get(user.role, user.role)),
               el("td", f"{orgs.get(user.org_code) or ''}（{user.org_code}）"
                  if user.org_code else "全区"),
               el("td", "已停用" if user.disabled else "正常",
                  class_="late" if user.disabled else None),
               el("td", moment(user.created_at)),
               el("td", moment(user.updated_at)),
               actions(user))
            for user in rows] or [el("tr", el("td", "还没有开设账号", colspan=7,
                                              class_="empty"))]
    head = el("tr", *[el("th", h, scope="col") for h in (
        "用户名", "角色", "组织", "状态", "开设时间", "最近修改", "操作")])
    roles = el("select", *[el("option", f"{vocabulary.ACCESS_ROLES[r]}", value=r)
                           for r in USER_ROLES], name="role", id="role")
    create = el(
        "form", hidden,
        el("label", "用户名 ", el("input", name="username", required=True, maxlength=64,
                                  autocomplete="off", style="width:9em")),
        el("label", "角色 ", roles),
        el("label", "组织编码 ", el("input", name="org_code", maxlength=64,
                                    placeholder="区级管理员留空", style="width:9em")),
        el("label", "初始密码 ", el("input", type="password", name="password", required=True,
                                    minlength=MIN_PASSWORD, autocomplete="new-password",
                                    style="width:10em")),
        el("button", "开设账号", type="submit"),
        method="post", action="/admin/users", class_="toolbar")
    return shell(
        "用户管理",
        el("h1", "用户管理"),
        el("p", "为各级管理员开设账号：区级管理员管理全区；党(工)委管理员、基层党组织管理员只能"
                "查看和办理本组织及下级组织的事项。系统对接请用运维人员生成的 API 令牌。",
           class_="sub"),
        el("p", notice, class_="notice") if notice else None,
        el("h2", "开设账号"),
        el("p", f"密码至少 {MIN_PASSWORD} 个字符；请把初始密码当面或电话告知本人。",
           class_="sub"),
        create,
        el("h2", "全部账号"),
        el("div", el("table", el("caption", f"共 {len(rows)} 个账号"), el("thead", head),
                     el("tbody", *body)), class_="table-wrap"),
        principal=principal, active="users")


def audit_trail(answer: dict, principal, filters: dict) -> Markup:
    rows = [el("tr",
               el("td", moment(e.at)),
               el("td", e.actor),
               el("td", vocabulary.ACCESS_ROLES.get(e.role, e.role or "—")),
               el("td", e.org_code or "—"),
               el("td", el("code", f"{e.method} {e.route}")),
               el("td", e.path),
               el("td", f"{e.status} {'成功' if e.status < 400 else '未成功'}",
                  class_=None if e.status < 400 else "late"))
            for e in answer["items"]]
    body = rows or [el("tr", el("td", "没有符合条件的记录", colspan=len(AUDIT_HEAD),
                                class_="empty"))]
    pages = max(1, -(-answer["total"] // answer["per_page"]))
    return shell(
        "操作记录",
        el("h1", "操作记录"),
        el("p", "通过接口和管理页面所做的每一次修改（含被拒绝的）：谁、何时、做了什么、结果如何。"
                "记录只增不改。", class_="sub"),
        el("form",
           el("label", "操作人 ", el("input", name="actor", value=filters["actor"] or "",
                                     placeholder="用户名或 token:编号", style="width:12em")),
           el("label", "从 ", el("input", type="date", name="since",
                                 value=filters["since"] or "")),
           el("label", "到 ", el("input", type="date", name="until",
                                 value=filters["until"] or "")),
           el("button", "筛选", type="submit", class_="plain"),
           method="get", action="/admin/audit", class_="toolbar"),
        el("div", el("table", el("caption", f"共 {answer['total']} 条"),
                     el("thead", el("tr", *[el("th", h, scope="col") for h in AUDIT_HEAD])),
                     el("tbody", *body)), class_="table-wrap"),
        _pager("/admin/audit", answer["page"], pages,
               **{k: v for k, v in filters.items() if v}),
        principal=principal, active="audit")

