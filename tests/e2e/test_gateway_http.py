"""The slice through the public door: HTTP with a token, every service running."""

import re
import uuid

import pytest
import requests

from services.enrollment.service import EnrollmentService
from services.gateway.service import GatewayService
from services.gateway.tokens import create
from services.kit import clock
from services.reporting.service import ReportingService
from services.scheduling.service import SchedulingService
from tests.support.classes import PROGRAM, core_course, secretaries_class
from tests.support.system import free_port
from tests.support.waiting import wait_until


@pytest.fixture
def web_config(service_config):
    port = free_port()
    return {**service_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"}, \
        f"http://127.0.0.1:{port}"


@pytest.fixture
def system(runner_factory, web_config, database_urls):
    config, base = web_config
    runner = runner_factory(config, SchedulingService, EnrollmentService, ReportingService,
                            GatewayService)
    runner.start()
    token = create("district_admin", database_url=database_urls["gateway"])
    return runner, base, {"Authorization": f"Bearer {token}"}


def test_health_names_every_service(system):
    _, base, _ = system
    response = requests.get(f"{base}/health", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "services": {
        "gateway": "ok", "scheduling": "ok", "enrollment": "ok", "reporting": "ok"}}


def test_health_answers_503_naming_the_service_that_did_not_answer(
        runner_factory, web_config):
    config, base = web_config
    runner_factory(config, SchedulingService, GatewayService).start()
    response = requests.get(f"{base}/health", timeout=10)
    assert response.status_code == 503
    assert response.json()["services"]["reporting"] == "unavailable"
    assert response.json()["services"]["scheduling"] == "ok"


def test_a_session_completed_over_http_shows_in_the_class_progress(system, rpc):
    _, base, auth = system
    program = requests.post(f"{base}/api/v1/programs", json=PROGRAM, headers=auth, timeout=10)
    assert program.status_code == 201, program.text
    created = requests.post(f"{base}/api/v1/classes", headers=auth, timeout=10,
                            json=secretaries_class(program.json()["program_id"],
                                                   core_course(rpc.scheduling)))
    assert created.status_code == 201, created.text
    class_id = created.json()["class_id"]
    assert created.headers["Location"] == f"/api/v1/classes/{class_id}"
    session_id = created.json()["sessions"][0]["session_id"]

    done = requests.post(f"{base}/api/v1/sessions/{session_id}/complete", headers=auth,
                         timeout=10)
    assert done.status_code == 200 and done.json()["status"] == "completed"
    again = requests.post(f"{base}/api/v1/sessions/{session_id}/complete", headers=auth,
                          timeout=10)
    assert again.status_code == 409
    assert again.headers["Content-Type"] == "application/problem+json"

    def progress():
        answer = requests.get(f"{base}/api/v1/classes/{class_id}/progress", headers=auth,
                              timeout=10)
        return answer.status_code == 200 and answer.json()

    assert wait_until(progress)["completed_hours"] == 1.5


def test_bad_input_is_a_problem_naming_each_field_and_changes_nothing(system):
    _, base, auth = system
    response = requests.post(f"{base}/api/v1/programs", headers=auth, timeout=10, json={
        "year": "2026", "track": "everyone", "organiser_org_code": "FX", "name": "n",
        "target_person_times": 1, "surprise": "<script>alert(1)</script>"})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) == {"year", "track", "surprise"}
    assert requests.post(f"{base}/api/v1/programs", headers=auth, timeout=10,
                         data=b"{not json", ).status_code in (400, 422)
    big = requests.post(f"{base}/api/v1/programs", headers={**auth,
                        "Content-Type": "application/json"}, data=b" " * (2 * 1024 * 1024),
                        timeout=10)
    assert big.status_code == 413


def test_without_a_token_the_api_answers_401(system):
    _, base, _ = system
    response = requests.get(f"{base}/api/v1/classes/x", timeout=10)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"


def test_a_filing_of_a_kind_that_is_not_text_is_a_problem_naming_it(system):
    _, base, auth = system
    answer = requests.post(f"{base}/api/v1/classes/{uuid.uuid4()}/filings", headers=auth,
                           json={"kind": {}}, timeout=10)
    assert answer.status_code == 422, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert list(answer.json()["errors"]) == ["kind"]


HOURS_ORGS = [{"row": 2, "org_code": "FX", "name": "区委", "parent_code": "", "kind": "committee",
               "sector": ""},
              {"row": 3, "org_code": "FX01", "name": "甲镇党委", "parent_code": "FX",
               "kind": "committee", "sector": ""},
              {"row": 4, "org_code": "FX02", "name": "乙镇党委", "parent_code": "FX",
               "kind": "committee", "sector": ""}]


def test_study_hours_from_elsewhere_are_recorded_counted_and_withdrawn_over_http(
        system, rpc, database_urls):
    _, base, auth = system
    rpc.enrollment.import_orgs(HOURS_ORGS)
    rpc.enrollment.import_members([{"row": 2, "member_no": "S1", "name": "张三",
                                    "org_code": "FX01", "joined_on": "2010-07-01",
                                    "employment": "enterprise"}])
    year = clock.today().year
    url = f"{base}/api/v1/members/S1/study-hours"
    body = {"year": year, "hours": 4, "source": "online", "title": "远程教育平台专题学习",
            "on": f"{year}-01-01"}
    created = requests.post(url, headers=auth, json=body, timeout=10)
    assert created.status_code == 201, created.text
    entry = created.json()
    assert (entry["member_no"], entry["hours"], entry["withdrawn"]) == ("S1", 4.0, False)
    assert entry["recorded_by"] == "district_admin:-"
    again = requests.post(url, headers=auth, json=body, timeout=10)
    assert (again.status_code, again.json()["entry_id"]) == (200, entry["entry_id"])

    outside = create("committee_admin", org_code="FX02", database_url=database_urls["gateway"])
    refused = requests.post(url, json={**body, "hours": 1}, timeout=10,
                            headers={"Authorization": f"Bearer {outside}"})
    assert refused.status_code == 403
    wrong_day = requests.post(url, headers=auth, json={**body, "on": f"{year - 1}-12-31"},
                              timeout=10)
    assert wrong_day.status_code == 422 and list(wrong_day.json()["errors"]) == ["on"]

    figures = requests.get(url, headers=auth, params={"year": year}, timeout=10).json()
    assert figures["years"] == [{"year": year, "class_hours": 0, "other_hours": 4.0,
                                 "total_hours": 4.0, "quota_hours": 32, "reached": False}]
    assert [e["entry_id"] for e in figures["entries"]] == [entry["entry_id"]]

    withdrawn = requests.post(f"{url}/{entry['entry_id']}/withdraw", headers=auth, timeout=10)
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn"] is True
    figures = requests.get(url, headers=auth, params={"year": year}, timeout=10).json()
    assert figures["years"][0]["other_hours"] == 0
    assert requests.get(url, headers=auth, params={"year": "soon"},
                        timeout=10).status_code == 422


# -- every body field of the wrong type ------------------------------------------------------------
# From the document the gateway serves: each write route, each field of its body (and of the
# objects in its lists), sent alone with a value of another JSON type. The answer is a 4xx
# problem naming the field, never a 5xx: a wrong type once reached a service as it was (a
# filing's {"kind": {}} answered 502).

# (A number's own digits as text are read as the number, as marshmallow reads them.)
WRONG = {"string": [{}, [], 7, True], "integer": ["7", {}, [], 1.5, True],
         "number": ["seven", {}, [], True], "boolean": [{}, [], "maybe", 7],
         "array": [{}, "x", 7], "object": [[], "x", 7]}
STAND_IN = "6f1c2a3e-8d4b-4c1e-9a7f-2b5d8e0c1f3a"   # any path parameter: the body fails first


def _resolved(document, schema):
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def wrong_bodies(document, schema, prefix=""):
    """(field path, body) for each field of the schema with each wrong value of its type."""
    for name, field in _resolved(document, schema).get("properties", {}).items():
        field = _resolved(document, field)
        for value in WRONG.get(field.get("type"), []):
            yield f"{prefix}{name}", {name: value}
        items = _resolved(document, field.get("items", {}))
        if field.get("type") == "array" and items.get("properties"):
            for path, body in wrong_bodies(document, items, f"{prefix}{name}.0."):
                yield path, {name: [body]}


def written_routes(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                yield method.upper(), re.sub(r"\{[^}]+\}", STAND_IN, path), body["schema"]


def test_every_body_field_of_the_wrong_type_is_a_problem_naming_it(system):
    _, base, auth = system
    document = requests.get(f"{base}/api/v1/openapi.json", timeout=30).json()
    routes, sent, wrong = list(written_routes(document)), 0, []
    for method, path, schema in routes:
        for field, body in wrong_bodies(document, schema):
            answer = requests.request(method, base + path, json=body, headers=auth, timeout=30)
            sent += 1
            named = answer.status_code < 500 and any(
                key == field or key.startswith(f"{field}.")
                for key in answer.json().get("errors", {}))
            if not (400 <= answer.status_code < 500 and named):
                wrong.append(f"{method} {path} {body}: {answer.status_code} {answer.text[:200]}")
    assert len(routes) > 15 and sent > 100
    assert not wrong, "\n".join(wrong)
