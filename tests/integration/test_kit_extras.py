"""More of the kit on the real broker: batches, RPC timeouts, JSON logs."""

import uuid

import eventlet
import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.kit import Database, ServiceRpc, event_handler
from services.kit.rpc import RpcTimeout, rpc
from services.reporting import projections
from tests.conftest import wait_until
from tests.integration.test_event_guarantees import progress_of, session_completed


class BatchProbe:
    """A batch consumer writing reporting's read model (its own queue, reporting's database)."""

    name = "batchprobe"
    db = Database(service="reporting")

    @event_handler("scheduling", "session_completed", batch=50)
    def on_session_completed(self, events):
        for event in events:
            if event.data["hours"] == 13:
                raise ValueError("poison")
            projections.session_completed(self.db, event)


def test_a_batch_commits_together_and_one_poison_event_does_not_sink_its_neighbours(
        container_factory, service_config, publish, dead_letters, database_urls):
    container_factory(BatchProbe, service_config).start()
    class_id = str(uuid.uuid4())
    for index in range(200):
        publish("scheduling.events", "session_completed",
                session_completed(class_id, hours=13 if index == 77 else 1).body())

    wait_until(lambda: progress_of(database_urls["reporting"], class_id) == (199, 199.0),
               timeout=30, message="199 good events counted")
    [letter] = dead_letters(1)
    assert letter.headers["x-peixun-reason"] == "ValueError: poison"
    assert letter.headers["x-peixun-original-queue"] == \
        "evt-scheduling-session_completed--batchprobe"


class Slowpoke:
    name = "slowpoke"

    @rpc
    def ponder(self):
        eventlet.sleep(3)
        return "done"


class Caller:
    name = "caller"
    slowpoke = ServiceRpc("slowpoke", timeout=0.3)

    @rpc
    def ask(self):
        try:
            return self.slowpoke.ponder()
        except RpcTimeout as exc:
            return f"gave up: {exc}"


def test_a_call_between_services_gives_up_after_its_timeout(runner_factory, service_config):
    runner_factory(service_config, Slowpoke, Caller).start()
    with ClusterRpcProxy({"AMQP_URI": service_config["AMQP_URI"]}, timeout=10) as proxy:
        answer = proxy.caller.ask()
    assert answer == "gave up: slowpoke.ponder did not answer within 0.3s"


@pytest.mark.parametrize("level", ["INFO"])
def test_service_log_lines_carry_the_call_id_and_event_id(
        container_factory, service_config, publish, caplog, level):
    import logging

    from services.kit.logging import JsonFormatter, LogContext

    class Chatty:
        name = "chatty"
        db = Database(service="reporting")
        log_context = LogContext()

        @event_handler("scheduling", "session_completed")
        def on_session_completed(self, event):
            logging.getLogger("chatty").info("handling")

    caplog.set_level(level)
    container_factory(Chatty, service_config).start()
    event = session_completed()
    publish("scheduling.events", "session_completed", event.body())
    record = wait_until(lambda: next((r for r in caplog.records if r.name == "chatty"), None))
    import json
    line = json.loads(JsonFormatter().format(record))
    assert line["event_id"] == event.id
    assert line["call_id"].startswith("chatty.on_session_completed.")
    assert line["service"] == "chatty"


class TwoHandlers:
    """A batch handler beside a one-at-a-time handler, as every real service has."""

    name = "twohandlers"
    db = Database(service="reporting")

    @event_handler("scheduling", "session_completed", batch=200)
    def on_session_completed(self, events):
        pass

    @event_handler("scheduling", "session_scheduled")
    def on_session_scheduled(self, event):
        pass


def test_each_handler_gets_its_own_prefetch_so_a_batch_can_fill(
        container_factory, service_config, vhost):
    """RabbitMQ applies a channel's last basic.qos to every consumer started after it: on one
    shared channel both would get whichever prefetch was set last."""
    import urllib.parse

    import requests

    from tests.conftest import RABBIT_API, RABBIT_AUTH

    container_factory(TwoHandlers, service_config).start()

    def prefetches():
        consumers = requests.get(f"{RABBIT_API}/consumers/{urllib.parse.quote(vhost, safe='')}",
                                 auth=RABBIT_AUTH, timeout=10).json()
        return {c["queue"]["name"]: c["prefetch_count"] for c in consumers
                if c["queue"]["name"].endswith("--twohandlers")}

    seen = wait_until(lambda: len(prefetches()) == 2 and prefetches())
    assert seen == {"evt-scheduling-session_completed--twohandlers": 400,
                    "evt-scheduling-session_scheduled--twohandlers": 10}


@pytest.mark.parametrize("where", ["postgresql", "sqlite"])
def test_the_inbox_check_finds_exactly_the_consumers_own_seen_ids(where, database_urls,
                                                                    tmp_path):
    """On PostgreSQL each id is looked up by the inbox's unique key, whatever the planner's
    statistics say: with none gathered yet, a list lookup read every row of the consumer
    through reporting's (consumer, position) index."""
    from datetime import UTC, datetime

    from sqlalchemy import delete, insert

    from services.kit import migrate
    from services.kit.database import make_engine
    from services.kit.events import SEEN_ON_POSTGRESQL, seen_ids
    from services.kit.models import inbox

    url = database_urls["reporting"] if where == "postgresql" else \
        f"sqlite:///{tmp_path}/reporting.db"
    engine = make_engine(url)
    migrate.upgrade(engine, "reporting")
    mine, other = f"evt-probe-{uuid.uuid4().hex[:8]}", f"evt-other-{uuid.uuid4().hex[:8]}"
    ids = [str(uuid.uuid4()) for _ in range(3000)]
    row = {"source": "scheduling", "type": "session_completed", "payload": {},
           "received_at": datetime.now(UTC)}
    try:
        with engine.begin() as connection:
            connection.execute(insert(inbox), [
                {**row, "consumer": mine, "event_id": event_id} for event_id in ids[:2000]])
            connection.execute(insert(inbox), [
                {**row, "consumer": other, "event_id": event_id} for event_id in ids[1000:]])
        asked = ids[1500:2500]   # half seen by this consumer; all of them by the other
        with engine.connect() as connection:
            assert seen_ids(connection, mine, asked) == set(ids[1500:2000])
            assert seen_ids(connection, mine, []) == set()
            if where == "postgresql":
                plan = "\n".join(connection.exec_driver_sql(
                    "EXPLAIN " + SEEN_ON_POSTGRESQL, (asked, mine)).scalars())
                assert "uq_inbox_consumer_event" in plan
                assert "ix_inbox_consumer_position" not in plan
    finally:
        with engine.begin() as connection:
            connection.execute(delete(inbox).where(inbox.c.consumer.in_([mine, other])))
        engine.dispose()
