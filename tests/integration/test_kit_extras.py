"""More of the kit on the real broker: batches, RPC timeouts, JSON logs."""

import time
import uuid

import eventlet
import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import exc as sa_exc

from services.kit import Database, ServiceRpc, event_handler
from services.kit.rpc import RpcTimeout, rpc
from services.reporting import projections
from tests.support.broker import RABBIT_API, RABBIT_AUTH
from tests.support.class_progress import progress_of, session_completed
from tests.support.waiting import wait_until


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


class Deadlocked:
    """Fails the first time with the error PostgreSQL gives a deadlock, its database there."""

    name = "deadlocked"
    db = Database(service="reporting")
    failed: list = []

    @event_handler("scheduling", "session_completed")
    def on_session_completed(self, event):
        if not self.failed:
            self.failed.append(event.id)
            raise sa_exc.OperationalError("UPDATE", {}, Exception("deadlock detected"))
        projections.session_completed(self.db, event)


def test_a_database_error_with_the_database_there_is_retried_not_waited_for(
        container_factory, service_config, publish, database_urls):
    """Only a database that does not answer is waited for; a deadlock goes round the retry
    queue like any failure retrying can fix."""
    container = container_factory(Deadlocked, service_config)
    container.start()
    event = session_completed()
    publish("scheduling.events", "session_completed", event.body())
    wait_until(lambda: progress_of(database_urls["reporting"], event.data["class_id"])
               == (1, 2.0), message="the event handled on its second try")
    figures = next(iter(container.entrypoints)).metrics.figures.registry
    consumer = {"consumer": "evt-scheduling-session_completed--deadlocked"}
    assert figures.get_sample_value("peixun_retries_total", {**consumer, "reason": "database"}) == 1
    assert figures.get_sample_value("peixun_events_held", consumer) in (None, 0)


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

    container_factory(TwoHandlers, service_config).start()

    def prefetches():
        consumers = requests.get(f"{RABBIT_API}/consumers/{urllib.parse.quote(vhost, safe='')}",
                                 auth=RABBIT_AUTH, timeout=10).json()
        return {c["queue"]["name"]: c["prefetch_count"] for c in consumers
                if c["queue"]["name"].endswith("--twohandlers")}

    seen = wait_until(lambda: len(prefetches()) == 2 and prefetches())
    assert seen == {"evt-scheduling-session_completed--twohandlers": 400,
                    "evt-scheduling-session_scheduled--twohandlers": 10}


def test_a_service_waits_for_a_broker_slow_to_answer_at_start(amqp_uri):
    """A broker still starting beside the services (compose starts them together): the first
    handshakes time out, and the service waits rather than exits."""
    from services.kit.amqp import declare_topology
    from tests.support.slow_broker import slow_broker

    vhost = amqp_uri.rsplit("/", 1)[1]
    with slow_broker(silent=6.0) as port:
        started = time.monotonic()
        declare_topology(f"amqp://guest:guest@127.0.0.1:{port}/{vhost}", patience=60)
        assert time.monotonic() - started > 5   # it did wait past a timed-out handshake


def test_a_broker_that_never_answers_is_given_up_on_with_the_reason(amqp_uri):
    from services.kit.amqp import declare_topology
    from tests.support.slow_broker import slow_broker

    with slow_broker(silent=60.0) as port, pytest.raises(OSError):
        declare_topology(f"amqp://guest:guest@127.0.0.1:{port}/x", patience=1)
