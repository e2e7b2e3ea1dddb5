"""Prometheus metrics: every service serves its own figures at `/metrics` (DESIGN §4).

Each service container has one `Metrics` (a nameko SharedExtension): its own registry, so that
four services in one process (the tests' whole system) each answer for themselves, and a small
WSGI server on `<SERVICE>_METRICS_PORT` (9101 scheduling, 9102 enrollment, 9103 reporting,
9104 gateway; `0` takes a free port, which `health()` names). It runs in a green thread, as
everything under eventlet must: a real OS thread would be blocked by the hub. A port that is
taken is logged as an error and the service runs on without metrics.

The kit's extensions record into it: the relay (published, confirm time), the event entrypoint
(duplicates, retries, dead letters), the gateway's HTTP entrypoint (requests by route template
and status), and `WorkerMetrics`, a dependency of every service, which times each worker: an
RPC call, or one batch of an event handler (so a busy consumer pays one observation per batch,
not per message). The outbox's figures are read from its table when Prometheus scrapes.

Label values are bounded: consumer queues, RPC method names, route templates, status codes and
the small vocabularies below; never an id.
"""

import logging
import os
import time
from datetime import UTC, datetime

import eventlet
import eventlet.wsgi
import prometheus_client
from nameko.extensions import DependencyProvider, SharedExtension
from nameko.rpc import Rpc as NamekoRpc
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import exc as sa_exc

from .errors import DomainError, RetryLater
from .models import outbox_waiting

log = logging.getLogger(__name__)

# A `_created` sample beside every counter and histogram doubles the series for nothing here.
prometheus_client.disable_created_metrics()

DEFAULT_PORTS = {"scheduling": 9101, "enrollment": 9102, "reporting": 9103, "gateway": 9104}

# Why an event went to its retry queue, and why one became a dead letter.
RETRY_REASONS = ("retry_later", "conflict", "database", "timeout", "connection")
DEAD_LETTER_REASONS = ("contract", "domain", "redelivered", "gave_up", "error")

BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


def metrics_port(service: str, settings: dict | None = None) -> int | None:
    """The port `service` serves metrics on: `<SERVICE>_METRICS_PORT` from the nameko config
    or the environment, else its default; None (no metrics) for a service without one."""
    key = f"{service.upper()}_METRICS_PORT"
    value = (settings or {}).get(key)
    if value is None:
        value = os.environ.get(key)
    if value is None or str(value).strip() == "":
        return DEFAULT_PORTS.get(service)
    try:
        port = int(value)
    except ValueError:
        raise ValueError(f"{key}: not a port number: {value!r}") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"{key}: not a port number: {value!r}")
    return port


def metrics_address() -> str:
    """The interface the metrics servers listen on (`PEIXUN_METRICS_ADDRESS`), all of them by
    default, as the gateway's HTTP does: Prometheus scrapes from another container."""
    return os.environ.get("PEIXUN_METRICS_ADDRESS", "0.0.0.0")


def retry_reason(exc: BaseException) -> str:
    """The retry vocabulary's word for a failure that retrying can fix."""
    if isinstance(exc, RetryLater):
        return "retry_later"
    if isinstance(exc, sa_exc.IntegrityError):
        return "conflict"
    if isinstance(exc, sa_exc.DBAPIError | sa_exc.InterfaceError):
        return "database"
    if isinstance(exc, TimeoutError | eventlet.Timeout):
        return "timeout"
    return "connection"


def failure_kind(exc: BaseException) -> str:
    """A dead letter from a failing handler: a rule said no (`domain`) or it broke (`error`)."""
    return "domain" if isinstance(exc, DomainError) else "error"


class Figures:
    """The metric objects of one service, in a registry of its own."""

    def __init__(self):
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.relay_published = Counter(
            "peixun_relay_published", "Events the relay published and the broker confirmed",
            registry=registry)
        self.relay_confirm_seconds = Histogram(
            "peixun_relay_confirm_seconds",
            "Seconds from sending a batch of events to the broker confirming all of it",
            registry=registry)
        self.handler_seconds = Histogram(
            "peixun_handler_seconds",
            "Seconds an event handler took for one batch, its commit included",
            ["consumer"], registry=registry)
        self.handler_batch_size = Histogram(
            "peixun_handler_batch_size", "Events an event handler received in one batch",
            ["consumer"], buckets=BATCH_BUCKETS, registry=registry)
        self.inbox_duplicates = Counter(
            "peixun_inbox_duplicates",
            "Events acked and skipped because the consumer's inbox already held them",
            ["consumer"], registry=registry)
        self.retries = Counter(
            "peixun_retries", "Events sent to their retry queue, by reason",
            ["consumer", "reason"], registry=registry)
        self.events_held = Gauge(
            "peixun_events_held",
            "Events a consumer holds unacked while its database does not answer",
            ["consumer"], registry=registry)
        self.dead_letters = Counter(
            "peixun_dead_letters", "Events sent to the dead-letter queue, by reason",
            ["consumer", "reason"], registry=registry)
        self.rpc_seconds = Histogram(
            "peixun_rpc_seconds", "Seconds an RPC method took, reply included",
            ["method"], registry=registry)
        self.rpc_errors = Counter(
            "peixun_rpc_errors",
            "RPC calls that failed: `domain` (a rule said no) or `error` (it broke)",
            ["method", "kind"], registry=registry)
        self.rpc_timeouts = Counter(
            "peixun_rpc_timeouts",
            "Calls this service made to another that did not answer in time, by method",
            ["method"], registry=registry)
        self.http_requests = Counter(
            "peixun_http_requests", "HTTP requests answered, by route template and status",
            ["route", "method", "status"], registry=registry)
        self.http_request_seconds = Histogram(
            "peixun_http_request_seconds", "Seconds the gateway took to answer a request",
            ["route", "method"], registry=registry)


class OutboxCollector:
    """`peixun_outbox_pending` and `peixun_outbox_oldest_age_seconds`, read from the outbox
    when Prometheus scrapes: nothing on the write path pays for them."""

    def __init__(self, database):
        self.database = database

    def describe(self):
        return [GaugeMetricFamily("peixun_outbox_pending", ""),
                GaugeMetricFamily("peixun_outbox_oldest_age_seconds", "")]

    def collect(self):
        pending = GaugeMetricFamily("peixun_outbox_pending",
                                    "Events in the outbox not yet published")
        oldest = GaugeMetricFamily(
            "peixun_outbox_oldest_age_seconds",
            "Age of the oldest event not yet published (0 when none waits)")
        try:
            count, first = outbox_lag(self.database.engine)
        except Exception as exc:  # noqa: BLE001 - a scrape must not fail with the database
            log.warning("metrics: could not read the outbox: %s", exc)
            return
        pending.add_metric([], count)
        oldest.add_metric([], age_seconds(first))
        yield pending
        yield oldest


def outbox_lag(engine) -> tuple[int, datetime | None]:
    """(events waiting, when the oldest of them was written)."""
    with engine.connect() as connection:
        count, first = connection.execute(outbox_waiting()).one()
    return int(count), first


def age_seconds(then: datetime | None) -> float:
    if then is None:
        return 0.0
    if then.tzinfo is None:   # SQLite keeps no zone; the outbox writes UTC
        then = then.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - then).total_seconds())


class Metrics(SharedExtension):
    """One per service container: the figures, and the server answering `/metrics`."""

    def __init__(self):
        super().__init__()
        # Made here, not in setup(): extensions set up in parallel, and the relay registers
        # its collector during its own setup.
        self.figures = Figures()
        self.port: int | None = None
        self._socket = None
        self._server = None

    def register(self, collector) -> None:
        self.figures.registry.register(collector)

    def start(self):
        service = self.container.service_name
        try:
            port = metrics_port(service, self.container.config)
        except ValueError as exc:
            log.error("metrics: %s; %s runs on without metrics", exc, service)
            return
        if port is None:
            return
        address = metrics_address()
        try:
            # No SO_REUSEPORT (eventlet's default): a second process on the same port must
            # fail, not silently share it.
            self._socket = eventlet.listen((address, port), reuse_port=False)
        except OSError as exc:
            log.error("metrics: %s cannot listen on %s:%s (%s); it runs on without metrics",
                      service, address, port, exc)
            return
        self.port = self._socket.getsockname()[1]
        app = prometheus_client.make_wsgi_app(self.figures.registry)
        self._server = eventlet.spawn(self._serve, app)
        log.info("metrics: %s serves /metrics on port %s", service, self.port)

    def _serve(self, app):
        try:
            eventlet.wsgi.server(self._socket, app, log_output=False)
        except Exception as exc:  # noqa: BLE001 - losing metrics must not stop the service
            log.error("metrics: the server stopped: %s", exc)

    def stop(self):
        self._close()

    def kill(self):
        self._close()

    def _close(self):
        server, self._server = self._server, None
        if server is not None:
            server.kill()
        sock, self._socket = self._socket, None
        if sock is not None:
            sock.close()


class WorkerMetrics(DependencyProvider):
    """Times every worker of the service: an RPC call (`peixun_rpc_seconds{method}`, failures
    in `peixun_rpc_errors_total`) or a batch of an event handler (`peixun_handler_seconds`,
    `peixun_handler_batch_size`), each from set-up to after its commit and reply. As a
    dependency, `self.metrics` is the service's `Metrics` (health() names its port)."""

    metrics = Metrics()

    def setup(self):
        self._started: dict = {}

    def get_dependency(self, worker_ctx) -> Metrics:
        return self.metrics

    def worker_setup(self, worker_ctx):
        self._started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self._started.pop(worker_ctx, None)
        if started is None:
            return
        seconds = time.perf_counter() - started
        entrypoint = worker_ctx.entrypoint
        figures = self.metrics.figures
        consumer = getattr(entrypoint, "consumer_name", None)
        if consumer is not None:   # the kit's event handler: one worker per batch
            events = worker_ctx.args[0] if worker_ctx.args else None
            figures.handler_seconds.labels(consumer).observe(seconds)
            figures.handler_batch_size.labels(consumer).observe(
                len(events) if isinstance(events, list) else 1)
        elif isinstance(entrypoint, NamekoRpc):
            method = entrypoint.method_name
            figures.rpc_seconds.labels(method).observe(seconds)
            if exc_info is not None:
                figures.rpc_errors.labels(method, failure_kind(exc_info[1])).inc()

    def worker_teardown(self, worker_ctx):
        self._started.pop(worker_ctx, None)
