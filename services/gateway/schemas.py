"""What the gateway's routes read themselves (report parameters, filings), for the OpenAPI
document; the command schemas it shares with scheduling and enrollment live in
services.contracts.commands. These only document: the services (and the routes' own checks)
still validate."""

from marshmallow import RAISE, Schema, fields, validate

from services.contracts.commands.scheduling import ClassQuery
from services.contracts.fields import CODE_PATTERN
from services.contracts.vocabulary import FILING_KINDS, FORMATS, REPORTS

CODE = validate.Regexp(CODE_PATTERN)
DOCUMENT_FORMATS = ("json", "csv", "xlsx", "pdf")
INBOX_STATUSES = ("filed", "acknowledged", "returned", "all")

# A class list's filter as people send it: include_drafts is the gateway's, from the role.
ClassListQuery = ClassQuery(exclude=("include_drafts",))

REPORT_PATH = {"report": {"type": "string", "enum": list(REPORTS)}}


class Strict(Schema):
    class Meta:
        unknown = RAISE


class ReportQuery(Strict):
    """Which report parameters each report takes is its own: class_id for class-record and
    class-plan, member_no for personal-archive, year/org_code (and as_of for filing-status) for
    the district's reports."""
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS),
                           metadata={"description": "png: annual-summary's charts only"})
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))
    class_id = fields.UUID()
    member_no = fields.String(validate=CODE)
    org_code = fields.String(validate=CODE)
    as_of = fields.Date()
    section = fields.String(metadata={"description": (
        "format=csv only: which table the CSV holds (one flat table with Chinese headings). "
        "Left out: the report's main table; `overview`: its facts (项目, 内容); otherwise one "
        "of the report's tables — class-record participants|sessions, class-plan sessions, "
        "annual-summary tracks|sectors|committees|hours|hours-by-committee, coverage-gaps "
        "committees|secretaries|members, filing-status organisations|items|overdue, "
        "personal-archive years|classes|sessions|other. An unknown name answers 422 listing "
        "the report's own.")})


class FilingStatusQuery(Strict):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))
    org_code = fields.String(validate=CODE)
    as_of = fields.Date()


class InboxQuery(Strict):
    org_code = fields.String(validate=CODE)
    status = fields.String(load_default="filed", validate=validate.OneOf(INBOX_STATUSES))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class DocumentQuery(Strict):
    format = fields.String(load_default="json", validate=validate.OneOf(DOCUMENT_FORMATS))


class FilingIn(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(tuple(FILING_KINDS)))


class ReturnIn(Strict):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class YearQuery(Strict):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))
