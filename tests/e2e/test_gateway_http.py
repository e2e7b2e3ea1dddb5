"""The slice through the public door: HTTP with a token, every service running."""


import pytest
import requests

from services.enrollment.service import EnrollmentService
from services.gateway.service import GatewayService
from services.gateway.tokens import create
from services.reporting.service import ReportingService
from services.scheduling.service import SchedulingService
from tests.support.classes import PROGRAM, secretaries_class
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


def test_a_session_completed_over_http_shows_in_the_class_progress(system):
    _, base, auth = system
    program = requests.post(f"{base}/api/v1/programs", json=PROGRAM, headers=auth, timeout=10)
    assert program.status_code == 201, program.text
    created = requests.post(f"{base}/api/v1/classes", headers=auth, timeout=10,
                            json=secretaries_class(program.json()["program_id"]))
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
