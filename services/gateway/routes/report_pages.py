"""The admin pages of filing from the unit's side and of the reports the API alone had (DESIGN
§4): `/admin/filings/outgoing` (what this organisation files, with attachments), a filed
version's own page (where its reviewer confirms 确认备案 or 退回), `/admin/coverage-gaps`,
`/admin/filing-status`, `/admin/members/{member_no}`.

They call the RPCs the API routes call, with the caller's subtree as the API limits it, and
stand on PagesRoutes' helpers (`page_caller`, `page_report`, …): the route mixins share one
class.
"""

import base64
import hmac

import eventlet
from nameko.exceptions import UnknownService

from services.contracts.rules import ATTACHMENT_MAX_BYTES, ATTACHMENT_MAX_COUNT
from services.contracts.vocabulary import FILING_KINDS
from services.kit.errors import Forbidden, InvalidInput
from services.kit.rpc import RpcTimeout

from ..http import http
from ..pages import reports, views
from .base import RoutesBase
from .pages import DOWNLOADS, chosen, code_of, csv_section, html, page, redirect, year_of
from .reporting import file_response

# A whole filing's form: its attachments at their largest, and room for the other fields.
MAX_UPLOAD = ATTACHMENT_MAX_COUNT * ATTACHMENT_MAX_BYTES + 256 * 1024
REPORT_FILES = ("xlsx", "pdf", "csv", "json")


class ReportPagesRoutes(RoutesBase):

    # -- helpers (page_* like PagesRoutes', so that no other mixin's name is shadowed) -----------

    def page_org_in_reach(self, caller, org_code: str | None) -> dict:
        """The organisation a page is about: the caller's own by default (a district_admin's:
        the district's root), or the one chosen."""
        if org_code is None:
            if caller.within is not None:
                org_code = caller.within
            else:   # the tree's root: organisations are listed in the order of their paths
                roots = self.enrollment.list_organisations({"per_page": 1})
                if not roots["items"]:
                    raise InvalidInput("no district organisation is known yet",
                                       errors={"org_code": ["请先导入党组织"]})
                org_code = roots["items"][0]["org_code"]
        # Outside the caller's subtree reporting refuses the organisation's filing status.
        return self.enrollment.get_organisation(org_code)

    def page_upload(self, request):
        """A multipart form of one of our pages: its fields (CSRF checked as page_form does)
        and the files chosen in its `attachments` field, read up to MAX_UPLOAD."""
        caller = self.page_caller(request)
        request.max_content_length = MAX_UPLOAD
        fields = request.form.to_dict()
        if caller.cookie_token is not None and not hmac.compare_digest(
                fields.get("csrf", ""), caller.csrf):
            raise Forbidden("the form's CSRF token is missing or wrong; reload the page",
                            rule="csrf")
        files = [{"file_name": upload.filename,
                  "content_b64": base64.b64encode(upload.read()).decode()}
                 for upload in request.files.getlist("attachments") if upload.filename]
        return caller, fields, files

    def page_versions(self, class_ids, within) -> dict:
        """Each class's filed versions (with their attachments) by (class_id, kind)."""
        def one(class_id):
            return self.reporting.class_filings(class_id, within)["items"]
        versions = {}
        for items in eventlet.GreenPool(10).imap(one, sorted(set(class_ids))):
            for v in items:
                versions.setdefault((v["class_id"], v["kind"]), []).append(v)
        return versions

    # -- what this organisation files -----------------------------------------------------------

    @http("GET", "/admin/filings/outgoing", document=False)
    @page
    def admin_outgoing(self, request):
        caller = self.page_caller(request)
        org = self.page_org_in_reach(caller, code_of(request.args))
        data, _ = self.page_report("filing-status", {"year": year_of(request.args),
                                                     "org_code": org["org_code"]},
                                   caller.within)
        filed = {i["class_id"] for i in data["items"]
                 if i["org_code"] == org["org_code"] and i["versions"]}
        versions = self.page_versions(filed, caller.within)
        may_file = caller.within in (None, org["org_code"])
        return html(reports.outgoing(data, org, versions, caller.principal,
                                     self.page_org_choices(caller), may_file,
                                     reports.OUTGOING_DONE.get(request.args.get("done", ""))))

    def page_filing_item(self, caller, class_id: str, kind: str):
        """The class, its organiser (which the caller must be, or a district_admin), this
        kind's line of the filing status, and the versions filed so far."""
        if kind not in FILING_KINDS:
            raise InvalidInput("unknown filing kind", errors={"kind": ["只能是培训方案或培训情况"]})
        klass = self.scheduling.get_class(class_id, include_drafts=False)
        organiser = klass["organiser_org_code"]
        if caller.within not in (None, organiser):
            raise Forbidden(f"only the organiser ({organiser}) files this class's {kind}",
                            rule="filing_organiser")
        org = self.enrollment.get_organisation(organiser)
        data, _ = self.page_report("filing-status", {"year": klass["year"],
                                                     "org_code": organiser}, caller.within)
        item = next((i for i in data["items"]
                     if i["class_id"] == class_id and i["kind"] == kind), None)
        if item is None:
            raise InvalidInput("the class has nothing to file",
                               errors={"class_id": ["班次已取消或统计服务尚未收到，暂无需报送"]})
        versions = self.page_versions([class_id], caller.within).get((class_id, kind), [])
        return klass, org, item, versions

    @http("GET", "/admin/filings/outgoing/<string:class_id>/<string:kind>", document=False)
    @page
    def admin_file_form(self, request, class_id, kind):
        caller = self.page_caller(request)
        klass, org, item, versions = self.page_filing_item(caller, class_id, kind)
        return html(reports.file_form(klass, kind, item, versions, org, caller.csrf,
                                      caller.principal))

    @http("POST", "/admin/filings/outgoing/<string:class_id>/<string:kind>", document=False)
    @page
    def admin_file(self, request, class_id, kind):
        caller, _, files = self.page_upload(request)
        klass, org, _, _ = self.page_filing_item(caller, class_id, kind)
        self.reporting.file_report(class_id, kind, caller.within, caller.who, files)
        return redirect(views.url("/admin/filings/outgoing", year=klass["year"],
                                  org_code=org["org_code"], done="filed"))

    # -- one filed version ---------------------------------------------------------------------

    @http("GET", "/admin/filings/<string:filing_id>", document=False)
    @page
    def admin_filing(self, request, filing_id):
        caller = self.page_caller(request)
        filed = self.reporting.get_filing(filing_id, caller.within)
        _, title = self.page_class_title(filed["class_id"])
        org = self.page_organisations([filed["org_code"]]).get(filed["org_code"]) or {}
        reviewer = caller.within is None or caller.within == filed["parent_code"]
        return html(reports.filing_page(filed, title, org.get("name"), reviewer, caller.csrf,
                                        caller.principal, self.attendance_check(filed)))

    def attendance_check(self, filed: dict) -> dict | None:
        """A record's attendance as enrollment's log holds it now, checked entry by entry (its
        hash chain): whether what the record summarised was changed behind the service's back.
        None for a plan, or a record filed before the chain was kept; `unavailable` when
        enrollment does not answer (the page shows the filing anyway)."""
        if (filed.get("attendance_chain") or {}).get("sequence") is None:
            return None
        try:
            return self.enrollment.verify_attendance(filed["class_id"])
        except (RpcTimeout, UnknownService):
            return {"unavailable": True}

    @http("GET", "/admin/filings/<string:filing_id>/attachments/<string:attachment_id>",
          document=False)
    @page
    def admin_filing_attachment(self, request, filing_id, attachment_id):
        caller = self.page_caller(request)
        return file_response(self.reporting.filing_attachment(filing_id, attachment_id,
                                                              caller.within))

    # -- the reports the API alone had ----------------------------------------------------------

    @http("GET", "/admin/coverage-gaps", document=False)
    @page
    def admin_coverage_gaps(self, request):
        caller, org_code, params = self.page_scoped(request)
        data, document = self.page_report("coverage-gaps", params, caller.within)
        return html(reports.coverage_gaps(data, document, caller.principal, org_code,
                                          self.page_org_choices(caller)))

    @http("GET", "/admin/coverage-gaps/file", document=False)
    @page
    def admin_coverage_gaps_file(self, request):
        return self.page_report_file(request, "coverage-gaps", REPORT_FILES)

    @http("GET", "/admin/filing-status", document=False)
    @page
    def admin_filing_status(self, request):
        caller, org_code, params = self.page_scoped(request)
        data, document = self.page_report("filing-status", params, caller.within)
        return html(reports.filing_status(data, document, caller.principal, org_code,
                                          self.page_org_choices(caller)))

    @http("GET", "/admin/filing-status/file", document=False)
    @page
    def admin_filing_status_file(self, request):
        return self.page_report_file(request, "filing-status", REPORT_FILES)

    def page_archive_params(self, request, member_no: str) -> dict:
        code_of({"member_no": member_no}, "member_no")
        year = year_of(request.args) if request.args.get("year") else None
        return {"member_no": member_no, **({"year": year} if year else {})}

    @http("GET", "/admin/members/<string:member_no>", document=False)
    @page
    def admin_member(self, request, member_no):
        caller = self.page_caller(request)
        params = self.page_archive_params(request, member_no)
        data, document = self.page_report("personal-archive", params, caller.within)
        return html(reports.member_archive(data, document, caller.principal,
                                           params.get("year")))

    @http("GET", "/admin/members/<string:member_no>/archive", document=False)
    @page
    def admin_member_file(self, request, member_no):
        caller = self.page_caller(request)
        params = self.page_archive_params(request, member_no)
        fmt = chosen(request.args, DOWNLOADS["document"], "pdf")
        return file_response(self.reporting.report(
            "personal-archive", {**params, **csv_section(request.args, fmt)}, fmt,
            caller.within))
