"""The OpenAPI document the gateway serves, built from its routes without a broker: valid
OpenAPI 3.0, every path parameter declared, every body, filter and page documented."""

import inspect
import re

import jsonschema
import pytest

from services.gateway import openapi
from services.gateway.service import GatewayService

METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
def document():
    return openapi.build(GatewayService)


def operations(document):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def entrypoints():
    for method, entrypoint in openapi.routes(GatewayService):
        for verb in entrypoint.method.split(","):
            path = openapi.PATH_PARAM.sub(r"{\1}", entrypoint.url)
            yield path, verb.lower(), method, entrypoint


def test_the_document_is_valid_openapi_3_0(document):
    try:
        from openapi_spec_validator import validate
    except ImportError:   # schemathesis carries the OpenAPI 3.0 meta-schema itself
        from schemathesis.specs.openapi.definitions import OPENAPI_30
        jsonschema.Draft4Validator(OPENAPI_30).validate(document)
    else:
        validate(document)
    assert document["openapi"].startswith("3.0")


def test_every_route_is_documented_once(document):
    documented = {(path, method) for path, method, _ in operations(document)}
    routes = [(path, verb) for path, verb, _, _ in entrypoints()]
    assert len(routes) == len(set(routes)) == len(documented)
    assert set(routes) == documented
    ids = [op["operationId"] for _, _, op in operations(document)]
    assert len(ids) == len(set(ids))


def test_every_path_parameter_is_declared(document):
    for path, _, op in operations(document):
        named = set(re.findall(r"{([^}]+)}", path))
        declared = {p["name"] for p in op["parameters"] if p["in"] == "path"}
        assert named == declared, path
        assert all(p["required"] for p in op["parameters"] if p["in"] == "path")


def test_every_route_that_reads_a_json_body_documents_it(document):
    for path, verb, method, _ in entrypoints():
        op = document["paths"][path][verb]
        source = _source(method)
        reads_body = "json_body(" in source     # optional_json_body( too
        assert reads_body == ("requestBody" in op), f"{verb} {path}"
        if reads_body:
            body = op["requestBody"]
            assert "application/json" in body["content"]
            assert body["required"] is ("optional_json_body(" not in source)


def test_bodies_name_their_fields_and_what_is_required(document):
    program = _resolve(document, document["paths"]["/api/v1/programs"]["post"]
                       ["requestBody"]["content"]["application/json"]["schema"])
    assert {"year", "track", "organiser_org_code", "name"} <= set(program["required"])
    changes = _resolve(document, document["paths"]["/api/v1/classes/{class_id}"]["patch"]
                       ["requestBody"]["content"]["application/json"]["schema"])
    assert "title" in changes["properties"] and not changes.get("required")


def test_list_filters_are_query_parameters(document):
    params = {p["name"] for p in document["paths"]["/api/v1/classes"]["get"]["parameters"]
              if p["in"] == "query"}
    assert {"year", "track", "status", "page", "per_page"} <= params
    assert "include_drafts" not in params   # the gateway sets it from the caller's role
    report = document["paths"]["/api/v1/reports/{report}"]["get"]["parameters"]
    assert {"format", "year", "class_id", "member_no", "org_code", "as_of"} <= \
        {p["name"] for p in report if p["in"] == "query"}


def test_lists_answer_a_page(document):
    page = document["components"]["schemas"]["Page"]
    assert set(page["required"]) == {"items", "total", "page", "per_page"}
    for path in ("/api/v1/programs", "/api/v1/classes", "/api/v1/organisations",
                 "/api/v1/anomalies", "/api/v1/filings/inbox"):
        schema = document["paths"][path]["get"]["responses"]["200"]["content"][
            "application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Page"}, path


def test_files_and_calendars_document_their_content_types(document):
    report = document["paths"]["/api/v1/reports/{report}"]["get"]["responses"]["200"]
    assert {"application/json", "text/csv", "application/pdf", "image/png",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"} == \
        set(report["content"])
    calendar = document["paths"]["/api/v1/calendars/classes/{class_id}.ics"]["get"]
    assert set(calendar["responses"]["200"]["content"]) == {"text/calendar"}


def test_created_and_either_statuses_are_documented(document):
    assert "201" in document["paths"]["/api/v1/programs"]["post"]["responses"]
    assert "200" not in document["paths"]["/api/v1/programs"]["post"]["responses"]
    check_in = document["paths"]["/api/v1/sessions/{session_id}/attendance"]["post"]
    assert {"200", "201"} <= set(check_in["responses"])


def _source(method) -> str:
    return inspect.getsource(method)


def _resolve(document, schema):
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema
