"""RFC 9457 problem details: the one place where an exception becomes an HTTP answer."""

import json
import logging

from nameko.exceptions import BadRequest, RemoteError, UnknownService
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from services.kit.errors import DomainError
from services.kit.rpc import RpcTimeout

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

TITLES = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 409: "Conflict", 413: "Content Too Large",
    415: "Unsupported Media Type", 422: "Unprocessable Content", 500: "Internal Server Error",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}


def problem(status: int, detail: str, errors: dict | None = None, **extra) -> Response:
    body = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status,
            "detail": detail}
    if errors:
        body["errors"] = {k: v if isinstance(v, list) else [v] for k, v in errors.items()}
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)


def from_exception(exc: BaseException) -> Response:
    if isinstance(exc, DomainError):
        response = problem(exc.status, exc.message, _flatten(exc.errors),
                           rule=exc.info.get("rule"))
        if exc.info.get("retry_after") is not None:   # not yet possible: ask again then
            response.headers["Retry-After"] = str(exc.info["retry_after"])
        return response
    if isinstance(exc, HTTPException):
        return problem(exc.code or 500, exc.description or exc.name)
    if isinstance(exc, BadRequest):
        return problem(400, str(exc))
    if isinstance(exc, RpcTimeout):
        return problem(504, str(exc))
    if isinstance(exc, UnknownService):
        return problem(503, f"service {exc.service_name} is not running")
    if isinstance(exc, RemoteError):
        log.error("a service failed: %s: %s", exc.exc_type, exc.value)
        return problem(502, f"a service failed ({exc.exc_type})")
    log.exception("unhandled error in the gateway", exc_info=exc)
    return problem(500, "an unexpected error; it has been logged")


def _flatten(errors: dict, prefix: str = "") -> dict:
    """marshmallow nests errors by field; problem details name each field by its path."""
    flat = {}
    for key, value in (errors or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value if isinstance(value, list) else [value]
    return flat
