"""The gateway's HTTP entrypoint: commit before answering, JSON in and out, problem details."""

import json
import sys
import time

from nameko.web.handlers import HttpRequestHandler
from werkzeug.wrappers import Response

from services.kit.database import commit_worker, find_database
from services.kit.errors import DomainError, InvalidInput
from services.kit.metrics import Metrics
from services.kit.validation import load

from . import audit, problems

MAX_BODY = 1024 * 1024


class Http(HttpRequestHandler):
    """`@http(method, url, body=Schema, query=Schema, produces={type: schema}, created=True,
    public=True, tag="…")`: the documentation arguments feed the OpenAPI document.

    `created`: True for 201, or the tuple of success statuses when the route answers either
    (`(200, 201)`). `body_required=False`: the body may be left out. `page=True`: the answer
    is a page, `{items, total, page, per_page}`. `path={name: json_schema}`: what a path
    parameter may be (a string by default). `document=False`: not part of the API (the admin
    pages), so left out of the OpenAPI document.

    A route's `body` is checked against its schema before the route runs: a field that is not
    the documented type answers 422 naming it, whatever the route then does with the body
    (once a service's TypeError on a raw value answered 502). The services still validate
    what reaches them."""

    metrics = Metrics()

    def __init__(self, method, url, *, body=None, query=None, produces=None, created=False,
                 public=False, tag=None, body_required=True, page=False, path=None,
                 document=True, **kwargs):
        kwargs.setdefault("expected_exceptions", (DomainError,))
        super().__init__(method, url, **kwargs)
        self.body, self.query, self.produces = body, query, produces
        self.body_schema = body() if isinstance(body, type) else body
        self.created, self.public, self.tag = created, public, tag
        self.body_required, self.page, self.path = body_required, page, path
        self.document = document

    @property
    def success_statuses(self) -> tuple[int, ...]:
        if isinstance(self.created, (tuple, list)):
            return tuple(self.created)
        return (201,) if self.created else (200,)

    def get_entrypoint_parameters(self, request):
        if self.body_schema is not None:
            request.max_content_length = MAX_BODY
            if self.body_required or request.get_data(cache=True).strip():
                load(self.body_schema, json_body(request))
        return super().get_entrypoint_parameters(request)

    def handle_request(self, request):
        started = time.perf_counter()
        response = super().handle_request(request)
        # Before the answer leaves, so that whoever reads the trail next finds this write.
        audit.record(find_database(self.container).engine, request, self.url,
                     response.status_code)
        # Labelled by the route's template, never the path: the label values stay bounded.
        figures = self.metrics.figures
        figures.http_requests.labels(self.url, self.method, str(response.status_code)).inc()
        figures.http_request_seconds.labels(self.url, self.method).observe(
            time.perf_counter() - started)
        return response

    def handle_result(self, event, worker_ctx, result, exc_info):
        if exc_info is None:
            try:
                commit_worker(worker_ctx)
            except Exception:  # noqa: BLE001 - answered as a problem
                result, exc_info = None, sys.exc_info()
        return super().handle_result(event, worker_ctx, result, exc_info)

    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        return json_response(result)

    def response_from_exception(self, exc):
        return problems.from_exception(exc)


http = Http.decorator


def json_response(data, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status=status,
                    mimetype="application/json", headers=headers)


def json_body(request) -> dict:
    """The request's JSON object, or a 4xx that says what is wrong with it."""
    request.max_content_length = MAX_BODY
    if request.mimetype != "application/json":
        raise InvalidInput("the body must be application/json",
                           errors={"Content-Type": ["expected application/json"]})
    try:
        data = json.loads(request.get_data(cache=True) or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput("the body is not valid JSON", errors={"body": [str(exc)]}) from None
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object", errors={"body": ["not an object"]})
    return data


def optional_json_body(request) -> dict:
    """A body that may be left out entirely (a reason for a cancellation or a withdrawal)."""
    return json_body(request) if request.get_data(cache=True).strip() else {}
