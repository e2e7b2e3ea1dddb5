"""Organisations, members, nominations and enrolments, attendance (check-in included),
anomaly flags and study hours over HTTP.

Access: a district_admin reaches everything; a committee_admin or org_admin only people,
enrolments and attendance within their organisation's subtree (the target organisation's
ancestors, from enrollment and cached briefly, include theirs); a checkin token records and
reads attendance for the classes named on it. Organisations and class places are open to every
role. A request outside its reach answers 403 and changes nothing.
"""

import time

from nameko.exceptions import UnknownService

from services.contracts.commands import enrollment as E
from services.contracts.vocabulary import ADMIN_ROLES, ROLES_WITH_ORG
from services.kit.errors import DomainError, Forbidden, NotFound
from services.kit.rpc import RpcTimeout
from services.kit.validation import load

from ..http import http, json_body, json_response, optional_json_body
from ..problems import problem
from ..schemas import YearQuery
from .base import RoutesBase
from .checkin_pages import certificate_response

ITEMS = {"type": "object", "required": ["items"],
         "properties": {"items": {"type": "array", "items": {"type": "object"}}}}
ANCESTORS_TTL = 30.0   # seconds an organisation's ancestors are cached (the tree rarely moves)
RETRY_AFTER = 2        # seconds: a class's publication reaches enrollment well within that
API_DEVICE = "api"     # where an attendance entry came from, kept on it (the log's chain)

_ancestors_cache: dict[str, tuple[float, list[str]]] = {}


class EnrollmentRoutes(RoutesBase):
    # -- access ----------------------------------------------------------------------------------

    def org_ancestors(self, org_code: str) -> list[str]:
        cached = _ancestors_cache.get(org_code)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        ancestors = self.enrollment.org_ancestors(org_code)
        _ancestors_cache[org_code] = (time.monotonic() + ANCESTORS_TTL, ancestors)
        return ancestors

    def require_within(self, principal, org_code: str | None) -> None:
        """The organisation lies in the principal's subtree (a district_admin's is everything)."""
        if principal.role == "district_admin":
            return
        if principal.role in ROLES_WITH_ORG and org_code and principal.org_code and \
                principal.org_code in self.org_ancestors(org_code):
            return
        raise Forbidden(f"{org_code or 'this'} is outside what the {principal.role} role may "
                        "reach", rule="subtree")

    def scoped(self, principal, args) -> dict:
        """List filters, limited to the principal's subtree when it has one."""
        query = args.to_dict()
        if principal.role in ROLES_WITH_ORG:
            within = query.get("within")
            if within:
                self.require_within(principal, within)
            else:
                query["within"] = principal.org_code
        return query

    def require_class(self, principal, class_id: str) -> None:
        if principal.role == "checkin" and class_id in principal.class_ids:
            return
        raise Forbidden("this token may not record attendance for this class", rule="class")

    def attendance_writer(self, request, session_id: str, member_no: str, checkin: bool):
        principal = self.principal(request)
        if principal.role == "checkin" and checkin:
            self.require_class(principal, self.enrollment.get_session(session_id)["class_id"])
            return principal
        principal.require(*ADMIN_ROLES)
        if principal.role in ROLES_WITH_ORG:
            self.require_within(principal, self.enrollment.get_member(member_no)["org_code"])
        return principal

    def attendance_reader(self, request, session_id: str):
        principal = self.principal(request)
        if principal.role == "checkin":
            self.require_class(principal, self.enrollment.get_session(session_id)["class_id"])
            return principal
        principal.require(*ADMIN_ROLES)
        return principal

    def about_class(self, class_id: str, call):
        """`call()`: enrollment's answer about the class. A class scheduling has published
        whose event enrollment has not had yet (a client that creates a class and nominates at
        once) answers 409 with Retry-After, not 404: the client retries in a moment."""
        try:
            return call()
        except NotFound as exc:
            if exc.info.get("entity") != "class" or not self.scheduled(class_id):
                raise
            raise DomainError("class not yet known to enrollment, retry", rule="not_yet_known",
                              retry_after=RETRY_AFTER) from None

    def scheduled(self, class_id: str) -> bool:
        """Scheduling has the class, published (a draft never reaches enrollment). When
        scheduling cannot say, enrollment's 404 stands."""
        try:
            return self.scheduling.get_class(class_id)["status"] != "draft"
        except (NotFound, UnknownService, RpcTimeout):
            return False

    # -- organisations and members ---------------------------------------------------------------

    @http("GET", "/api/v1/organisations", query=E.OrgListIn, page=True, tag="organisations")
    def list_organisations(self, request):
        """Filters: parent_code, within (a subtree), kind; page, per_page."""
        self.principal(request)
        return self.enrollment.list_organisations(request.args.to_dict())

    @http("GET", "/api/v1/organisations/<string:org_code>", tag="organisations")
    def get_organisation(self, request, org_code):
        """An organisation."""
        self.principal(request)
        return self.enrollment.get_organisation(org_code)

    @http("GET", "/api/v1/organisations/<string:org_code>/members", query=E.MemberListIn,
          page=True, tag="organisations")
    def list_members(self, request, org_code):
        """An organisation's members (subtree=true: and everyone below it)."""
        principal = self.principal(request)
        principal.require(*ADMIN_ROLES)
        self.require_within(principal, org_code)
        return self.enrollment.list_members(org_code, request.args.to_dict())

    @http("GET", "/api/v1/members/<string:member_no>", tag="members")
    def get_member(self, request, member_no):
        """A member."""
        principal = self.principal(request)
        principal.require(*ADMIN_ROLES)
        member = self.enrollment.get_member(member_no)
        self.require_within(principal, member["org_code"])
        return member

    @http("GET", "/api/v1/members/<string:member_no>/study-hours", query=YearQuery,
          tag="members")
    def study_hours(self, request, member_no):
        """A person's study hours by year.

        The person's study hours by year (`year` to pick one): 集中培训学时 (`class_hours`,
        from the classes completed here), 其他学时 (`other_hours`, the entries from elsewhere)
        and 合计 (`total_hours`) against their role's quota, with the lines and entries."""
        self.admin_over(request, member_no)
        year = load(YearQuery(), request.args.to_dict()).get("year")
        return self.enrollment.study_hours(member_no, year)

    @http("POST", "/api/v1/members/<string:member_no>/study-hours", body=E.StudyHoursIn,
          created=(200, 201), tag="members")
    def record_study_hours(self, request, member_no):
        """Record study hours earned elsewhere (其他学时).

        Study hours earned elsewhere (其他学时): `{"year", "hours", "source", "title",
        "on"}`, `source` one of unit, online, party_school, other. Answers the entry (201), or
        the very same entry already recorded (200)."""
        principal = self.admin_over(request, member_no)
        entry = self.enrollment.record_study_hours(member_no, json_body(request),
                                                   principal.who)
        return json_response(entry, status=201 if entry.pop("created") else 200)

    @http("POST", "/api/v1/members/<string:member_no>/study-hours/<string:entry_id>/withdraw",
          tag="members")
    def withdraw_study_hours(self, request, member_no, entry_id):
        """An entry of study hours from elsewhere counts no more (kept, marked withdrawn)."""
        principal = self.admin_over(request, member_no)
        return self.enrollment.withdraw_study_hours(member_no, entry_id, principal.who)

    def admin_over(self, request, member_no: str):
        """The caller, an admin whose subtree holds the person."""
        principal = self.principal(request)
        principal.require(*ADMIN_ROLES)
        self.require_within(principal, self.enrollment.get_member(member_no)["org_code"])
        return principal

    # -- classes: places, quotas, enrolments ----------------------------------------------------

    @http("GET", "/api/v1/classes/<string:class_id>/places", tag="enrolments")
    def class_places(self, request, class_id):
        """Seats taken and free, online places, the waitlist: counts only."""
        self.principal(request)
        return self.about_class(class_id, lambda: self.enrollment.get_class(class_id))

    @http("GET", "/api/v1/classes/<string:class_id>/quotas", tag="enrolments",
          produces={"application/json": ITEMS})
    def list_quotas(self, request, class_id):
        """The party committees' quotas of the class's seats."""
        self.principal(request).require(*ADMIN_ROLES)
        return {"items": self.about_class(class_id,
                                          lambda: self.enrollment.list_quotas(class_id))}

    @http("PUT", "/api/v1/classes/<string:class_id>/quotas/<string:committee_code>",
          body=E.QuotaIn, tag="enrolments")
    def set_quota(self, request, class_id, committee_code):
        """Set a party committee's quota of the class's seats.

        `{"seats": n}` (null removes the quota)."""
        self.principal(request).require("district_admin")
        payload = json_body(request)
        return self.about_class(class_id, lambda: self.enrollment.set_quota(
            class_id, committee_code, payload))

    @http("POST", "/api/v1/classes/<string:class_id>/enrolments", body=E.NominationIn,
          created=True, tag="enrolments")
    def nominate(self, request, class_id):
        """Enrol people in a class (a nomination).

        `{"member_nos": [...], "mode": "offline"|"online"}`: each person enrolled
        (confirmed or waitlisted; `nominated`, waiting for the organiser's review, in a class
        with `review_nominations`) or refused with a reason (201); 409 when no one could be,
        with each reason. A committee nominates its own people. A class just published that
        enrollment has not heard of yet answers 409 with `Retry-After`."""
        principal = self.principal(request)
        principal.require(*ADMIN_ROLES)
        payload = json_body(request)
        if principal.role in ROLES_WITH_ORG:
            payload["by_org_code"] = principal.org_code
        result = self.about_class(class_id, lambda: self.enrollment.nominate(class_id, payload))
        if not result["enrolled"] and result["refused"] and \
                all(r["rule"] == "scope" for r in result["refused"]):
            # Everyone named is outside the caller's subtree: a refusal of access, not a rule.
            raise Forbidden("everyone named is outside what the "
                            f"{principal.role} role may reach", rule="subtree", errors={
                                r["member_no"]: [r["reason"]] for r in result["refused"]})
        if not result["enrolled"]:
            return problem(409, "no one could be enrolled", errors={
                r["member_no"]: [r["reason"]] for r in result["refused"]},
                refused=result["refused"])
        return json_response(result, status=201)

    @http("GET", "/api/v1/classes/<string:class_id>/enrolments", query=E.EnrolmentListIn,
          page=True, tag="enrolments")
    def list_enrolments(self, request, class_id):
        """Filters: status, within; page, per_page."""
        principal = self.principal(request)
        if principal.role == "checkin":
            self.require_class(principal, class_id)
            return self.enrollment.list_enrolments(class_id, request.args.to_dict())
        principal.require(*ADMIN_ROLES)
        query = self.scoped(principal, request.args)
        return self.about_class(class_id,
                                lambda: self.enrollment.list_enrolments(class_id, query))

    @http("GET", "/api/v1/enrolments/<string:enrollment_id>", tag="enrolments")
    def get_enrolment(self, request, enrollment_id):
        """An enrolment."""
        principal = self.principal(request)
        principal.require(*ADMIN_ROLES)
        enrolment = self.enrollment.get_enrolment(enrollment_id)
        self.require_within(principal, enrolment["org_code"])
        return enrolment

    @http("GET", "/api/v1/enrolments/<string:enrollment_id>/certificate.pdf", tag="enrolments",
          produces={"application/pdf": {"type": "string", "format": "binary"}})
    def enrolment_certificate(self, request, enrollment_id):
        """The 结业证书 (certificate) of a completed enrolment, as a PDF.

        结业证书 of a completed enrolment (409, rule `not_completed`, otherwise): name, class,
        dates, hours credited, organiser, and a verification code with its QR code leading to
        `/verify/{code}`, which needs no sign-in. The code is issued once and stays the same.
        Access as for the enrolment."""
        principal = self.principal(request)
        principal.require(*ADMIN_ROLES)
        self.require_within(principal,
                            self.enrollment.get_enrolment(enrollment_id)["org_code"])
        made = self.enrollment.certificate(enrollment_id)
        return certificate_response([made], f"结业证书-{made['name']}-{made['class_title']}.pdf")

    @http("POST", "/api/v1/enrolments/<string:enrollment_id>/withdraw", body=E.WithdrawalIn,
          body_required=False, tag="enrolments")
    def withdraw(self, request, enrollment_id):
        """Withdraw an enrolment.

        `{"reason": …}` (optional). A seat given up goes to the first on the waitlist."""
        principal = self.principal(request)
        principal.require(*ADMIN_ROLES)
        self.require_within(principal,
                            self.enrollment.get_enrolment(enrollment_id)["org_code"])
        return self.enrollment.withdraw(enrollment_id, optional_json_body(request))

    @http("POST", "/api/v1/enrolments/<string:enrollment_id>/accept", tag="enrolments")
    def accept_nomination(self, request, enrollment_id):
        """Accept a nomination waiting for review.

        A nomination waiting for review (a class with `review_nominations`) takes a seat,
        the end of the waitlist (first accepted, first promoted) or an online place. For a
        district_admin, or an admin whose subtree holds the class's organiser."""
        principal = self.organiser_over(request, enrollment_id)
        return self.enrollment.accept_nomination(enrollment_id, principal.who)

    @http("POST", "/api/v1/enrolments/<string:enrollment_id>/reject", body=E.RejectionIn,
          tag="enrolments")
    def reject_nomination(self, request, enrollment_id):
        """Turn down a nomination waiting for review.

        `{"reason": …}` (required): a nomination waiting for review is turned down. Access
        as for accepting it."""
        principal = self.organiser_over(request, enrollment_id)
        return self.enrollment.reject_nomination(enrollment_id, json_body(request),
                                                 principal.who)

    def organiser_over(self, request, enrollment_id: str):
        """The caller, an admin whose subtree holds the organiser of the enrolment's class."""
        principal = self.principal(request)
        principal.require(*ADMIN_ROLES)
        class_id = self.enrollment.get_enrolment(enrollment_id)["class_id"]
        self.require_within(principal, self.enrollment.get_class(class_id)["organiser_org_code"])
        return principal

    # -- attendance ------------------------------------------------------------------------------

    @http("POST", "/api/v1/sessions/<string:session_id>/attendance", body=E.CheckInIn,
          created=(200, 201), tag="attendance")
    def check_in(self, request, session_id):
        """Check-in: `{"member_no", "status": "present"|"leave", "at": ISO time}`."""
        payload = json_body(request)
        principal = self.attendance_writer(request, session_id,
                                           str(payload.get("member_no", "")), checkin=True)
        result = self.enrollment.check_in(session_id, payload, principal.actor, API_DEVICE)
        return json_response(result, status=201 if result["recorded"] else 200)

    @http("POST", "/api/v1/sessions/<string:session_id>/attendance/batch",
          body=E.CheckInBatchIn, created=(200, 201), tag="attendance")
    def check_in_batch(self, request, session_id):
        """Record many check-ins at once.

        Many check-ins at once: `{"entries": [{"member_no", "status": "present"|"leave",
        "at": ISO time}, …]}` (at most 5,000, applied in order). Each is recorded, unchanged
        or refused with its reason, one refusal not stopping the rest: `{"recorded",
        "unchanged", "refused": [{"index", "member_no", "rule", "reason"}], "flags"}` (201
        when anything was recorded). Access as for one check-in: a checkin token for its
        classes, a committee or organisation admin only for people in their subtree (403 and
        nothing recorded when anyone is outside it)."""
        payload = json_body(request)
        principal = self.principal(request)
        if principal.role == "checkin":
            self.require_class(principal, self.enrollment.get_session(session_id)["class_id"])
        else:
            principal.require(*ADMIN_ROLES)
            if principal.role in ROLES_WITH_ORG:
                self.require_all_within(principal, payload.get("entries"))
        result = self.enrollment.check_in_batch(session_id, payload, principal.actor,
                                                API_DEVICE)
        return json_response(result, status=201 if result["recorded"] else 200)

    def require_all_within(self, principal, entries) -> None:
        member_nos = [str(e.get("member_no", "")) for e in entries if isinstance(e, dict)] \
            if isinstance(entries, list) else []
        if not principal.org_code:
            raise Forbidden("this token names no organisation", rule="subtree")
        outside = self.enrollment.members_outside(principal.org_code, member_nos) \
            if member_nos else []
        if outside:
            raise Forbidden(f"{len(outside)} of these people are outside what the "
                            f"{principal.role} role may reach", rule="subtree",
                            errors={"member_no": [f"{m} is outside {principal.org_code}"
                                                  for m in outside]})

    @http("POST", "/api/v1/sessions/<string:session_id>/attendance/corrections",
          body=E.CorrectionIn, created=(200, 201), tag="attendance")
    def correct_attendance(self, request, session_id):
        """Correct a person's attendance of a session.

        `{"member_no", "status": present|online|leave|absent, "reason"}`: a new entry in
        the log, until 23:59 (Asia/Shanghai) of the 7th day after the session."""
        payload = json_body(request)
        principal = self.attendance_writer(request, session_id,
                                           str(payload.get("member_no", "")), checkin=False)
        result = self.enrollment.correct_attendance(session_id, payload, principal.actor,
                                                    API_DEVICE)
        return json_response(result, status=201 if result["recorded"] else 200)

    @http("GET", "/api/v1/sessions/<string:session_id>/attendance", query=E.SheetIn,
          page=True, tag="attendance")
    def session_attendance(self, request, session_id):
        """Everyone enrolled with their effective status, and the counts per status."""
        principal = self.attendance_reader(request, session_id)
        query = request.args.to_dict() if principal.role == "checkin" else \
            self.scoped(principal, request.args)
        return self.enrollment.session_attendance(session_id, query)

    @http("GET", "/api/v1/sessions/<string:session_id>/attendance/<string:member_no>",
          produces={"application/json": ITEMS}, tag="attendance")
    def attendance_history(self, request, session_id, member_no):
        """The log for one person and session: every entry, corrections included."""
        principal = self.attendance_reader(request, session_id)
        if principal.role in ROLES_WITH_ORG:
            self.require_within(principal, self.enrollment.get_member(member_no)["org_code"])
        return {"items": self.enrollment.attendance_history(session_id, member_no)}

    @http("GET", "/api/v1/anomalies", query=E.FlagListIn, page=True, tag="attendance")
    def list_anomalies(self, request):
        """Flags: filters class_id, session_id, kind, member_no, within; page, per_page."""
        principal = self.principal(request)
        principal.require(*ADMIN_ROLES)
        return self.enrollment.list_anomalies(self.scoped(principal, request.args))
