"""The OpenAPI 3 document, built from the gateway's own routes and the services' marshmallow
schemas: what is documented is what is served."""

import inspect
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from .http import Http

PATH_PARAM = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_]+)>")

PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "rule": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {
            "type": "array", "items": {"type": "string"}}},
    },
    "required": ["type", "title", "status", "detail"],
}
PAGE = {
    "type": "object",
    "description": "a page of a list",
    "properties": {
        "items": {"type": "array", "items": {"type": "object"}},
        "total": {"type": "integer", "minimum": 0},
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1},
    },
    "required": ["items", "total", "page", "per_page"],
}
JSON_OBJECT = {"type": "object"}
ERRORS = {
    "400": "the request cannot be read", "401": "no token, or an unknown one",
    "403": "outside the caller's role or organisation", "404": "no such thing",
    "409": "a rule refused it", "413": "the body is too large",
    "422": "the input is not valid (each field's reasons in `errors`)",
    "502": "a service failed", "503": "a service is not running",
    "504": "a service did not answer in time",
}


SUCCESS = {200: "success", 201: "created"}


def routes(service_cls):
    """The documented routes: every Http entrypoint but the pages (`document=False`)."""
    for _name, member in inspect.getmembers(service_cls):
        for entrypoint in getattr(member, "nameko_entrypoints", ()):
            if isinstance(entrypoint, Http) and entrypoint.document:
                yield member, entrypoint


def operation(method, entrypoint: Http, spec: APISpec) -> dict:
    doc = inspect.getdoc(method) or method.__name__.replace("_", " ")
    summary, _, description = doc.partition("\n")
    path_schemas = entrypoint.path or {}
    parameters = [{"in": "path", "name": name, "required": True,
                   "schema": path_schemas.get(name, {"type": "string"})}
                  for name in PATH_PARAM.findall(entrypoint.url)]
    if entrypoint.query is not None:
        parameters.append({"in": "query", "schema": entrypoint.query})
    default = {"$ref": "#/components/schemas/Page"} if entrypoint.page else JSON_OBJECT
    produces = entrypoint.produces or {"application/json": default}
    responses = {str(status): {"description": SUCCESS.get(status, "success"), "content": {
        content_type: {"schema": schema} for content_type, schema in produces.items()}}
        for status in entrypoint.success_statuses}
    for status, text in ERRORS.items():
        if status == "401" and entrypoint.public:
            continue
        responses[status] = {"description": text, "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    op = {"summary": summary.strip(), "operationId": method.__name__,
          "tags": [entrypoint.tag or "peixun"], "parameters": parameters,
          "responses": responses}
    if description.strip():
        op["description"] = description.strip()
    if entrypoint.body is not None:
        op["requestBody"] = {"required": entrypoint.body_required, "content": {
            "application/json": {"schema": entrypoint.body}}}
    if entrypoint.public:
        op["security"] = []
    return op


def build(service_cls) -> dict:
    spec = APISpec(
        title="peixun API", version="1.0.0", openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "The district's yearly mass training of party-organisation "
                             "secretaries and members: programs, classes, enrolment, "
                             "attendance, reports and filings. Errors are RFC 9457 problem "
                             "details; lists answer {items, total, page, per_page}."},
        security=[{"bearer": []}],
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Problem", PROBLEM)
    spec.components.schema("Page", PAGE)
    paths: dict[str, dict] = {}
    for method, entrypoint in routes(service_cls):
        path = PATH_PARAM.sub(r"{\1}", entrypoint.url)
        for verb in entrypoint.method.split(","):
            paths.setdefault(path, {})[verb.lower()] = operation(method, entrypoint, spec)
    for path in sorted(paths):
        spec.path(path=path, operations=paths[path])
    return spec.to_dict()
