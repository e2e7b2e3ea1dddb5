"""The kit's two hops on their own: the relay (outbox → broker, confirmed) and the event
entrypoint (broker → handler + inbox, committed), each against its raw baseline."""

import time
import uuid
from datetime import UTC, datetime, timedelta

from kombu import Connection
from nameko.containers import ServiceContainer
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from services.contracts import new_event
from services.contracts.topology import declare, exchange_name
from services.kit import migrate
from services.kit.database import make_engine
from services.kit.models import inbox, outbox
from services.reporting.service import ReportingService
from services.scheduling.service import SchedulingService

from .harness import bench_line, nameko_config, timed


def session_completed(class_id: str):
    starts = datetime(2026, 5, 6, 1, tzinfo=UTC)
    return new_event("scheduling", "session_completed", {
        "session_id": str(uuid.uuid4()), "class_id": class_id, "course_title": "课",
        "core_theory": True, "kind": "lecture", "starts_at": starts,
        "ends_at": starts + timedelta(hours=2), "hours": 2.0, "venue_name": None,
        "instructor_name": None, "live": False, "sequence": 0})


def relay_rate(amqp_uri: str, urls: dict, n: int = 20000) -> float:
    engine = make_engine(urls["scheduling"])
    migrate.upgrade(engine, "scheduling")
    now = datetime.now(UTC)
    rows = []
    for _ in range(n):
        event = session_completed(str(uuid.uuid4()))
        rows.append({"event_id": event.id, "exchange": exchange_name("scheduling"),
                     "routing_key": "session_completed", "body": event.body().decode(),
                     "created_at": now})
    with Session(engine) as session, session.begin():
        session.execute(insert(outbox), rows)
    container = ServiceContainer(SchedulingService, nameko_config(amqp_uri, urls))
    with timed() as elapsed:
        container.start()
        while _count(engine, outbox, outbox.c.sent_at.is_(None)):
            time.sleep(0.02)
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
        while _count(engine, inbox) < n:
            time.sleep(0.02)
    container.stop()
    engine.dispose()
    return n / elapsed()


def _count(engine, table, *where) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table).where(*where)
                                  ).scalar_one()


def run(ctx) -> None:
    rate = relay_rate(ctx.amqp_uri, ctx.urls)
    bench_line("relay_publish_confirmed", rate, "events/s", ctx.baselines["broker_publish"],
               "≥0.25×raw_publish", rate >= 0.25 * ctx.baselines["broker_publish"])
    rate = consumer_rate(ctx.amqp_uri, ctx.urls)
    bench_line("event_handler_with_inbox", rate, "events/s", ctx.baselines["nameko_drain"],
               "≥0.25×trivial_drain", rate >= 0.25 * ctx.baselines["nameko_drain"])
