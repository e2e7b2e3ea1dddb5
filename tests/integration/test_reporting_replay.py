"""`peixun replay` on PostgreSQL with the live service running: the rebuild gives byte-identical
JSON reports, live handlers wait while it holds the log, reports asked for meanwhile are refused."""

import base64
import json

import psycopg2
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from services.kit.database import make_engine
from services.kit.errors import Rebuilding
from services.reporting import models, projections, replay
from services.reporting.service import ReportingService
from tests.support.databases import blocked_by, truncate_all
from tests.support.districts import District, send, small_district, snapshot, uid, unit_district
from tests.support.waiting import wait_until

REPORTS = [("class-record", {"class_id": uid("K1")}), ("class-record", {"class_id": uid("K2")}),
           ("class-plan", {"class_id": uid("K1")}), ("annual-summary", {"year": 2026}),
           ("annual-summary", {"year": 2026, "org_code": "C1"}),
           ("coverage-gaps", {"year": 2026}), ("personal-archive", {"member_no": "S12"}),
           ("filing-status", {"year": 2026, "as_of": "2026-06-01"})]
# The unit district's too: unit programs, reviewed nominations, a live viewer, a changed class,
# names, study hours from elsewhere (one withdrawn).
UNIT_REPORTS = [*REPORTS, ("class-record", {"class_id": uid("K5")}),
                ("class-record", {"class_id": uid("K6")}), ("class-plan", {"class_id": uid("K4")}),
                ("personal-archive", {"member_no": "M1"}),
                ("personal-archive", {"member_no": "M2"})]


@pytest.fixture
def reporting(container_factory, service_config):
    container = container_factory(ReportingService, service_config)
    container.start()
    return container


@pytest.fixture
def url(database_urls):
    return database_urls["reporting"]


def pull_all(rpc, reports=REPORTS):
    answers = [rpc.reporting.report(name, params) for name, params in reports]
    return [(a["cached"], base64.b64decode(a["content_b64"])) for a in answers]


def handled(rpc, n):
    wait_until(lambda: rpc.reporting.replay_state()["events"] == n, timeout=30,
               message=f"{n} events handled")


def test_a_replay_gives_byte_identical_json_reports_to_the_live_path(reporting, publish, rpc,
                                                                     url):
    events = unit_district().events
    send(publish, events)
    handled(rpc, len(events))
    live = pull_all(rpc, UNIT_REPORTS)
    assert not any(cached for cached, _ in live)

    engine = make_engine(url)
    result = replay.replay(engine, batch=7)
    engine.dispose()
    assert result.events == len(events)

    rebuilt = pull_all(rpc, UNIT_REPORTS)
    assert not any(cached for cached, _ in rebuilt)   # built afresh from the rebuilt models
    for (name, params), (_, before), (_, after) in zip(UNIT_REPORTS, live, rebuilt,
                                                       strict=True):
        assert after == before, f"{name} {params}"
    summary = json.loads(rebuilt[3][1])
    assert [(t["district_person_times"], t["unit_person_times"]) for t in summary["tracks"]] == \
        [(2, 1), (2, 1)]
    assert summary["study_hours"]["groups"][1]["other_hours"] == 6.0   # M2's 5 withdrawn
    assert json.loads(rebuilt[10][1])["class"]["title"] == "K4班（调整）"
    assert json.loads(rebuilt[11][1])["person"]["name"] == "赵丽"


def test_live_handlers_wait_while_a_replay_holds_the_log_and_reports_are_refused(
        reporting, publish, rpc, url):
    replaying = psycopg2.connect(url)
    replaying.autocommit = True
    with replaying.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(hashtext(%s))", (projections.REPLAY_LOCK,))
    engine = make_engine(url)

    def orgs():
        with engine.connect() as connection:
            return connection.execute(select(models.rp_org.c.org_code)).scalars().all()

    try:
        w = District()
        w.org("FX", "奉贤区委", None, "district")
        send(publish, w.events)
        # The handler has the event and waits for the replay's lock: not applied, not failed.
        wait_until(lambda: blocked_by(engine, replaying.get_backend_pid()),
                   message="the live handler to wait for the replay's lock")
        assert orgs() == []
        with pytest.raises(Rebuilding):
            rpc.reporting.report("annual-summary", {"year": 2026})
    finally:
        with replaying.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", (projections.REPLAY_LOCK,))
        replaying.close()
    wait_until(lambda: orgs() == ["FX"], message="the event applied once the replay is done")
    engine.dispose()


def test_peixun_replay_rebuilds_with_a_progress_bar(reporting, publish, rpc, url, monkeypatch):
    from services.cli import main

    events = small_district().events
    send(publish, events)
    handled(rpc, len(events))
    before = pull_all(rpc)
    monkeypatch.setenv("REPORTING_DATABASE_URL", url)
    outcome = CliRunner().invoke(main, ["replay", "--batch", "10"])
    assert outcome.exit_code == 0, outcome.output
    assert f"replaying {len(events)} events" in outcome.output
    assert f"replayed {len(events)} events" in outcome.output
    assert "generation 1" in outcome.output
    assert [content for _, content in pull_all(rpc)] == [content for _, content in before]


def test_the_sql_and_python_projections_give_the_same_rows(database_urls):
    """PostgreSQL runs each projection as SQL; SQLite (and the unit tests) run it in Python."""
    from sqlalchemy.orm import Session

    from services.kit import migrate

    url = database_urls["reporting"]
    engine = make_engine(url)
    migrate.upgrade(engine, "reporting")
    events = unit_district().events
    rows = {}
    for via in ("python", "sql"):
        truncate_all(url)
        with Session(engine) as session, session.begin():
            for start in range(0, len(events), 9):
                projections.apply(session, events[start:start + 9], via=via)
        rows[via] = snapshot(engine)
    engine.dispose()
    assert rows["sql"] == rows["python"]
    assert sum(len(v) for v in rows["sql"].values()) > 50


def test_after_a_replay_that_failed_half_way_reports_are_refused_until_one_finishes(
        reporting, publish, rpc, url, monkeypatch):
    events = small_district().events
    send(publish, events)
    handled(rpc, len(events))
    engine = make_engine(url)
    applied = []
    real = replay._apply_batch

    def crash_on_the_third(engine_, task):
        if len(applied) == 2:
            raise ConnectionError("the database went away")
        applied.append(task)
        return real(engine_, task)

    monkeypatch.setattr(replay, "_apply_batch", crash_on_the_third)
    with pytest.raises(ConnectionError):
        replay.replay(engine, batch=5, jobs=1)
    with pytest.raises(Rebuilding, match="did not finish"):
        rpc.reporting.report("annual-summary", {"year": 2026})
    monkeypatch.undo()
    replay.replay(engine, batch=5)
    engine.dispose()
    answer = json.loads(base64.b64decode(
        rpc.reporting.report("annual-summary", {"year": 2026})["content_b64"]))
    assert answer["coverage"]["rate"] == 0.5
