"""xAPI over HTTP: the statements reporting draws from attendance and completion, as an xAPI
1.0.3 StatementResult, for a learning record store or an analyst to pull. Who may read them is
who may read reports: a district_admin everything, a committee_admin or org_admin its subtree; a
system token too (its organisation's subtree, or everything when it has none)."""

from datetime import UTC, datetime
from urllib.parse import urlencode

from marshmallow import ValidationError, fields, validate

from services.kit.errors import InvalidInput
from services.kit.validation import load

from ..http import http, json_response
from ..schemas import Strict
from .base import RoutesBase

PATH = "/api/v1/xapi/statements"
VERSION = "1.0.3"
READERS = ("district_admin", "committee_admin", "org_admin", "system")
MAX_LIMIT = 500


def in_utc_range(moment: datetime) -> None:
    """0001-01-01T00:00+08:00 is a valid timestamp that no UTC clock can show."""
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise ValidationError("outside the years 1 to 9999 in UTC") from None


class XapiQuery(Strict):
    since = fields.AwareDateTime(format="iso", validate=in_utc_range, metadata={
        "description": "only statements stored after this instant (ISO 8601 with offset)"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_LIMIT))
    cursor = fields.String(validate=validate.Regexp(r"^[0-9]{1,18}$"), metadata={
        "description": "where the page starts: as the previous page's `more` gives it"})


class BadQuery(InvalidInput):
    """xAPI answers a query it cannot read with 400 Bad Request."""

    status = 400


def query(args) -> dict:
    try:
        return load(XapiQuery(), args.to_dict())
    except InvalidInput as exc:
        raise BadQuery("the query is not valid", errors=exc.errors) from None


def more_link(params: dict, cursor: str) -> str:
    """The next page, relative to this server (xAPI's `more` IRL)."""
    kept = {k: params[k] for k in ("since", "limit") if params.get(k) is not None}
    return f"{PATH}?{urlencode({**kept, 'cursor': cursor})}"


class XapiRoutes(RoutesBase):
    @http("GET", PATH, query=XapiQuery, tag="xapi",
          produces={"application/json": {"$ref": "#/components/schemas/StatementResult"}})
    def xapi_statements(self, request):
        """xAPI 1.0.3 statements: attended (per session) and completed (per class).

        A StatementResult: `statements` in the order reporting stored the facts, and `more`,
        the link to the next page ("" when this is the last). A person is an account on the
        district's home page named by the member number, and nothing more."""
        principal = self.principal(request)
        principal.require(*READERS)
        params = query(request.args)
        since = params["since"].isoformat() if params.get("since") else None
        page = self.reporting.xapi_statements(since, params["limit"], params.get("cursor"),
                                              principal.within)
        more = more_link({"since": since, "limit": params["limit"]}, page["cursor"]) \
            if page["more"] else ""
        return json_response({"statements": page["statements"], "more": more}, headers={
            "X-Experience-API-Version": VERSION,
            "X-Experience-API-Consistent-Through": page["consistent_through"]})
