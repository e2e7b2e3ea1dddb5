"""Check-in and certificates (DESIGN §4): the 签到表 to print, the check-in page a scanner types
into, the 结业证书 of a class in bulk, and the public page that says whether a certificate's
verification code is genuine.

Who: a checkin token (or user) for the classes named on it, every person of the class; an admin
for a class organised in its subtree or above it (then only its own people, as the API's
attendance is limited), a district_admin everywhere. Each check-in is the API's own RPC and
rule, so a person outside the caller's subtree is refused as the API refuses them (403), and a
checkin token records check-ins and leave but no corrections (admins only). /verify/{code}
needs no sign-in and shows only what the code vouches for, the name masked."""

import re

from werkzeug.wrappers import Response

from services.contracts.vocabulary import ADMIN_ROLES, RULES
from services.kit import config
from services.kit.errors import DomainError, Forbidden, InvalidInput

from ..documents.certificate import certificates_pdf
from ..documents.sign_in_sheet import SheetFacts, sign_in_sheet
from ..http import http, json_response
from ..pages import checkin as views
from .pages import Caller, PagesRoutes, html, page
from .reporting import disposition

CHECKERS = (*ADMIN_ROLES, "checkin")
CODE_TEXT = re.compile(r"^[A-Za-z0-9 -]{1,40}$")
ACTIONS = ("present", "leave", "correct")
PAGE_DEVICE = "checkin-page"   # where an attendance entry came from, kept on it (the log's chain)




def verify_url(code: str) -> str:
    return f"{config.public_url()}/verify/{code}"


def pdf_response(content: bytes, name: str, fallback: str) -> Response:
    return Response(content, status=200, content_type="application/pdf",
                    headers={"Content-Disposition": disposition(name, fallback),
                             "Cache-Control": "no-store"})


def certificate_response(made: list[dict], name: str) -> Response:
    return pdf_response(certificates_pdf(made, verify_url), name, "certificates.pdf")


class CheckinPagesRoutes(PagesRoutes):
    # Named checkin_* so that no other mixin's method of the same name stands in for these.

    def checkin_class_in_reach(self, caller: Caller, class_id: str) -> None:
        """A checkin role's own classes; an admin's classes organised in its subtree or above
        it; a district_admin's every class."""
        principal = caller.principal
        if principal.role == "checkin":
            if class_id not in principal.class_ids:
                raise Forbidden("this token may not record attendance for this class",
                                rule="class")
            return
        if caller.within is None:
            return
        organiser = self.enrollment.get_class(class_id)["organiser_org_code"]
        if caller.within in self.enrollment.org_ancestors(organiser) or \
                organiser in self.enrollment.org_ancestors(caller.within):
            return
        raise Forbidden(f"class {class_id} is organised outside your organisation's subtree",
                        rule="subtree")

    def checkin_session(self, caller: Caller, session_id: str) -> dict:
        """The session as the sheet and the page describe it, once the caller may reach it."""
        session = self.scheduling.get_session(session_id)
        self.checkin_class_in_reach(caller, session["class_id"])
        klass = self.scheduling.get_class(session["class_id"])
        return {**session, "class_title": klass["title"]}

    @staticmethod
    def checkin_within(caller: Caller) -> str | None:
        """Whose people the caller sees: a checkin role the whole class; an admin its subtree."""
        return None if caller.principal.role == "checkin" else caller.within

    # -- the sign-in sheet ------------------------------------------------------------------------

    @http("GET", "/admin/sessions/<string:session_id>/sign-in-sheet.pdf", document=False)
    @page
    def admin_sign_in_sheet(self, request, session_id):
        caller = self.page_caller(request, CHECKERS)
        session = self.checkin_session(caller, session_id)
        roster = self.enrollment.session_roster(session_id, self.checkin_within(caller))
        people = [p for p in roster["people"] if p["mode"] == "offline"]
        facts = SheetFacts(class_title=session["class_title"],
                           course_title=session["course_title"],
                           time=views.session_time(session), place=session["venue_name"] or "—",
                           expected=len(people))
        day = session["starts_at"][:10]
        return pdf_response(sign_in_sheet(facts, people),
                            f"签到表-{session['class_title']}-{day}.pdf",
                            f"sign-in-sheet-{day}.pdf")

    # -- the check-in page ------------------------------------------------------------------------

    @http("GET", "/admin/sessions/<string:session_id>/check-in", document=False)
    @page
    def admin_check_in_page(self, request, session_id):
        caller = self.page_caller(request, CHECKERS)
        return self.checkin_page(caller, self.checkin_session(caller, session_id))

    @http("POST", "/admin/sessions/<string:session_id>/check-in", document=False)
    @page
    def admin_check_in(self, request, session_id):
        """One scan (or typed number): `member_no`, `action` present (the default: a scanner's
        Enter), leave, or correct (admins: with `status` and `reason`). The page comes back
        with the answer at its top and the field empty, focused for the next scan."""
        caller, fields = self.page_form(request, CHECKERS)
        session = self.checkin_session(caller, session_id)
        member_no = (fields.get("member_no") or "").strip()
        action = fields.get("action") or "present"
        try:
            result = self.checkin_one(caller, session_id, member_no, action, fields)
        except DomainError as refused:
            result = self.checkin_refusal(refused, session_id, member_no, caller)
        return self.checkin_page(caller, session, result)

    def checkin_one(self, caller: Caller, session_id: str, member_no: str, action: str,
                    fields: dict) -> dict:
        if not member_no:
            raise InvalidInput("member_no is empty", errors={"member_no": ["请扫描或输入党员编号"]})
        if action not in ACTIONS:
            raise InvalidInput("unknown action", errors={"action": ["未知的操作"]})
        if action == "correct":
            caller.principal.require(*ADMIN_ROLES)
            if not (fields.get("reason") or "").strip():
                raise InvalidInput("a correction needs a reason",
                                   errors={"reason": ["请填写更正原因"]})
        standing = self.enrollment.checkin_standing(session_id, member_no,
                                                    self.checkin_within(caller))
        if standing["known"] and not standing["within"]:
            raise Forbidden(f"{member_no} is outside your organisation's subtree",
                            rule="subtree")
        if action == "correct":
            answer = self.enrollment.correct_attendance(session_id, {
                "member_no": member_no, "status": fields.get("status") or "",
                "reason": fields.get("reason") or ""}, caller.principal.actor, PAGE_DEVICE)
        else:
            answer = self.enrollment.check_in(session_id, {"member_no": member_no,
                                                           "status": action, "at": None},
                                              caller.principal.actor, PAGE_DEVICE)
        return views.outcome(standing, action, answer, fields.get("status"))

    def checkin_refusal(self, refused: DomainError, session_id: str, member_no: str,
                        caller: Caller) -> dict:
        """A refusal in the words a clerk at the door reads: who (when they are the caller's
        to see) and why this person may not."""
        rule = refused.info.get("rule")
        if rule == "enrolled":
            standing = self.enrollment.checkin_standing(session_id, member_no,
                                                        self.checkin_within(caller))
            return views.refusal(member_no, standing["name"], refused.status,
                                 views.stranger(standing))
        reason = RULES.get(rule) or views.field_reasons(refused.errors) or views.NOT_DONE
        return views.refusal(member_no, None, refused.status, reason)

    def checkin_page(self, caller: Caller, session: dict, result: dict | None = None):
        roster = self.enrollment.session_roster(session["session_id"],
                                                self.checkin_within(caller))
        markup = views.check_in_page(session, roster["people"], caller.principal,
                                     caller.csrf, result)
        return html(markup, status=result["status"] if result else 200)

    # -- certificates -----------------------------------------------------------------------------

    @http("GET", "/admin/classes/<string:class_id>/certificates.pdf", document=False)
    @page
    def admin_class_certificates(self, request, class_id):
        """Every completed person's 结业证书 in the class (within the caller's subtree), one
        page each, to print at once."""
        caller = self.page_caller(request)
        self.checkin_class_in_reach(caller, class_id)
        made = self.enrollment.class_certificates(class_id, caller.within)
        if not made:
            raise DomainError("no one in this class has completed it", rule="no_completions")
        title = self.scheduling.get_class(class_id)["title"]
        return certificate_response(made, f"结业证书-{title}.pdf")

    @http("GET", "/verify/<string:code>", public=True, document=False)
    @page
    def verify_certificate(self, request, code):
        """Whether a certificate's code is genuine; no sign-in. HTML, or JSON when asked for
        (Accept: application/json). 200 genuine, 404 not."""
        answer = self.enrollment.verify_certificate(code) if CODE_TEXT.match(code) else \
            {"genuine": False, "reason": "unknown"}
        status = 200 if answer["genuine"] else 404
        best = request.accept_mimetypes.best_match(["text/html", "application/json"])
        if best == "application/json":
            return json_response(answer, status=status)
        return html(views.verify_page(answer), status=status)
