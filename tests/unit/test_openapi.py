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


# -- summaries, links and examples (issue 17 part 7) -------------------------------------------

def test_every_summary_is_a_whole_short_sentence(document):
    for path, verb, method, _ in entrypoints():
        summary = document["paths"][path][verb]["summary"]
        assert len(summary) <= openapi.MAX_SUMMARY, f"{verb} {path}: {summary}"
        assert summary[-1] in ".。!?", f"{verb} {path} ends mid-sentence: {summary!r}"
        assert not summary.startswith(("`", "{")), f"{verb} {path} starts with a body shape"
        assert inspect.getdoc(method), f"{verb} {path}: no docstring to summarise"
        doc = " ".join(inspect.getdoc(method).split())
        assert doc.startswith(summary), f"{verb} {path}: not the docstring's first sentence"
        rest = document["paths"][path][verb].get("description", "")
        assert " ".join(f"{summary} {rest}".split()) == doc, f"{verb} {path}: text lost"


def test_a_long_first_line_is_not_cut_into_the_summary():
    summary, description = openapi.summary_and_description(
        "Closes the class once every session is held or cancelled. `warnings` says when\n"
        "nobody attended.\n\nMore.")
    assert summary == "Closes the class once every session is held or cancelled."
    assert description == "`warnings` says when nobody attended. More."


def test_every_operation_has_a_stable_unique_operation_id(document):
    for path, verb, method, _ in entrypoints():
        assert document["paths"][path][verb]["operationId"] == method.__name__


def _by_id(document):
    return {op["operationId"]: (path, op) for path, _, op in operations(document)}


def test_links_name_real_operations_and_give_their_path_parameters(document):
    by_id, seen = _by_id(document), 0
    for _, _, op in operations(document):
        for response in op["responses"].values():
            for name, link in response.get("links", {}).items():
                seen += 1
                _, target = by_id[link["operationId"]]
                path_params = {p["name"] for p in target["parameters"] if p["in"] == "path"}
                query_params = {p["name"] for p in target["parameters"] if p["in"] == "query"}
                given = set(link["parameters"])
                assert {g for g in given if not g.startswith("query.")} == path_params, name
                assert {g[6:] for g in given if g.startswith("query.")} <= query_params, name
                for value in link["parameters"].values():
                    assert not value.startswith("$") or \
                        re.fullmatch(r"\$(response\.body#(/[\w]+)+|request\.path\.\w+)", value)
    assert seen >= 40


def test_created_ids_feed_the_operations_that_take_them(document):
    by_id = _by_id(document)

    def targets(source, status="201"):
        links = by_id[source][1]["responses"][status]["links"]
        return {(link["operationId"], link["parameters"].get("report")) for link in links.values()}

    assert {("add_session", None), ("nominate", None), ("list_enrolments", None),
            ("publish_class", None), ("file_report", None), ("class_filings", None),
            ("get_report", "class-record"), ("get_report", "class-plan")} <= targets("create_class")
    assert {("check_in", None), ("check_in_batch", None), ("correct_attendance", None),
            ("session_attendance", None)} <= targets("add_session")
    assert {("accept_nomination", None), ("reject_nomination", None), ("withdraw", None),
            ("enrolment_certificate", None)} <= targets("nominate")
    assert {("get_program", None), ("update_program", None)} <= targets("create_program")
    assert {("update_venue", None)} <= targets("create_venue")
    assert {("update_course", None)} <= targets("create_course")
    assert {("acknowledge_filing", None), ("return_filing", None),
            ("get_filing", None)} <= targets("file_report")
    link = by_id["create_class"][1]["responses"]["201"]["links"]["add_session"]
    assert link["parameters"] == {"class_id": "$response.body#/class_id"}


def test_every_body_has_an_example_its_own_schemas_accept(document):
    for path, verb, _, entrypoint in entrypoints():
        if entrypoint.body is None:
            continue
        media = document["paths"][path][verb]["requestBody"]["content"]["application/json"]
        assert "demo" in media.get("examples", {}), f"{verb} {path} has no example"
        example = media["examples"]["demo"]["value"]
        entrypoint.body_schema.load(example)      # what the gateway checks before the route
        jsonschema.Draft4Validator(
            {"allOf": [_nullable(media["schema"])],
             "components": {"schemas": {name: _nullable(schema) for name, schema in
                                        document["components"]["schemas"].items()}}}
        ).validate(example)


def test_examples_fall_in_the_current_year_even_at_its_end():
    from datetime import date
    body = openapi.examples(date(2027, 12, 30))["create_class"]
    assert body["start_date"] == body["end_date"] == "2027-12-31"
    assert openapi.examples(date(2027, 3, 1))["create_program"]["year"] == 2027


def _nullable(schema):
    """OpenAPI 3.0's `nullable` as JSON Schema says it."""
    if isinstance(schema, list):
        return [_nullable(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _nullable(v) for k, v in schema.items() if k != "nullable"}
    if schema.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def test_the_examples_name_what_the_seeded_demo_district_leaves_free():
    """FX01 runs no program of its own in `peixun seed` (the largest committees do), and
    3101200000001 sits as a secretary below it, in the full district and the small one."""
    from collections import Counter

    from demo import district as demo_district
    for district in (demo_district.generate(seed=2026), demo_district.small()):
        parent = {o.org_code: o.parent_code for o in district.orgs}
        people = Counter(parent[m.org_code] for m in district.members)
        largest = sorted(people, key=lambda code: (-people[code], code))[:4]
        assert openapi.DEMO_ORGANISER not in largest
        secretary = next(m for m in district.members if m.member_no == openapi.DEMO_SECRETARY)
        assert secretary.secretary_of and parent[secretary.secretary_of] == \
            openapi.DEMO_ORGANISER
