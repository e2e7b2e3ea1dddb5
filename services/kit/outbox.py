"""The outbox: events written in the worker's transaction, published by a relay after commit.

Nothing is lost (a crash between commit and publish leaves the row to be sent on restart) and
the relay publishes in order, a batch at a time, waiting for the batch's confirms.
"""

import logging
from datetime import UTC, datetime

import eventlet
from eventlet.event import Event as GreenEvent
from nameko.extensions import DependencyProvider, SharedExtension
from sqlalchemy import event as sa_event
from sqlalchemy import insert, select, text, update

from services.contracts import Event, new_event
from services.contracts.topology import exchange_name

from . import clock, config
from .amqp import ConfirmingPublisher, Outgoing
from .database import find_database
from .models import outbox

log = logging.getLogger(__name__)

BATCH = 500
IDLE_POLL = 0.5        # seconds between looks when nothing woke the relay
MAX_BACKOFF = 10.0


class OutboxWriter:
    """What a handler gets as `self.outbox`. Events are checked against their contract when
    added and written in one statement just before the transaction commits."""

    def __init__(self, session, source: str):
        self.session = session
        self.source = source
        self.pending: list[dict] = []
        sa_event.listen(session, "before_commit", self._write)
        sa_event.listen(session, "after_soft_rollback", self._forget)

    def add(self, event_type: str, data: dict, *, version: int = 1) -> Event:
        event = new_event(self.source, event_type, data, version=version,
                          occurred_at=clock.now())
        self.session.connection()   # begun: a rollback from here on drops the pending events
        self.pending.append({
            "event_id": event.id, "exchange": exchange_name(self.source),
            "routing_key": event_type, "body": event.body().decode(),
            "created_at": datetime.now(UTC),
        })
        return event

    def _write(self, session):
        rows, self.pending = self.pending, []
        if rows:
            session.execute(insert(outbox), rows)

    def _forget(self, session, previous_transaction):
        self.pending = []


class Relay(SharedExtension):
    """Publishes committed outbox rows. With replicas, the holder of an advisory lock does it."""

    def setup(self):
        self.database = find_database(self.container)
        self.uri = self.container.config.get("AMQP_URI") or config.amqp_uri()
        self.publisher = ConfirmingPublisher(self.uri)
        self.lock_key = f"peixun.relay.{self.container.service_name}"
        self._wake = GreenEvent()
        self._running = False
        self._lock_connection = None

    def start(self):
        self._running = True
        self._thread = self.container.spawn_managed_thread(self._run)

    def stop(self):
        self._running = False
        self.wake()
        self._thread.wait()
        self._release_lock()
        self.publisher.close()

    def kill(self):
        self._running = False
        self._release_lock()
        self.publisher.close()

    def wake(self):
        if not self._wake.ready():
            self._wake.send(True)

    def _wait(self, seconds: float):
        with eventlet.Timeout(seconds, False):
            self._wake.wait()
        self._wake = GreenEvent()

    def _run(self):
        backoff = 0.2
        while self._running:
            try:
                if not self._hold_lock():
                    self._wait(IDLE_POLL * 4)
                    continue
                sent = self.publish_pending()
                backoff = 0.2
                if sent < BATCH:
                    self._wait(IDLE_POLL)
            except Exception as exc:  # noqa: BLE001 - the relay must outlive broker and db outages
                log.warning("relay: %s: %s; retrying in %.1fs", type(exc).__name__, exc, backoff)
                self._release_lock()
                self._wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)

    def _hold_lock(self) -> bool:
        engine = self.database.engine
        if engine.dialect.name != "postgresql":
            return True
        if self._lock_connection is not None:
            return True
        connection = engine.connect()
        got = connection.execute(text("SELECT pg_try_advisory_lock(hashtext(:k))"),
                                 {"k": self.lock_key}).scalar()
        connection.commit()
        if got:
            self._lock_connection = connection
            return True
        connection.close()
        return False

    def _release_lock(self):
        connection, self._lock_connection = self._lock_connection, None
        if connection is not None:
            try:
                connection.invalidate()  # closing the session releases the advisory lock
            except Exception:  # noqa: BLE001
                pass

    def publish_pending(self) -> int:
        """Publish one batch of unsent rows in order; mark them sent once confirmed."""
        with self.database.engine.connect() as connection:
            rows = connection.execute(
                select(outbox.c.position, outbox.c.event_id, outbox.c.exchange,
                       outbox.c.routing_key, outbox.c.body)
                .where(outbox.c.sent_at.is_(None)).order_by(outbox.c.position).limit(BATCH)
            ).all()
            if not rows:
                return 0
            returned = self.publisher.publish([
                Outgoing(exchange=r.exchange, routing_key=r.routing_key, body=r.body.encode(),
                         message_id=r.event_id, type=r.routing_key)
                for r in rows
            ])
            for exchange, routing_key, reason in returned:
                # Topology declares every consumer queue up front: a return means nobody
                # consumes this type, so there is nobody to keep it for.
                log.info("relay: %s/%s has no consumer (%s); marked sent",
                         exchange, routing_key, reason)
            connection.execute(update(outbox).where(
                outbox.c.position.in_([r.position for r in rows])
            ).values(sent_at=datetime.now(UTC)))
            connection.commit()
            log.debug("relay: published %d events", len(rows))
            return len(rows)


class Outbox(DependencyProvider):
    """`self.outbox.add(event_type, data)` in a handler of a service that publishes events."""

    relay = Relay()

    def get_dependency(self, worker_ctx) -> OutboxWriter:
        database = find_database(self.container)
        return OutboxWriter(database.session_for(worker_ctx), self.container.service_name)

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        if exc_info is None:
            self.relay.wake()
