"""The kit's metrics (services/kit/metrics.py): where each service serves them, what a worker
records, and the outbox's figures read at scrape time. No broker: a container here has only
the metrics dependency and a dummy entrypoint."""

import logging
import socket
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import requests
from nameko.testing.services import dummy, entrypoint_hook
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, insert

from services.kit.errors import DomainError, InvalidInput, RetryLater
from services.kit.metrics import (
    DEAD_LETTER_REASONS,
    DEFAULT_PORTS,
    RETRY_REASONS,
    OutboxCollector,
    WorkerMetrics,
    failure_kind,
    metrics_port,
    retry_reason,
)
from services.kit.models import metadata, outbox
from services.kit.rpc import Rpc


class Scheduling:
    """Stands in for a service: its name picks SCHEDULING_METRICS_PORT."""

    name = "scheduling"
    metrics = WorkerMetrics()

    @dummy
    def metrics_port(self):
        return self.metrics.port


def started(container_factory, port):
    container = container_factory(Scheduling, {"SCHEDULING_METRICS_PORT": port})
    container.start()
    with entrypoint_hook(container, "metrics_port") as ask:
        return container, ask()


def scrape(port: int) -> dict:
    answer = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert answer.status_code == 200
    return {family.name: family for family in text_string_to_metric_families(answer.text)}


def test_port_zero_takes_a_free_port_that_the_service_names(container_factory):
    _container, port = started(container_factory, "0")
    assert port and port not in DEFAULT_PORTS.values()
    families = scrape(port)
    assert {"peixun_rpc_seconds", "peixun_handler_seconds", "peixun_relay_published"} <= set(
        families)


def test_two_replicas_on_one_host_each_serve_on_a_port_of_their_own(container_factory):
    _first, one = started(container_factory, 0)
    _second, other = started(container_factory, 0)
    assert one != other
    scrape(one), scrape(other)


def test_a_taken_port_is_logged_as_an_error_and_the_service_runs_on(container_factory, caplog):
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        with caplog.at_level(logging.ERROR, logger="services.kit.metrics"):
            container, port = started(container_factory, str(busy))
        assert port is None   # health() says so: no metrics on this replica
        errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
        assert any(f":{busy}" in message and "without metrics" in message
                   for message in errors), errors
        with entrypoint_hook(container, "metrics_port") as ask:
            assert ask() is None   # still answering its entrypoints


def test_a_second_replica_on_the_same_port_does_not_share_it(container_factory, caplog):
    # eventlet.listen sets SO_REUSEPORT unless told not to: both replicas would then listen
    # on one port and Prometheus would see either at random.
    _first, port = started(container_factory, "0")
    with caplog.at_level(logging.ERROR, logger="services.kit.metrics"):
        _second, second_port = started(container_factory, str(port))
    assert second_port is None
    assert any("without metrics" in r.getMessage() for r in caplog.records)


def test_a_port_that_is_not_a_number_is_logged_and_the_service_runs_on(container_factory,
                                                                       caplog):
    with caplog.at_level(logging.ERROR, logger="services.kit.metrics"):
        _container, port = started(container_factory, "nine")
    assert port is None
    assert any("SCHEDULING_METRICS_PORT: not a port number: 'nine'" in r.getMessage()
               for r in caplog.records)


def test_metrics_port_comes_from_config_then_environment_then_the_default(monkeypatch):
    for service in ("SCHEDULING", "ENROLLMENT", "REPORTING", "GATEWAY"):
        monkeypatch.delenv(f"{service}_METRICS_PORT", raising=False)   # tests/conftest.py's 0
    assert metrics_port("reporting") == 9103
    assert [metrics_port(s) for s in ("scheduling", "enrollment", "gateway")] == [
        9101, 9102, 9104]
    monkeypatch.setenv("REPORTING_METRICS_PORT", "9200")
    assert metrics_port("reporting") == 9200
    assert metrics_port("reporting", {"REPORTING_METRICS_PORT": 0}) == 0
    assert metrics_port("reporting", {"REPORTING_METRICS_PORT": "9300"}) == 9300
    assert metrics_port("some_test_service") is None   # no default: no metrics
    with pytest.raises(ValueError, match="REPORTING_METRICS_PORT"):
        metrics_port("reporting", {"REPORTING_METRICS_PORT": "70000"})


class _Worker:
    """What a provider sees of a worker (nameko's WorkerContext, hashable by identity)."""

    def __init__(self, entrypoint, *args):
        self.entrypoint, self.args = entrypoint, args


_worker = _Worker


def _sample(metric, suffix: str, **labels) -> float:
    for family in metric.collect():
        for sample in family.samples:
            if sample.name == family.name + suffix and all(
                    sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


def test_an_event_batch_is_one_observation_of_its_time_and_size():
    provider = WorkerMetrics()
    provider.setup()
    figures = provider.metrics.figures
    handler = SimpleNamespace(consumer_name="evt-scheduling-class_published--reporting")
    worker = _worker(handler, ["e1", "e2", "e3"])
    provider.worker_setup(worker)
    provider.worker_result(worker)
    consumer = {"consumer": handler.consumer_name}
    assert _sample(figures.handler_seconds, "_count", **consumer) == 1
    assert _sample(figures.handler_batch_size, "_sum", **consumer) == 3
    single = _worker(handler, "one event")
    provider.worker_setup(single)
    provider.worker_result(single)
    assert _sample(figures.handler_batch_size, "_count", **consumer) == 2
    assert _sample(figures.handler_batch_size, "_sum", **consumer) == 4
    assert provider._started == {}


def test_an_rpc_call_is_timed_by_method_and_its_failures_counted_by_kind():
    provider = WorkerMetrics()
    provider.setup()
    figures = provider.metrics.figures
    entrypoint = Rpc()
    entrypoint.method_name = "nominate"
    for exc in (None, InvalidInput("bad"), KeyError("broke")):
        worker = _worker(entrypoint)
        provider.worker_setup(worker)
        provider.worker_result(worker, None, None if exc is None else (type(exc), exc, None))
    assert _sample(figures.rpc_seconds, "_count", method="nominate") == 3
    assert _sample(figures.rpc_errors, "_total", method="nominate", kind="domain") == 1
    assert _sample(figures.rpc_errors, "_total", method="nominate", kind="error") == 1


def test_a_call_to_another_service_that_times_out_is_counted_by_method():
    import eventlet

    from services.kit.metrics import Figures
    from services.kit.rpc import RpcTimeout, _TimedProxy

    class Silent:
        def call_async(self, *args, **kwargs):
            return SimpleNamespace(result=lambda: eventlet.sleep(5))

    figures = Figures()
    proxy = _TimedProxy(SimpleNamespace(get_program=Silent()), "scheduling", 0.05,
                        figures.rpc_timeouts)
    with pytest.raises(RpcTimeout):
        proxy.get_program("p1")
    assert _sample(figures.rpc_timeouts, "_total", method="scheduling.get_program") == 1


def test_reasons_come_from_small_fixed_vocabularies():
    from sqlalchemy import exc as sa_exc

    retried = [retry_reason(RetryLater("class not seen yet")),
               retry_reason(sa_exc.IntegrityError("insert", {}, Exception())),
               retry_reason(sa_exc.OperationalError("select", {}, Exception())),
               retry_reason(TimeoutError()), retry_reason(ConnectionError())]
    assert retried == ["retry_later", "conflict", "database", "timeout", "connection"]
    assert set(retried) == set(RETRY_REASONS)
    kinds = {failure_kind(DomainError("no")), failure_kind(InvalidInput("bad")),
             failure_kind(ValueError())}
    assert kinds == {"domain", "error"} <= set(DEAD_LETTER_REASONS)
    assert set(DEAD_LETTER_REASONS) == {"contract", "domain", "redelivered", "gave_up", "error"}


def test_outbox_figures_are_read_from_the_outbox_when_scraped():
    engine = create_engine("sqlite://")
    metadata.create_all(engine, tables=[outbox])
    collector = OutboxCollector(SimpleNamespace(engine=engine))
    figures = {f.name: f.samples[0].value for f in collector.collect()}
    assert figures == {"peixun_outbox_pending": 0, "peixun_outbox_oldest_age_seconds": 0}
    now = datetime.now(UTC)
    row = {"exchange": "enrollment.events", "routing_key": "person_changed", "body": "{}"}
    with engine.begin() as connection:
        connection.execute(insert(outbox), [
            {**row, "event_id": "sent", "events": None, "created_at": now - timedelta(hours=1),
             "sent_at": now},
            {**row, "event_id": "page", "events": 3, "sent_at": None,
             "created_at": now - timedelta(seconds=90)},
            {**row, "event_id": "one", "events": None, "sent_at": None,
             "created_at": now - timedelta(seconds=5)},
        ])
    figures = {f.name: f.samples[0].value for f in collector.collect()}
    assert figures["peixun_outbox_pending"] == 4   # a page row counts its events
    assert 89 <= figures["peixun_outbox_oldest_age_seconds"] < 120   # the sent row is not lag


class _Publisher:
    def __init__(self, fails=False):
        self.fails, self.sent = fails, []

    def publish(self, messages):
        from services.kit.amqp import PublishFailed

        if self.fails:
            raise PublishFailed("nacked")
        self.sent.extend(messages)


def _handler(publisher):
    from services.kit.events import EventHandler
    from services.kit.metrics import Figures

    handler = EventHandler("enrollment", "person_changed")
    handler.service, handler.consumer_name = "reporting", "evt-enrollment-person_changed--reporting"
    handler.queue = SimpleNamespace(name=handler.consumer_name)
    handler.retry_queue = SimpleNamespace(name=handler.consumer_name + ".retry")
    handler.consumer = SimpleNamespace(publisher=publisher)
    handler.metrics = SimpleNamespace(figures=Figures())
    return handler


def _message(body=b'{"id": "e1"}', headers=None):
    return SimpleNamespace(body=body, headers=headers or {}, delivery_info={}, properties={},
                           content_type="application/json", content_encoding="utf-8",
                           ack=lambda: None, requeue=lambda: None)


def test_retries_and_dead_letters_are_counted_by_consumer_and_reason():
    from services.kit.events import H_DELIVERY_COUNT, H_FIRST_FAILED

    handler = _handler(_Publisher())
    handler.on_message(_message(b"not json"))
    handler.on_message(_message(headers={H_DELIVERY_COUNT: 99}))
    handler.fail(_message(), InvalidInput("no such organisation"))
    handler.fail(_message(), KeyError("broke"))
    handler.fail(_message(), RetryLater("class not seen yet"))
    handler.retry(_message(headers={H_FIRST_FAILED: "2020-01-01T00:00:00+00:00"}),
                  RetryLater("class never came"))
    figures, consumer = handler.metrics.figures, handler.consumer_name
    dead = {reason: _sample(figures.dead_letters, "_total", consumer=consumer, reason=reason)
            for reason in DEAD_LETTER_REASONS}
    assert dead == {"contract": 1, "redelivered": 1, "domain": 1, "error": 1, "gave_up": 1}
    assert _sample(figures.retries, "_total", consumer=consumer, reason="retry_later") == 1


def test_a_dead_letter_the_broker_refused_is_not_counted():
    handler = _handler(_Publisher(fails=True))
    handler.fail(_message(), KeyError("broke"))
    handler.fail(_message(), RetryLater("later"))
    figures = handler.metrics.figures
    assert _sample(figures.dead_letters, "_total", reason="error") == 0
    assert _sample(figures.retries, "_total", reason="retry_later") == 0
