"""The district admin's account pages: people's accounts (/admin/users: open one, disable or
re-enable it, reset its password) and the audit trail (/admin/audit, filtered by person and by
day, newest first). A district_admin's only; every form carries the CSRF token, and is itself
in the audit trail."""

from datetime import date

from services.kit.errors import InvalidInput, NotFound

from .. import audit, users
from ..http import http
from ..pages import accounts as account_views
from .pages import CODE, PagesRoutes, html, page, positive, redirect

AUDIT_PER_PAGE = 50


def day_of(args, name: str) -> date | None:
    value = (args.get(name) or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name} is not a date",
                           errors={name: ["日期格式应为 年-月-日，如 2026-03-01"]}) from None


class AccountsRoutes(PagesRoutes):
    def accounts_caller(self, request):
        caller = self.page_caller(request)
        caller.principal.require("district_admin")
        return caller

    def accounts_form(self, request):
        caller, fields = self.page_form(request)
        caller.principal.require("district_admin")
        return caller, fields

    # -- people's accounts ------------------------------------------------------------------

    @http("GET", "/admin/users", document=False)
    @page
    def admin_users(self, request):
        caller = self.accounts_caller(request)
        rows = users.list_users(self.db)
        orgs = self.page_organisations({u.org_code for u in rows})
        names = {code: org["name"] for code, org in orgs.items() if org}
        notice = account_views.USERS_DONE.get(request.args.get("done", ""))
        return html(account_views.user_list(rows, names, caller.principal, caller.csrf,
                                            notice))

    @http("POST", "/admin/users", document=False)
    @page
    def admin_create_user(self, request):
        _, fields = self.accounts_form(request)
        org_code = (fields.get("org_code") or "").strip() or None
        if org_code:
            self.accounts_known_org(org_code)
        users.create_user(self.db, fields.get("username", ""), fields.get("role", ""),
                          org_code, fields.get("password", ""))
        return redirect("/admin/users?done=created")

    def accounts_known_org(self, org_code: str) -> None:
        """The organisation exists in enrollment's tree (a typo would lock its admin out)."""
        if not CODE.match(org_code):
            raise InvalidInput("org_code is not an organisation code",
                               errors={"org": ["组织编码只含字母、数字和 _ . -"]})
        try:
            self.enrollment.get_organisation(org_code)
        except NotFound:
            raise InvalidInput(f"no organisation {org_code}",
                               errors={"org": [f"没有编码为 {org_code} 的党组织"]}) from None

    @http("POST", "/admin/users/<string:username>/disable", document=False)
    @page
    def admin_disable_user(self, request, username):
        self.accounts_form(request)
        users.set_disabled(self.db, username, True)
        return redirect("/admin/users?done=disabled")

    @http("POST", "/admin/users/<string:username>/enable", document=False)
    @page
    def admin_enable_user(self, request, username):
        self.accounts_form(request)
        users.set_disabled(self.db, username, False)
        return redirect("/admin/users?done=enabled")

    @http("POST", "/admin/users/<string:username>/password", document=False)
    @page
    def admin_reset_password(self, request, username):
        _, fields = self.accounts_form(request)
        users.reset_password(self.db, username, fields.get("password", ""))
        return redirect("/admin/users?done=password")

    # -- the audit trail --------------------------------------------------------------------

    @http("GET", "/admin/audit", document=False)
    @page
    def admin_audit(self, request):
        caller = self.accounts_caller(request)
        since, until = day_of(request.args, "since"), day_of(request.args, "until")
        actor = (request.args.get("actor") or "").strip() or None
        answer = audit.page_of(self.db, actor, since and audit.day_start(since),
                               until and audit.day_after(until), positive(request.args),
                               AUDIT_PER_PAGE)
        filters = {"actor": actor, "since": since and since.isoformat(),
                   "until": until and until.isoformat()}
        return html(account_views.audit_trail(answer, caller.principal, filters))
