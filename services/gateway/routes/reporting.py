"""Reports and filings over HTTP.

Reports come as files (JSON, CSV, XLSX, PDF, PNG) with their content type and an attachment
file name; their bytes cross RPC base64-encoded. A committee_admin or org_admin sees reports of
its own organisation's subtree only (reporting limits them by the tree it knows from events),
files as its organisation and reviews what is addressed to it; a district_admin does all.
"""

import base64
import re
from urllib.parse import quote

from werkzeug.wrappers import Response

from services.contracts.vocabulary import ADMIN_ROLES
from services.kit.errors import Forbidden, InvalidInput

from .. import schemas as G
from ..http import http, json_body, json_response
from .base import RoutesBase

REPORT_PARAMS = ("year", "class_id", "member_no", "org_code", "as_of", "section")
OPEN_TO_EVERY_ROLE = ("class-plan",)   # what people need to nominate, like classes themselves
BINARY = {"type": "string", "format": "binary"}
DOCUMENTS = {"application/json": {"type": "object"}, "text/csv": {"type": "string"},
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": BINARY,
             "application/pdf": BINARY}
FILES = {**DOCUMENTS, "image/png": BINARY}
ATTACHMENTS = {"application/pdf": BINARY, "image/jpeg": BINARY, "image/png": BINARY}
UNQUOTABLE = re.compile(r'["\\\x00-\x1f\x7f]')
AN_ID = re.compile(r"-?[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}")


def disposition(name: str, fallback: str) -> str:
    """`attachment` with the file name: plain when it is ASCII, else the UTF-8 name as RFC 6266
    and RFC 5987 give it (filename*) beside an ASCII `fallback`, without ids, for clients that
    lack it."""
    if name.isascii() and not UNQUOTABLE.search(name):
        return f'attachment; filename="{name}"'
    plain = UNQUOTABLE.sub("", AN_ID.sub("", fallback.encode("ascii", "ignore").decode()))
    return (f"attachment; filename=\"{plain or 'download'}\"; "
            f"filename*=UTF-8''{quote(name, safe='')}")


def file_response(answer: dict, name: str | None = None) -> Response:
    """A file as reporting hands it over; `name`: what to call it instead of reporting's name
    (a class's title rather than its id)."""
    return Response(base64.b64decode(answer["content_b64"]), status=200,
                    content_type=answer["content_type"], headers={
                        "Content-Disposition": disposition(name or answer["file_name"],
                                                           answer["file_name"]),
                        "ETag": f'"{answer["sha256"]}"',
                        "X-Peixun-Sha256": answer["sha256"]})


def only(args, allowed) -> dict:
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        raise InvalidInput("unknown parameters", errors={k: ["unknown parameter"]
                                                         for k in unknown})
    return {k: args[k] for k in allowed if args.get(k) not in (None, "")}


def inbox_of(principal, org_code: str | None) -> str | None:
    """Whose filing inbox: a district_admin's choice (none: the district's own); anyone else's
    is its own organisation's."""
    if principal.within is None:
        return org_code
    if org_code not in (None, principal.within):
        raise Forbidden("you review what is addressed to your own organisation",
                        rule="filing_reviewer")
    return principal.within


def integer(args, name: str, default: int) -> int:
    try:
        return int(args.get(name, default))
    except ValueError:
        raise InvalidInput("not a number", errors={name: ["not a whole number"]}) from None


class ReportingRoutes(RoutesBase):
    def _acting(self, request):
        """The caller, and the organisation it acts as (None: a district_admin, unlimited)."""
        principal = self.principal(request)
        principal.require(*ADMIN_ROLES)
        return principal, principal.within, principal.who

    @http("GET", "/api/v1/classes/<string:class_id>/progress", tag="reports")
    def class_progress(self, request, class_id):
        """What reporting has seen of the class so far: completed sessions and hours."""
        self.principal(request)
        return self.reporting.class_progress(class_id)

    @http("GET", "/api/v1/reports/<string:report>", query=G.ReportQuery, path=G.REPORT_PATH,
          produces=FILES, tag="reports")
    def get_report(self, request, report):
        """A report, as JSON or as a file.

        A report as a file: `format` json|csv|xlsx|pdf (png: the annual summary's charts);
        a CSV is one table, the main one or the `section` named (`overview`: the facts)."""
        principal = self.principal(request)
        if report in OPEN_TO_EVERY_ROLE:
            within = None
        else:
            principal.require(*ADMIN_ROLES)
            within = principal.within
        params = only(request.args, (*REPORT_PARAMS, "format"))
        fmt = params.pop("format", "json")
        answer = self.reporting.report(report, params, fmt, within)
        return file_response(answer, answer["file_name"])

    # -- filing (备案) ---------------------------------------------------------------------------

    @http("POST", "/api/v1/classes/<string:class_id>/filings", body=G.FilingIn, created=True,
          tag="filings")
    def file_report(self, request, class_id):
        """File the class's plan or record (`{"kind": "plan"|"record"}`) as its organiser."""
        _, acting, who = self._acting(request)
        body = only(json_body(request), ("kind",))
        if "kind" not in body:
            raise InvalidInput("kind is required", errors={"kind": ["plan or record"]})
        filed = self.reporting.file_report(class_id, body["kind"], acting, who)
        return json_response(filed, status=201,
                             headers={"Location": f"/api/v1/filings/{filed['filing_id']}"})

    @http("GET", "/api/v1/classes/<string:class_id>/filings", page=True, tag="filings")
    def class_filings(self, request, class_id):
        """The class's filings, plan and record."""
        _, acting, _ = self._acting(request)
        return self.reporting.class_filings(class_id, acting)

    @http("GET", "/api/v1/filings/inbox", query=G.InboxQuery, page=True, tag="filings")
    def filing_inbox(self, request):
        """What a superior organisation has to review (status=filed) or has reviewed."""
        principal, _, _ = self._acting(request)
        args = only(request.args, ("org_code", "status", "page", "per_page"))
        org_code = inbox_of(principal, args.get("org_code"))
        return self.reporting.filing_inbox(org_code, args.get("status", "filed"),
                                           integer(args, "page", 1),
                                           integer(args, "per_page", 50))

    @http("GET", "/api/v1/filings/status", query=G.FilingStatusQuery, tag="filings")
    def filing_status(self, request):
        """The filing-status report's data, for pages.

        The filing-status report's data (what is due, filed, acknowledged, returned,
        overdue, per organisation) for pages; as a file it is /api/v1/reports/filing-status."""
        _, acting, _ = self._acting(request)
        params = only(request.args, ("year", "org_code", "as_of"))
        answer = self.reporting.report("filing-status", params, "json", acting)
        return Response(base64.b64decode(answer["content_b64"]), status=200,
                        content_type="application/json")

    @http("GET", "/api/v1/filings/<string:filing_id>", tag="filings")
    def get_filing(self, request, filing_id):
        """A filing."""
        _, acting, _ = self._acting(request)
        return self.reporting.get_filing(filing_id, acting)

    @http("GET", "/api/v1/filings/<string:filing_id>/document", query=G.DocumentQuery,
          produces=DOCUMENTS, tag="filings")
    def filing_document(self, request, filing_id):
        """The filed version itself (format=json, as filed) or drawn from it (csv|xlsx|pdf)."""
        _, acting, _ = self._acting(request)
        fmt = only(request.args, ("format",)).get("format", "json")
        return file_response(self.reporting.filing_document(filing_id, fmt, acting))

    @http("GET", "/api/v1/filings/<string:filing_id>/attachments/<string:attachment_id>",
          produces=ATTACHMENTS, tag="filings")
    def filing_attachment(self, request, filing_id, attachment_id):
        """One attachment of a filed version, as it was filed.

        One of the attachments a version was filed with (a scanned 签到表, a photo), as it
        was filed: its sha256 in `X-Peixun-Sha256`."""
        _, acting, _ = self._acting(request)
        return file_response(self.reporting.filing_attachment(filing_id, attachment_id,
                                                              acting))

    @http("POST", "/api/v1/filings/<string:filing_id>/acknowledge", tag="filings")
    def acknowledge_filing(self, request, filing_id):
        """Acknowledge a filing, as the superior organisation."""
        _, acting, who = self._acting(request)
        return self.reporting.acknowledge_filing(filing_id, acting, who)

    @http("POST", "/api/v1/filings/<string:filing_id>/return", body=G.ReturnIn,
          tag="filings")
    def return_filing(self, request, filing_id):
        """Return a filing to its organiser, with a reason (`{"reason": "…"}`)."""
        _, acting, who = self._acting(request)
        body = only(json_body(request), ("reason",))
        return self.reporting.return_filing(filing_id, body.get("reason", ""), acting, who)
