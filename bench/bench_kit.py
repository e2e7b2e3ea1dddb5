"""The kit's two hops on their own: the relay (outbox → broker, confirmed, several batches on
the wire at once) and the event entrypoint (broker → handler + inbox, committed), each against
its raw baseline on quorum queues, as every consumer queue is (DESIGN §3): publishing with
confirms to a quorum queue, and draining one."""

import uuid
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta

from kombu import Connection
from nameko.containers import ServiceContainer
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from services.contracts import new_event
from services.contracts.topology import declare, exchange_name
from services.kit import migrate
from services.kit.amqp import declare_topology
from services.kit.database import make_engine
from services.kit.models import inbox, outbox
from services.reporting.service import ReportingService
from services.scheduling.service import SchedulingService

from .baselines import of_this_run
from .harness import apart, bench_line, nameko_config, timed, wait_for

RELAY_GOAL = 0.40      # × publishing with confirms to a quorum queue
METRICS_GOAL = 0.95    # the consumer with its metrics recorded, × the same without (≤ 5% cost)
METRICS_RUNS = 3       # each way, alternating; the best of each (one run swings ±10%)
RELAY_RUNS = 3         # the best of three, as its baseline: one run swings with the machine
HANDLER_GOAL = 0.25    # × draining a quorum queue


def session_completed(class_id: str):
    starts = datetime(2026, 5, 6, 1, tzinfo=UTC)
    return new_event("scheduling", "session_completed", {
        "session_id": str(uuid.uuid4()), "class_id": class_id, "course_title": "课",
        "core_theory": True, "kind": "lecture", "starts_at": starts,
        "ends_at": starts + timedelta(hours=2), "hours": 2.0, "venue_name": None,
        "instructor_name": None, "live": False, "sequence": 0})


def program_changed():
    return new_event("scheduling", "program_changed", {
        "program_id": str(uuid.uuid4()), "year": 2026, "track": "members",
        "organiser_org_code": "FX", "target_person_times": 20000, "name": "万名党员进课堂"})


def relay_rate(amqp_uri: str, urls: dict, n: int = 20000) -> float:
    """`program_changed`, which one consumer queue takes (reporting's), as the baseline
    publishes to one quorum queue: each further queue a type fans out to is another write of
    every message into a quorum queue's log."""
    engine = make_engine(urls["scheduling"])
    migrate.upgrade(engine, "scheduling")
    now = datetime.now(UTC)
    rows = []
    for _ in range(n):
        event = program_changed()
        rows.append({"event_id": event.id, "exchange": exchange_name("scheduling"),
                     "routing_key": "program_changed", "body": event.body().decode(),
                     "created_at": now})
    with Session(engine) as session, session.begin():
        session.execute(insert(outbox), rows)
    # Declared before the clock starts, as a deployment's queues are: declaring sixty quorum
    # queues is seconds of the service's start, not of the relay's publishing.
    declare_topology(amqp_uri)
    container = ServiceContainer(SchedulingService, nameko_config(amqp_uri, urls))
    with timed() as elapsed:
        container.start()
        wait_for(lambda: not _count(engine, outbox, outbox.c.sent_at.is_(None)),
                 f"the relay to publish {n} events", interval=0.02, amqp_uri=amqp_uri)
    container.stop()
    engine.dispose()
    return n / elapsed()


def consumer_rate(amqp_uri: str, urls: dict, n: int = 10000) -> float:
    engine = make_engine(urls["reporting"])
    migrate.upgrade(engine, "reporting")
    with Connection(amqp_uri) as connection:
        declare(connection.channel())
        producer = connection.Producer()
        class_ids = [str(uuid.uuid4()) for _ in range(50)]
        for i in range(n):
            producer.publish(session_completed(class_ids[i % 50]).body(),
                             exchange="scheduling.events", routing_key="session_completed",
                             content_type="application/json", delivery_mode=2)
    container = ServiceContainer(ReportingService, nameko_config(amqp_uri, urls))
    with timed() as elapsed:
        container.start()
        wait_for(lambda: _count(engine, inbox) >= n, f"reporting to take {n} events",
                 interval=0.02, amqp_uri=amqp_uri)
    container.stop()
    engine.dispose()
    return n / elapsed()


@contextmanager
def metrics_off():
    """Every Prometheus observation a no-op, in this process: the consumer as it would run
    without its metrics."""
    from prometheus_client import Counter, Histogram

    saved = Counter.inc, Histogram.observe
    Counter.inc = Histogram.observe = lambda self, *args, **kwargs: None
    try:
        yield
    finally:
        Counter.inc, Histogram.observe = saved


def _count(engine, table, *where) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table).where(*where)
                                  ).scalar_one()


def _apart(bench, ctx) -> float:
    """On a vhost and databases of its own: the relay's events fill two consumer queues, which
    neither the next relay run nor the handler's run should find."""
    with apart(ctx) as own:
        return bench(own.amqp_uri, own.urls)


def run(ctx) -> None:
    publish = of_this_run(ctx, "quorum_publish")
    rate = max(_apart(relay_rate, ctx) for _ in range(RELAY_RUNS))
    print(f"# relay: {rate / ctx.baselines['broker_publish']:.3f} × unconfirmed publishing to "
          "a classic queue (baseline_broker_publish)", flush=True)
    bench_line("relay_publish_pipelined", rate, "events/s", publish,
               f"≥{RELAY_GOAL}×quorum_confirmed_publish", rate >= RELAY_GOAL * publish)
    drain = of_this_run(ctx, "quorum_drain")
    rates = {True: [], False: []}
    for _ in range(METRICS_RUNS):
        for recorded in (True, False):
            with nullcontext() if recorded else metrics_off():
                rates[recorded].append(_apart(consumer_rate, ctx))
    rate, bare = max(rates[True]), max(rates[False])
    bench_line("event_handler_with_inbox", rate, "events/s", drain,
               f"≥{HANDLER_GOAL}×quorum_drain", rate >= HANDLER_GOAL * drain)
    bench_line("event_handler_metrics_cost", rate, "events/s", bare,
               f"≥{METRICS_GOAL}×without_metrics", rate >= METRICS_GOAL * bare)
