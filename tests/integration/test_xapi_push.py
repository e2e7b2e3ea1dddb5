"""xAPI through the running services: reporting draws the statements from the events it was
told (the small district with issue 13's flows: 21 statements, 17 of committee C1's people, 4 of
C2's), the gateway answers them as StatementResults and pushes them to the LRS that
XAPI_LRS_URL names — here the stand-in (tests/support/lrs.py), which first answers 503, then is
down, then takes them: every statement arrives, once, and the gateway answers meanwhile."""

import json
import re
import time
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import tincan
from click.testing import CliRunner
from sqlalchemy import select

from services.cli import main
from services.gateway import xapi_push
from services.gateway.tokens import create
from services.kit.database import make_engine
from tests.support.districts import uid, unit_district
from tests.support.lrs import StandInLrs
from tests.support.system import reporting_behind_the_gateway
from tests.support.waiting import wait_until

HOME = "https://peixun.fengxian.example.cn"
PATH = "/api/v1/xapi/statements"


@pytest.fixture
def lrs():
    stand_in = StandInLrs(user="district", password="s3cret").start()
    stand_in.answer_503(2)
    yield stand_in
    stand_in.stop()


@pytest.fixture
def system(runner_factory, service_config, database_urls, publish, rpc, lrs, monkeypatch):
    for name, value in {"XAPI_LRS_URL": lrs.url, "XAPI_LRS_USER": "district",
                        "XAPI_LRS_PASSWORD": "s3cret", "XAPI_PUSH_BATCH": "5",
                        "XAPI_PUSH_INTERVAL": "1", "XAPI_SETTLE_SECONDS": "0.5",
                        "PEIXUN_XAPI_HOMEPAGE": HOME}.items():
        monkeypatch.setenv(name, value)
    base = reporting_behind_the_gateway(runner_factory, service_config, publish, rpc,
                                        unit_district().events, timeout=30)
    time.sleep(0.6)   # past the settling window

    def token(role, org=None, classes=None):
        return {"Authorization": f"Bearer {create(role, org, classes, database_url=url)}"}

    url = database_urls["gateway"]
    return base, token, url


def pull(base, headers, **params):
    return requests.get(f"{base}{PATH}", headers=headers, params=params, timeout=30)


def pull_all(base, headers, limit=8) -> tuple[list[dict], int]:
    statements, pages, response = [], 0, pull(base, headers, limit=limit)
    while True:
        assert response.status_code == 200, response.text
        assert response.headers["X-Experience-API-Version"] == "1.0.3"
        body = response.json()
        statements += body["statements"]
        pages += 1
        if not body["more"]:
            assert body["more"] == ""
            return statements, pages
        assert body["more"].startswith(f"{PATH}?")
        response = requests.get(f"{base}{body['more']}", headers=headers, timeout=30)


def push_state(url, lrs):
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(select(xapi_push.xapi_push).where(
                xapi_push.xapi_push.c.lrs_url == lrs.url)).mappings().first()
    finally:
        engine.dispose()


def test_the_push_reaches_the_lrs_through_an_outage_each_statement_once(
        system, lrs, rpc, amqp_uri, monkeypatch):
    base, token, gateway_db = system
    admin = token("district_admin")
    wait_until(lambda: lrs.answers.count(503) == 2, timeout=20, message="two 503s")
    lrs.stop()
    wait_until(lambda: (push_state(gateway_db, lrs) or {}).get("failures", 0) >= 3,
               timeout=20, message="a refused connection")
    # Operators see it (`peixun status` shows the gateway's health()).
    push = rpc.gateway.health()["xapi_push"]
    assert push["lrs_url"] == lrs.url and push["failures"] >= 3 and push["pushed"] == 0
    assert push["last_error"] and push["next_attempt_at"]
    monkeypatch.setenv("AMQP_URI", amqp_uri)
    screen = CliRunner().invoke(main, ["status", "--timeout", "2"]).stdout
    assert re.search(rf"gateway\s+ok\s+xAPI push to {re.escape(lrs.url)}: 0 statements; "
                     r"FAILING \(\d+ in a row, next try 20\d\d-\d\d-\d\d \d\d:\d\d:\d\d UTC\): "
                     r"the LRS at ", screen), screen
    # The services answer while the LRS is away.
    started = time.monotonic()
    assert pull(base, admin, limit=1).status_code == 200
    assert time.monotonic() - started < 2
    assert lrs.statements == {}
    lrs.start()

    wait_until(lambda: len(lrs.statements) == 21, timeout=60, message="21 statements pushed")
    expected = [s["id"] for s in rpc.reporting.xapi_statements(None, 500)["statements"]]
    assert lrs.taken == expected                       # every one, once, in order
    state = push_state(gateway_db, lrs)
    assert (state["pushed"], state["failures"], state["last_error"]) == (21, 0, None)
    assert lrs.answers.count(503) == 2 and set(lrs.answers[2:]) == {200}
    push = rpc.gateway.health()["xapi_push"]
    assert (push["pushed"], push["failures"], push["last_error"]) == (21, 0, None)


def test_statements_come_as_pages_of_a_statement_result(system):
    base, token, _ = system
    statements, pages = pull_all(base, token("district_admin"))
    assert pages == 3 and len(statements) == 21
    assert len({s["id"] for s in statements}) == 21
    assert len(tincan.StatementList.from_json(json.dumps(statements))) == 21
    assert {s["actor"]["account"]["homePage"] for s in statements} == {HOME}
    again, _ = pull_all(base, token("district_admin"), limit=500)
    assert [s["id"] for s in again] == [s["id"] for s in statements]
    first = pull(base, token("district_admin"), limit=8,
                 since="2020-01-01T00:00:00+08:00").json()
    assert parse_qs(urlparse(first["more"]).query)["since"] == ["2020-01-01T00:00:00+08:00"]
    assert pull(base, token("district_admin"), since="2099-01-01T00:00:00Z").json() == {
        "statements": [], "more": ""}


def test_each_reader_sees_its_own_subtree(system):
    base, token, _ = system
    c1, _ = pull_all(base, token("committee_admin", "C1"))
    assert len(c1) == 17
    assert {s["actor"]["account"]["name"] for s in c1} == {"S11", "S12", "M1", "M2"}
    g21, _ = pull_all(base, token("org_admin", "G21"))
    assert {s["actor"]["account"]["name"] for s in g21} == {"S21"} and len(g21) == 4
    assert len(pull_all(base, token("system"))[0]) == 21
    assert pull(base, token("checkin", classes=[uid("K1")])).status_code == 403
    assert pull(base, {}).status_code == 401


BAD_QUERIES = [
    ({"since": "2026-03-01T00:00:00"}, "since"), ({"since": "last week"}, "since"),
    ({"since": "0001-01-01T00:00:00+08:00"}, "since"),
    ({"limit": "0"}, "limit"), ({"limit": "501"}, "limit"), ({"limit": "many"}, "limit"),
    ({"cursor": "abc"}, "cursor"), ({"verb": "attended"}, "verb")]


def test_a_bad_query_is_a_400_problem_naming_the_field(system):
    base, token, _ = system
    for params, field in BAD_QUERIES:
        response = pull(base, token("district_admin"), **params)
        assert response.status_code == 400, params
        assert response.headers["Content-Type"] == "application/problem+json"
        assert set(response.json()["errors"]) == {field}, response.json()
