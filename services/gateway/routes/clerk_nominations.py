"""A class's nominations in the browser (DESIGN §4 "The clerk's pages"):
`/admin/classes/{id}/nominations` — seats and quotas, people picked from the organisation tree
or a 报名表 uploaded, the review queue, withdrawals — and
`/admin/classes/{id}/nominations/template.xlsx`, the 报名表 to fill in.

Who may, as the API: an admin opens the page of a class it may see (organised in its subtree or
above it) and nominates its own people only (enrollment refuses anyone else, by `by_org_code`);
it lists and withdraws the enrolments of its subtree; it reviews nominations when its subtree
holds the class's organiser.
"""

import hmac
from collections import Counter
from urllib.parse import quote

import eventlet
from werkzeug.wrappers import Response

from services.contracts import vocabulary
from services.contracts.imports import MODES
from services.kit.errors import DomainError, Forbidden, InvalidInput, NotFound

from .. import nomination_sheet
from ..http import http
from ..pages import nominations as views
from .clerk_classes import REFUSED, refused
from .pages import MAX_FORM, SECURITY_HEADERS, Caller, PagesRoutes, html, page, redirect

LISTED = 500                 # people on one page: enrollment's largest page
LOOKUPS = 10                 # member look-ups at once when a 报名表 is checked


class ClerkNominationRoutes(PagesRoutes):
    # Helpers are named clerk_* so that none stands in for another mixin's method.

    def clerk_within(self, caller: Caller, org_code: str | None) -> None:
        """The organisation lies in the caller's subtree (a district_admin's is everything)."""
        if caller.within is None:
            return
        try:
            ancestors = self.enrollment.org_ancestors(org_code) if org_code else []
        except NotFound:
            ancestors = []
        if caller.within not in ancestors:
            raise Forbidden(f"{org_code} is outside the subtree of {caller.within}",
                            rule="subtree")

    def clerk_reviews(self, caller: Caller, klass: dict) -> bool:
        """Whether the caller organises the class, and so reviews its nominations: its subtree
        holds the organiser."""
        try:
            self.clerk_within(caller, klass["organiser_org_code"])
        except Forbidden:
            return False
        return True

    def clerk_tree(self, caller: Caller, org_code: str | None) -> dict:
        """The picker: the organisation chosen (the caller's own at first), the way to it from
        the caller's own, the organisations below it and its members."""
        top = caller.within or self.enrollment.list_organisations(
            {"per_page": 1})["items"][0]["org_code"]   # the root comes first, by path
        current = self.enrollment.get_organisation(org_code or top)
        if top not in current["ancestors"]:
            raise Forbidden(f"{current['org_code']} is outside the subtree of {top}",
                            rule="subtree")
        above = current["ancestors"][1:current["ancestors"].index(top) + 1][::-1]
        found = self.page_organisations(above)
        members = self.enrollment.list_members(current["org_code"], {"per_page": LISTED})
        return {"current": current, "path": [found[c] for c in above if found.get(c)],
                "children": self.enrollment.list_organisations(
                    {"parent_code": current["org_code"], "per_page": LISTED})["items"],
                "members": members["items"], "member_total": members["total"]}

    def clerk_committees(self, klass: dict) -> list[dict]:
        """The party committees the class's organiser may give a quota: those of its subtree
        (who else nominates into its class)."""
        return [org for org in self.enrollment.list_organisations(
            {"kind": "committee", "within": klass["organiser_org_code"],
             "per_page": LISTED})["items"]
            if org.get("committee_code") == org["org_code"]]

    def clerk_nominations(self, caller: Caller, class_id: str, org_code: str | None = None,
                          outcome: dict | None = None, problem: dict | None = None,
                          notice: str | None = None, values: dict | None = None) -> Response:
        klass = self.scheduling.get_class(class_id)
        self.page_class_in_reach(caller, class_id)
        try:
            places = self.enrollment.get_class(class_id)["places"]
            quotas = self.enrollment.list_quotas(class_id)
        except NotFound:   # a draft, or a class enrollment has not heard of yet
            places, quotas = None, []
        mine = {"within": caller.within} if caller.within else {}
        empty = {"items": [], "total": 0}
        enrolments = self.enrollment.list_enrolments(class_id, {**mine, "per_page": LISTED}) \
            if places is not None else empty
        organiser = self.clerk_reviews(caller, klass)
        queue = self.enrollment.list_enrolments(class_id, {**mine, "status": views.REVIEWABLE,
                                                           "per_page": LISTED}) \
            if places is not None and klass["review_nominations"] and organiser else None
        listed = enrolments["items"] + (queue["items"] if queue else [])
        orgs = self.page_organisations({e["org_code"] for e in listed}
                                       | {q["committee_code"] for q in quotas})
        names = {code: org["name"] for code, org in orgs.items() if org}
        tree = self.clerk_tree(caller, org_code) if places is not None and \
            klass["status"] == "published" else None
        return html(views.nominations_page(
            caller.principal, caller.csrf, klass, places, quotas, names, tree, enrolments,
            queue, names, nomination_sheet.offered_modes(klass["delivery"]), organiser, outcome,
            problem, notice, self.clerk_committees(klass) if organiser else None, values),
            status=problem["status"] if problem else 200)

    def clerk_nominate(self, caller: Caller, class_id: str, member_nos: list[str],
                       mode: str | None) -> dict:
        """Enrollment's nomination as the API makes it: a unit nominates its own people."""
        payload = {"member_nos": member_nos, "mode": mode, "by_org_code": caller.within}
        try:
            return self.enrollment.nominate(class_id, payload)
        except NotFound as exc:
            if exc.info.get("entity") != "class":
                raise
            raise DomainError("class not yet known to enrollment", rule="not_yet_known") \
                from None

    # -- the page -----------------------------------------------------------------------------

    @http("GET", "/admin/classes/<string:class_id>/nominations", document=False)
    @page
    def admin_nominations(self, request, class_id):
        caller = self.page_caller(request)
        return self.clerk_nominations(caller, class_id, request.args.get("org") or None,
                                      notice=views.DONE.get(request.args.get("done", "")))

    @http("GET", "/admin/classes/<string:class_id>/nominations/template.xlsx", document=False)
    @page
    def admin_nomination_template(self, request, class_id):
        caller = self.page_caller(request)
        klass = self.scheduling.get_class(class_id)
        self.page_class_in_reach(caller, class_id)
        name = quote(f"{klass['title']}-报名表.xlsx")
        return Response(nomination_sheet.template(klass), status=200,
                        content_type=nomination_sheet.XLSX, headers={
                            **SECURITY_HEADERS,
                            "Content-Disposition": "attachment; filename=\"nominations.xlsx\"; "
                                                   f"filename*=UTF-8''{name}"})

    @http("POST", "/admin/classes/<string:class_id>/nominations", document=False)
    @page
    def admin_nominate(self, request, class_id):
        caller, fields = self.page_form(request)
        member_nos = request.form.getlist("member_no")
        mode = fields.get("mode") if fields.get("mode") in vocabulary.ENROLLMENT_MODES else None
        try:
            if not member_nos:
                raise InvalidInput("nobody chosen", errors={"member_no": ["请至少勾选一名党员"]})
            self.page_class_in_reach(caller, class_id)
            result = self.clerk_nominate(caller, class_id, member_nos, mode)
        except DomainError as exc:
            if exc.status not in REFUSED:
                raise
            return self.clerk_nominations(caller, class_id, problem=refused(exc))
        if not result["enrolled"] and result["refused"] and \
                all(r["rule"] == "scope" for r in result["refused"]):
            # Everyone named is outside the caller's subtree: a refusal of access, as the API's.
            raise Forbidden("everyone named is outside the caller's subtree", rule="subtree")
        names = self.clerk_names(caller, [r["member_no"] for r in result["refused"]
                                          if r["rule"] != "scope"])
        bad = [f"{names.get(r['member_no'], '')}（{r['member_no']}）："
               f"{vocabulary.RULES.get(r['rule'], r['reason'])}" for r in result["refused"]]
        return self.clerk_nominations(caller, class_id, outcome=outcome(result["enrolled"], bad))

    def clerk_names(self, caller: Caller, member_nos: list[str]) -> dict[str, str]:
        """The names of people in the caller's subtree, by number (nobody else's is shown)."""
        outside = set(self.enrollment.members_outside(caller.within, member_nos)) \
            if caller.within and member_nos else set()

        def one(member_no):
            try:
                return member_no, self.enrollment.get_member(member_no)
            except NotFound:
                return member_no, None
        found = dict(eventlet.GreenPool(LOOKUPS).imap(
            one, [m for m in dict.fromkeys(member_nos) if m not in outside]))
        return {no: person["name"] for no, person in found.items() if person}

    # -- the 报名表 ----------------------------------------------------------------------------

    @http("POST", "/admin/classes/<string:class_id>/nominations/upload", document=False)
    @page
    def admin_upload_nominations(self, request, class_id):
        caller = self.page_caller(request)
        request.max_content_length = nomination_sheet.MAX_UPLOAD + MAX_FORM
        if caller.cookie_token is not None and not hmac.compare_digest(
                request.form.get("csrf", ""), caller.csrf):
            raise Forbidden("the form's CSRF token is missing or wrong; reload the page",
                            rule="csrf")
        upload = request.files.get("file")
        try:
            self.page_class_in_reach(caller, class_id)
            klass = self.scheduling.get_class(class_id)
            rows = nomination_sheet.read(upload.filename if upload else "",
                                         upload.read() if upload else b"")
            bad, chosen = self.clerk_check_rows(caller, klass, rows)
            enrolled = []
            for mode in dict.fromkeys(mode for _row, mode in chosen.values()):
                nos = [no for no, (_row, m) in chosen.items() if m == mode]
                result = self.clerk_nominate(caller, class_id, nos, mode)
                enrolled += result["enrolled"]
                bad += [(chosen[r["member_no"]][0], "党员编号",
                         vocabulary.RULES.get(r["rule"], r["reason"]))
                        for r in result["refused"]]
        except DomainError as exc:
            if exc.status not in REFUSED:
                raise
            return self.clerk_nominations(caller, class_id, problem=refused(exc))
        lines = [f"第 {row} 行：{field}：{reason}" for row, field, reason in sorted(bad)]
        return self.clerk_nominations(caller, class_id, outcome=outcome(enrolled, lines))

    def clerk_check_rows(self, caller: Caller, klass: dict, rows: list[dict]
                         ) -> tuple[list[tuple[int, str, str]], dict[str, tuple[int, str]]]:
        """Each row checked against the file and the roll: (bad rows as (row, field, reason)),
        and the good ones as member_no → (row, mode)."""
        offered = nomination_sheet.offered_modes(klass["delivery"])
        bad, first, candidates = [], {}, []
        for row in rows:
            number, member_no, mode_text = row["row"], row["member_no"], row.get("mode", "")
            mode = MODES.get(mode_text) if mode_text else None
            if not member_no:
                bad.append((number, "党员编号", "不能为空"))
            elif member_no in first:
                bad.append((number, "党员编号", f"与第 {first[member_no]} 行重复"))
            elif mode_text and mode is None:
                bad.append((number, "方式", "应填“线下”或“线上”"))
            elif mode and mode not in offered:
                bad.append((number, "方式", f"本班次不提供"
                                          f"{vocabulary.ENROLLMENT_MODES[mode]}参训"))
            else:
                candidates.append((row, mode))
            first.setdefault(member_no, number)
        numbers = [row["member_no"] for row, _mode in candidates]
        outside = set(self.enrollment.members_outside(caller.within, numbers)) \
            if caller.within and numbers else set()

        def one(member_no):
            try:
                return member_no, self.enrollment.get_member(member_no)
            except NotFound:
                return member_no, None
        people = dict(eventlet.GreenPool(LOOKUPS).imap(
            one, [n for n in numbers if n not in outside]))
        orgs = self.page_organisations({p["org_code"] for p in people.values() if p})
        chosen = {}
        for row, mode in candidates:
            number, member_no = row["row"], row["member_no"]
            person = people.get(member_no)
            org = orgs.get(person["org_code"]) if person else None
            if member_no in outside:
                bad.append((number, "党员编号", vocabulary.RULES["scope"]))
            elif person is None:
                bad.append((number, "党员编号", "查无此党员"))
            elif row.get("name") and row["name"] != person["name"]:
                bad.append((number, "姓名", f"与党员编号 {member_no} 登记的姓名不符"))
            elif row.get("org") and row["org"] not in (person["org_code"],
                                                       org["name"] if org else None):
                bad.append((number, "党组织", "与该党员所在的党组织不符"))
            else:
                chosen[member_no] = (number, mode)
        return bad, chosen

    # -- quotas ---------------------------------------------------------------------------------

    @http("POST", "/admin/classes/<string:class_id>/quotas", document=False)
    @page
    def admin_set_quota(self, request, class_id):
        """The organiser (or the district) gives a party committee a quota of the class's
        offline seats; left empty, the quota goes."""
        caller, fields = self.page_form(request)
        klass = self.scheduling.get_class(class_id)
        self.clerk_within(caller, klass["organiser_org_code"])
        try:
            committees = {c["org_code"] for c in self.clerk_committees(klass)}
            code, seats = quota_input(fields, committees)
            self.enrollment.set_quota(class_id, code, {"seats": seats})
        except NotFound as exc:
            if exc.info.get("entity") != "class":
                raise
            return self.clerk_nominations(caller, class_id, problem=refused(DomainError(
                "class not yet known to enrollment", rule="not_yet_known")), values=fields)
        except DomainError as exc:
            if exc.status not in REFUSED:
                raise
            return self.clerk_nominations(caller, class_id, problem=refused(exc), values=fields)
        return redirect(f"/admin/classes/{class_id}/nominations?done=quota_set")

    # -- review and withdrawal ----------------------------------------------------------------

    def clerk_decide(self, request, enrollment_id: str, decide, done: str):
        """A form's decision on one enrolment: the page again on a refusal, else back to it."""
        caller, fields = self.page_form(request)
        enrolment = self.enrollment.get_enrolment(enrollment_id)
        class_id = enrolment["class_id"]
        try:
            decide(caller, enrolment, fields)
        except DomainError as exc:
            if exc.status not in REFUSED:
                raise
            return self.clerk_nominations(caller, class_id, problem=refused(exc))
        return redirect(f"/admin/classes/{class_id}/nominations?done={done}")

    def clerk_organiser_over(self, caller: Caller, enrolment: dict) -> None:
        organiser = self.enrollment.get_class(enrolment["class_id"])["organiser_org_code"]
        self.clerk_within(caller, organiser)

    @http("POST", "/admin/enrolments/<string:enrollment_id>/accept", document=False)
    @page
    def admin_accept_nomination(self, request, enrollment_id):
        def accept(caller, enrolment, fields):
            self.clerk_organiser_over(caller, enrolment)
            self.enrollment.accept_nomination(enrollment_id, caller.who)
        return self.clerk_decide(request, enrollment_id, accept, "accepted")

    @http("POST", "/admin/enrolments/<string:enrollment_id>/reject", document=False)
    @page
    def admin_reject_nomination(self, request, enrollment_id):
        def reject(caller, enrolment, fields):
            self.clerk_organiser_over(caller, enrolment)
            reason = fields.get("reason", "").strip()
            if not reason:
                raise InvalidInput("a reason is required",
                                   errors={"reason": ["请填写不通过的原因"]})
            self.enrollment.reject_nomination(enrollment_id, {"reason": reason}, caller.who)
        return self.clerk_decide(request, enrollment_id, reject, "rejected")

    @http("POST", "/admin/enrolments/<string:enrollment_id>/withdraw", document=False)
    @page
    def admin_withdraw_enrolment(self, request, enrollment_id):
        def withdraw(caller, enrolment, fields):
            self.clerk_within(caller, enrolment["org_code"])
            reason = fields.get("reason", "").strip() or None
            self.enrollment.withdraw(enrollment_id, {"reason": reason})
        return self.clerk_decide(request, enrollment_id, withdraw, "withdrawn")


def quota_input(fields: dict, committees: set[str]) -> tuple[str, int | None]:
    """The quota form: a party committee, and its seats (empty: no quota)."""
    code, typed = fields.get("committee_code", "").strip(), fields.get("seats", "").strip()
    if code not in committees:
        raise InvalidInput(f"{code!r} is not a party committee", rule="quota_committee",
                           errors={"committee_code": ["请选择党委（党工委）"]})
    if not typed:
        return code, None
    try:
        seats = int(typed)
    except ValueError:
        seats = -1
    if seats < 0:
        raise InvalidInput("seats must be a whole number ≥ 0",
                           errors={"seats": ["请填写不小于 0 的整数，或留空取消名额"]})
    return code, seats


def outcome(enrolled: list[dict], bad: list[str]) -> dict:
    return {"enrolled": len(enrolled), "statuses": dict(Counter(e["status"] for e in enrolled)),
            "bad": bad}
