"""The admin pages (DESIGN §4): the year at a glance with charts, class records, the filing inbox
of a superior organisation. Server-rendered HTML under /admin, left out of the OpenAPI document.

Signing in: a person gives their user name and password at /admin/login (users.py: argon2id,
a lock-out after repeated failures); the gateway keeps a server-side session whose random id
goes into an HttpOnly, SameSite=Strict cookie limited to /admin, and ends it on sign-out or when
it expires. Systems send their API token as a Bearer header instead; pasting a token into the
sign-in page is not offered (tokens are for systems). Downloads are served under /admin as
well, so the cookie never has to reach /api/v1. A state-changing form also carries a CSRF
token: an HMAC of the session's id, which only its holder's pages can show. Every form that
changes something is in the audit trail (audit.py). Scope is the API's: a district_admin
sees everything; a committee_admin or org_admin what reporting's `within` limits to its subtree
and the inbox of its own organisation; other roles get 403.
"""

import functools
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import eventlet
from werkzeug.wrappers import Response

from services.contracts.document import Document
from services.contracts.fields import CODE_PATTERN
from services.contracts.vocabulary import ADMIN_ROLES
from services.kit import clock
from services.kit.errors import Forbidden, InvalidInput, NotFound, Unauthorized

from .. import audit, auth, problems, users
from ..http import http
from ..pages import views
from .base import RoutesBase
from .reporting import file_response, inbox_of

COOKIE = "peixun_admin"
COOKIE_PATH = "/admin"
MAX_FORM = 64 * 1024
CLASSES_PER_PAGE = 100
SCHEDULING_PAGE = 200                # scheduling's largest page
SCHEDULING_PAGES = 50                # at most 10,000 classes a year on the list
INBOX_PER_PAGE = 50
# The organisation picker lists a subtree whole up to this size; of a whole district's thousands
# it lists the district and its committees.
PICKER_LIMIT = 500
CODE = re.compile(CODE_PATTERN)
DOWNLOADS = {"annual-summary": ("xlsx", "pdf", "csv", "png", "json"),
             "class-record": ("pdf", "xlsx", "csv", "json"),
             "document": ("pdf", "xlsx", "csv", "json")}
SECURITY_HEADERS = {
    # No script, no frame, no request elsewhere: a page is its own HTML and inline style.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def csrf_token(token: str) -> str:
    """What a page's forms carry: keyed by the session's id, so that only a page served to
    its holder can show it, and every gateway replica computes the same without a secret."""
    return hmac.new(token.encode(), b"peixun admin form", hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Caller:
    principal: auth.Principal
    cookie_token: str | None         # None: a Bearer header, which no other site can forge

    @property
    def within(self) -> str | None:
        return self.principal.within

    @property
    def who(self) -> str:
        return self.principal.who

    @property
    def csrf(self) -> str:
        return csrf_token(self.cookie_token) if self.cookie_token else ""


def html(markup, status: int = 200) -> Response:
    return Response(str(markup), status=status, mimetype="text/html", headers=SECURITY_HEADERS)


def redirect(location: str) -> Response:
    return Response(status=303, headers={"Location": location, **SECURITY_HEADERS})


def posted_from_elsewhere(request) -> bool:
    """A form another site's page sent here (login CSRF: the person would be signed in as the
    other site's account and type their work into it). Browsers name where a request comes
    from in Sec-Fetch-Site, older ones in Origin; scripts send neither and are let through."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    host = request.headers.get("X-Forwarded-Host") or request.host
    return urlsplit(origin).netloc != host


def safe_next(value: str | None) -> str:
    """Where to go after signing in: only a page of this site's /admin."""
    if value and value.startswith("/admin") and not any(c in value for c in "\\\r\n"):
        return value
    return "/admin"


def form(request) -> dict:
    request.max_content_length = MAX_FORM
    return request.form.to_dict()


def year_of(args) -> int:
    """`?year=`, by default this year in Asia/Shanghai (the services' clock)."""
    value = args.get("year") or clock.today().year
    try:
        year = int(value)
    except ValueError:
        raise InvalidInput("year is not a number", errors={"year": ["年度应为数字"]}) from None
    if not 2000 <= year <= 2100:
        raise InvalidInput("year out of range", errors={"year": ["年度应在 2000–2100 之间"]})
    return year


def code_of(args, name: str = "org_code") -> str | None:
    value = (args.get(name) or "").strip()
    if value and not CODE.match(value):
        raise InvalidInput(f"{name} is not an organisation code",
                           errors={name: ["组织编码只含字母、数字和 _ . -"]})
    return value or None


def positive(args, name: str = "page") -> int:
    try:
        value = int(args.get(name) or 1)
    except ValueError:
        value = 0
    if value < 1:
        raise InvalidInput(f"{name} is not a page", errors={name: ["页码应为正整数"]})
    return value


def csv_section(args, fmt: str) -> dict:
    """The one table a CSV download asks for (`section`, a table's own link on the page)."""
    return {"section": args["section"]} if fmt == "csv" and args.get("section") else {}


def chosen(args, allowed, default: str, name: str = "format") -> str:
    value = args.get(name) or default
    if value not in allowed:
        raise InvalidInput(f"unknown {name}", errors={name: [f"可选：{'、'.join(allowed)}"]})
    return value


def confirmed(fields: dict) -> None:
    """确认备案 and 退回 cannot be undone: their form carries a box the reviewer ticks."""
    if fields.get("confirm") != "yes":
        raise InvalidInput("the review was not confirmed",
                           errors={"confirm": ["请勾选确认框后再提交"]}, rule="confirm")


def page(handler):
    """A page's answer whatever happens: not signed in goes to the sign-in page (303); any other
    failure is an HTML page with the status and detail the API's error map gives it."""
    @functools.wraps(handler)
    def answer(self, request, *args, **kwargs):
        try:
            return handler(self, request, *args, **kwargs)
        except Unauthorized:
            path = request.path + (f"?{request.query_string.decode()}"
                                   if request.query_string else "")
            response = redirect(views.url("/admin/login", next=safe_next(path)))
            if COOKIE in request.cookies:   # a token since removed: forget it
                response.delete_cookie(COOKIE, path=COOKIE_PATH)
            return response
        except Exception as exc:  # noqa: BLE001 - every failure is a page, via the one error map
            problem = problems.from_exception(exc)
            body = json.loads(problem.get_data())
            return html(views.error(problem.status_code, body["detail"], body.get("errors"),
                                    body.get("rule")), status=problem.status_code)
    return answer


class PagesRoutes(RoutesBase):
    # The route mixins share one class: these helpers are named page_* so that none of them
    # stands in for another mixin's method of the same name.

    # -- who is asking ------------------------------------------------------------------------

    def page_caller(self, request, roles=ADMIN_ROLES) -> Caller:
        """The signed-in person (session cookie) or system (Bearer header), in one of `roles`
        (the admins, unless a page such as check-in admits more)."""
        header = request.headers.get("Authorization")
        cookie = None if header else request.cookies.get(COOKIE)
        if cookie:
            principal = users.resume(self.db, cookie)
        else:
            principal = auth.authenticate(self.db, header)
        audit.note(request, principal)
        principal.require(*roles)
        return Caller(principal, cookie)

    def page_form(self, request, roles=ADMIN_ROLES) -> tuple[Caller, dict]:
        """A form sent by one of our pages: with the cookie, its CSRF token must match."""
        caller = self.page_caller(request, roles)
        fields = form(request)
        if caller.cookie_token is not None and not hmac.compare_digest(
                fields.get("csrf", ""), caller.csrf):
            raise Forbidden("the form's CSRF token is missing or wrong; reload the page",
                            rule="csrf")
        return caller, fields

    def page_org_choices(self, caller: Caller) -> list[dict]:
        """The organisations of the caller's subtree for a picker (instead of typing codes):
        all of them when they are few, else the district and its committees."""
        query = {"per_page": PICKER_LIMIT, **({"within": caller.within} if caller.within
                                              else {})}
        answer = self.enrollment.list_organisations(query)
        if answer["total"] <= PICKER_LIMIT:
            return answer["items"]
        return [org for kind in ("district", "committee")
                for org in self.enrollment.list_organisations({**query, "kind": kind})["items"]]

    def page_scoped(self, request) -> tuple:
        """(caller, org_code, report params) of a page of a year's report, narrowed to the
        organisation chosen on it."""
        caller = self.page_caller(request)
        org_code = code_of(request.args)
        params = {"year": year_of(request.args), **({"org_code": org_code} if org_code else {})}
        return caller, org_code, params

    def page_report_file(self, request, name: str, formats) -> Response:
        """A year's report as the file the page's download buttons ask for."""
        caller, _, params = self.page_scoped(request)
        fmt = chosen(request.args, formats, "xlsx")
        return file_response(self.reporting.report(
            name, {**params, **csv_section(request.args, fmt)}, fmt, caller.within))

    def page_report(self, name: str, params: dict, within: str | None) -> tuple[dict, Document]:
        """A report's data and its layout, as reporting hands them over for a page."""
        answer = self.reporting.report_page(name, params, within)
        return answer["data"], Document.from_dict(answer["document"])

    def page_organisations(self, codes) -> dict[str, dict | None]:
        """Organisations by code from enrollment (None where it knows none), asked at once."""
        def one(code):
            try:
                return code, self.enrollment.get_organisation(code)
            except NotFound:
                return code, None
        return dict(eventlet.GreenPool(10).imap(one, sorted({c for c in codes if c})))

    def page_reach(self, caller: Caller, organisers) -> tuple[dict[str, bool], dict]:
        """Whose classes the caller may open, and the organisers' records: a district_admin
        anyone's; a subtree admin the classes organised in its subtree, or above it (reporting
        then shows only its own people, as the API's class record does), not a neighbour's."""
        organisers = set(organisers)
        orgs = self.page_organisations(organisers | ({caller.within} if caller.within else set()))
        if caller.within is None:
            return dict.fromkeys(organisers, True), orgs
        above = (orgs.get(caller.within) or {}).get("ancestors", [])
        return {code: orgs.get(code) is not None and (caller.within in orgs[code]["ancestors"]
                                                      or code in above)
                for code in organisers}, orgs

    def page_class_in_reach(self, caller: Caller, class_id: str) -> None:
        if caller.within is None:
            return
        organiser = self.scheduling.organiser_of(class_id=class_id)["organiser_org_code"]
        if not self.page_reach(caller, [organiser])[0][organiser]:
            raise Forbidden(f"class {class_id} is organised outside your organisation's "
                            "subtree", rule="subtree")

    # -- signing in ---------------------------------------------------------------------------

    @http("GET", "/admin/login", document=False)
    @page
    def admin_login_form(self, request):
        return html(views.login(safe_next(request.args.get("next"))))

    @http("POST", "/admin/login", document=False)
    @page
    def admin_login(self, request):
        fields = form(request)
        username, next_path = fields.get("username", ""), safe_next(fields.get("next"))
        # A failed attempt is in the audit trail under the name that was typed.
        audit.note(request, auth.Principal("", username=users.normal_username(username)[:64]))
        if posted_from_elsewhere(request):
            return html(views.login(next_path, views.SIGN_IN_REFUSED["elsewhere"]), status=403)
        try:
            signed = users.sign_in(self.db, username, fields.get("password", ""))
        except users.Locked as locked:
            until = clock.local(datetime.fromisoformat(locked.info["until"]))
            return html(views.login(next_path, views.LOCKED.format(
                minutes=users.LOCK_FOR.seconds // 60, until=f"{until:%H:%M}"), username),
                status=429)
        except Unauthorized as refused:
            message = views.SIGN_IN_REFUSED.get(refused.info.get("rule"),
                                                views.SIGN_IN_REFUSED["credentials"])
            return html(views.login(next_path, message, username), status=401)
        audit.note(request, signed.principal)
        response = redirect(next_path)
        # Secure whenever the browser came over HTTPS, here or at a proxy in front.
        secure = request.is_secure or request.headers.get("X-Forwarded-Proto") == "https"
        response.set_cookie(COOKIE, signed.session_token,
                            max_age=int(users.SESSION_LIMIT.total_seconds()), path=COOKIE_PATH,
                            httponly=True, samesite="Strict", secure=secure)
        return response

    @http("POST", "/admin/logout", document=False)
    @page
    def admin_logout(self, request):
        """Ends the session on the server, not only in this browser."""
        cookie = request.cookies.get(COOKIE)
        if cookie:
            try:
                audit.note(request, users.resume(self.db, cookie))
            except Unauthorized:
                pass     # already ended: nothing to record, the cookie goes all the same
            users.sign_out(self.db, cookie)
        response = redirect("/admin/login")
        response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="Strict")
        return response

    # -- the year at a glance -------------------------------------------------------------------

    @http("GET", "/admin", document=False)
    @page
    def admin_glance(self, request):
        caller, org_code, params = self.page_scoped(request)
        data, document = self.page_report("annual-summary", params, caller.within)
        return html(views.glance(data, document, caller.principal, org_code,
                                 self.page_org_choices(caller)))

    @http("GET", "/admin/annual-summary", document=False)
    @page
    def admin_annual_summary_file(self, request):
        return self.page_report_file(request, "annual-summary", DOWNLOADS["annual-summary"])

    # -- class records ----------------------------------------------------------------------

    @http("GET", "/admin/classes", document=False)
    @page
    def admin_classes(self, request):
        caller = self.page_caller(request)
        query = {"year": year_of(request.args),
                 "track": request.args.get("track") or None,
                 "status": request.args.get("status") or None}
        classes = self.page_year_classes(query)
        reach, orgs = self.page_reach(caller, {c["organiser_org_code"] for c in classes})
        classes = [c for c in classes if reach[c["organiser_org_code"]]]
        names = {code: org["name"] for code, org in orgs.items() if org}
        number = positive(request.args)
        pages = max(1, -(-len(classes) // CLASSES_PER_PAGE))
        shown = classes[(number - 1) * CLASSES_PER_PAGE:number * CLASSES_PER_PAGE]
        return html(views.class_list(shown, names, self.page_programs(query["year"]),
                                     caller.principal, query, number, pages, len(classes)))

    def page_programs(self, year: int) -> dict[str, str]:
        """The year's program names by id: a class list names each class's own program (a
        committee's class is its program's, not the district's)."""
        names = {}
        for number in range(1, SCHEDULING_PAGES + 1):
            answer = self.scheduling.list_programs(year=year, page=number,
                                                   per_page=SCHEDULING_PAGE)
            names.update({p["program_id"]: p.get("name") for p in answer["items"]})
            if len(names) >= answer["total"] or not answer["items"]:
                break
        return names

    def page_year_classes(self, query: dict) -> list[dict]:
        """Every published class of the year (drafts have no record yet), page by page."""
        filters = {k: v for k, v in query.items() if v is not None}
        classes = []
        for number in range(1, SCHEDULING_PAGES + 1):
            answer = self.scheduling.list_classes(**filters, page=number,
                                                  per_page=SCHEDULING_PAGE,
                                                  include_drafts=False)
            classes += answer["items"]
            if len(classes) >= answer["total"] or not answer["items"]:
                break
        return classes

    @http("GET", "/admin/classes/<string:class_id>", document=False)
    @page
    def admin_class_record(self, request, class_id):
        caller = self.page_caller(request)
        self.page_class_in_reach(caller, class_id)
        data, document = self.page_report("class-record", {"class_id": class_id},
                                          caller.within)
        return html(views.class_record_page(data, document, caller.principal))

    @http("GET", "/admin/classes/<string:class_id>/class-record", document=False)
    @page
    def admin_class_record_file(self, request, class_id):
        caller = self.page_caller(request)
        fmt = chosen(request.args, DOWNLOADS["class-record"], "pdf")
        self.page_class_in_reach(caller, class_id)
        _, title = self.page_class_title(class_id)
        section = csv_section(request.args, fmt)
        return file_response(self.reporting.report("class-record",
                                                   {"class_id": class_id, **section},
                                                   fmt, caller.within),
                             name=f"{title}-培训情况.{fmt}" if title and not section else None)

    # -- the filing inbox ---------------------------------------------------------------------

    @http("GET", "/admin/filings", document=False)
    @page
    def admin_filings(self, request):
        caller = self.page_caller(request)
        status = chosen(request.args, tuple(views.INBOX_TABS), "filed", name="status")
        org_code = inbox_of(caller.principal, code_of(request.args))
        answer = self.reporting.filing_inbox(org_code, status, positive(request.args),
                                             INBOX_PER_PAGE)
        items = answer["items"]
        pool = eventlet.GreenPool(10)
        titles = dict(pool.imap(self.page_class_title, sorted({f["class_id"] for f in items})))
        orgs = self.page_organisations({f["org_code"] for f in items} | {org_code})
        names = {code: org["name"] for code, org in orgs.items() if org}
        notice = views.DONE.get(request.args.get("done", ""))
        choices = self.page_org_choices(caller) if caller.within is None else []
        return html(views.inbox(answer, caller.principal, status, org_code, titles, names,
                                caller.csrf, notice, choices))

    def page_class_title(self, class_id: str) -> tuple[str, str | None]:
        try:
            return class_id, self.scheduling.get_class(class_id, include_drafts=False)["title"]
        except NotFound:
            return class_id, None

    @http("GET", "/admin/filings/<string:filing_id>/document", document=False)
    @page
    def admin_filing_document(self, request, filing_id):
        caller = self.page_caller(request)
        fmt = chosen(request.args, DOWNLOADS["document"], "pdf")
        answer = self.reporting.filing_document(filing_id, fmt, caller.within)
        filed = self.reporting.get_filing(filing_id, caller.within)
        _, title = self.page_class_title(filed["class_id"])
        name = f"{title}-{filed['kind_label']}-第{filed['version']}版.{fmt}" if title else None
        return file_response(answer, name=name)

    @http("POST", "/admin/filings/<string:filing_id>/acknowledge", document=False)
    @page
    def admin_acknowledge_filing(self, request, filing_id):
        caller, fields = self.page_form(request)
        confirmed(fields)
        self.reporting.acknowledge_filing(filing_id, caller.within, caller.who)
        return redirect(self.page_back_to_inbox(fields, "acknowledged"))

    @http("POST", "/admin/filings/<string:filing_id>/return", document=False)
    @page
    def admin_return_filing(self, request, filing_id):
        caller, fields = self.page_form(request)
        confirmed(fields)
        self.reporting.return_filing(filing_id, fields.get("reason", ""), caller.within,
                                     caller.who)
        return redirect(self.page_back_to_inbox(fields, "returned"))

    @staticmethod
    def page_back_to_inbox(fields: dict, done: str) -> str:
        status = fields.get("status") if fields.get("status") in views.INBOX_TABS else "filed"
        org_code = fields.get("org_code") if CODE.match(fields.get("org_code") or "") else None
        return views.url("/admin/filings", status=status, org_code=org_code, done=done)
