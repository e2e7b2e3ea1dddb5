"""The kit's event entrypoint: contract check, inbox, commit-then-ack, retry, dead letters.

nameko's own `event_handler` acks and forgets a message whose handler raised, and crashes on a
body it cannot decode. This one takes the raw bytes and decides itself:

- a body that fails its contract (not JSON, a bad envelope, an unknown version, bad data)
  goes to the dead-letter queue with the reason;
- an event id already in the inbox is acked and skipped;
- the handler's writes, its outbox rows and the inbox row commit in one transaction, and only
  then is the message acked;
- a failure retrying can fix (`RetryLater`, a lost race) goes to the queue's retry queue with
  a growing delay; any other failure goes to the dead-letter queue;
- while the database does not answer, the consumer holds what it took, unacked (prefetch stops
  the broker's deliveries), probes with backoff, and handles it all once the database is back.

With `batch=N` the handler receives a list of up to N events in one transaction (prefetch N,
ack after commit). A failing batch is split and each event retried on its own, so one bad
event cannot hold back its neighbours.
"""

import logging
import sys
import time
from datetime import UTC, datetime
from functools import partial

import eventlet
from kombu import Connection
from kombu import Consumer as KombuConsumer
from kombu.mixins import ConsumerMixin
from nameko.extensions import Entrypoint, ProviderCollector, SharedExtension
from sqlalchemy import exc as sa_exc
from sqlalchemy import select

from services.contracts import ContractError, Event, parse_event
from services.contracts.topology import (
    DEAD_LETTER_EXCHANGE,
    DEAD_LETTER_ROUTING_KEY,
    REDELIVERY_LIMIT,
    consumer_queues,
    declare_queue,
    exchange_name,
)

from . import config
from .amqp import ConfirmingPublisher, Outgoing, PublishFailed, corked, declare_topology
from .database import find_database
from .errors import DomainError, RetryLater
from .metrics import Metrics, failure_kind, retry_reason
from .models import inbox
from .sql import insert_rows

log = logging.getLogger(__name__)

RETRY_DEADLINE = 600.0   # seconds a `RetryLater` keeps being retried before it is a dead letter
MAX_DELAY = 60.0
LINGER = 0.02            # seconds of quiet after which a partial batch goes
MAX_LINGER = 0.1         # seconds a partial batch's first message waits at most

H_REASON = "x-peixun-reason"
H_SERVICE = "x-peixun-service"
H_EXCHANGE = "x-peixun-original-exchange"
H_ROUTING_KEY = "x-peixun-original-routing-key"
H_QUEUE = "x-peixun-original-queue"
H_ATTEMPTS = "x-peixun-attempts"
H_FIRST_FAILED = "x-peixun-first-failed-at"
H_DEAD_LETTERED_AT = "x-peixun-dead-lettered-at"   # when: `peixun dlq list` shows it
# Set by a quorum queue on a message returned unsettled (its consumer died or let go of it).
H_DELIVERY_COUNT = "x-delivery-count"


def retry_delay(attempt: int) -> float:
    """Exponential backoff: 0.5 s, 1 s, 2 s … capped at a minute."""
    return min(0.5 * 2 ** max(attempt - 1, 0), MAX_DELAY)


def is_outage(exc: BaseException) -> bool:
    """A failure the database's absence may explain (a deadlock is one too: ask it)."""
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated


def is_retryable(exc: BaseException) -> bool:
    """Infrastructure away, a reference not seen yet, or a write that lost a race to another
    worker (a unique key): a later try can succeed."""
    return is_outage(exc) or isinstance(exc, RetryLater | sa_exc.IntegrityError | ConnectionError
                                        | TimeoutError | eventlet.Timeout)


def has_deadline(exc: BaseException) -> bool:
    """Retried for RETRY_DEADLINE only: it may never come right (DESIGN §3: 10 minutes).
    An outage is retried for as long as it lasts."""
    return isinstance(exc, RetryLater | sa_exc.IntegrityError)


def linger_left(now: float, first: float, last: float) -> float:
    """Seconds a partial batch still waits for more messages (its first came at `first`, the
    latest at `last`): none once LINGER has passed without one, or the first has waited
    MAX_LINGER. While messages stream in, a batch fills. A fixed wait from the first had cut
    a busy consumer's batches of 500 into pieces of 30 to 300, each paying a batch's round
    trips."""
    return max(0.0, min(LINGER - (now - last), MAX_LINGER - (now - first)))


SEEN_ON_POSTGRESQL = ("SELECT e.id FROM unnest(%s::text[]) AS e(id) WHERE (SELECT true "
                      "FROM inbox i WHERE i.consumer = %s AND i.event_id = e.id)")


def seen_ids(connection, consumer: str, ids: list[str]) -> set[str]:
    """Which of these event ids the consumer's inbox holds. On PostgreSQL each id is looked up
    on its own by the inbox's unique key (a subquery per id, which the planner keeps as one):
    asked as one `IN` list while a fresh inbox had no statistics yet, the planner read every
    row of the consumer through reporting's (consumer, position) index and compared each with
    the whole list: a cost per batch that grew with the inbox (bench/RESULTS.md)."""
    if connection.dialect.name == "postgresql":
        return set(connection.exec_driver_sql(SEEN_ON_POSTGRESQL, (ids, consumer)).scalars())
    return set(connection.execute(select(inbox.c.event_id).where(
        inbox.c.consumer == consumer, inbox.c.event_id.in_(ids))).scalars())


class DatabaseWatch:
    """One consumer's view of its database while it is away. Sending each event through the
    retry queue instead had it come back after a delay that grew to a minute, one at a time:
    after a 10 s outage enrollment worked through its backlog at 50-70 events/s
    (docs/RELIABILITY.md). Held, the events go again the moment a probe gets an answer."""

    FIRST_PROBE = 0.25   # s; doubling up to
    LAST_PROBE = 2.0

    def __init__(self, database, spawn, resume, held_gauge, name: str):
        self.database, self.spawn, self.resume = database, spawn, resume
        self.held_gauge, self.name = held_gauge, name
        self.held: list[list] = []
        self.away = False

    def answers(self) -> bool:
        try:
            with self.database.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
            return True
        except Exception:  # noqa: BLE001 - any failure to answer is an answer
            return False

    def hold(self, items: list) -> None:
        self.held.append(items)
        self.held_gauge.set(sum(len(batch) for batch in self.held))
        if not self.away:
            self.away = True
            log.warning("%s: the database does not answer; holding its events until it does",
                        self.name)
            self.spawn(self._probe)

    def _probe(self) -> None:
        delay = self.FIRST_PROBE
        while True:
            eventlet.sleep(delay)
            if self.answers():
                break
            delay = min(delay * 2, self.LAST_PROBE)
        self.away = False
        held, self.held = self.held, []
        self.held_gauge.set(0)
        log.warning("%s: the database answers again; handling the %d events held", self.name,
                    sum(len(batch) for batch in held))
        for items in held:
            self.resume(items)


def failure_reason(exc: BaseException) -> str:
    if isinstance(exc, DomainError):
        return f"domain: {exc.message}"
    return f"{type(exc).__name__}: {exc}"[:2000]


class EventConsumer(SharedExtension, ProviderCollector):
    """One AMQP connection per container, consuming every kit event handler's queue raw."""

    def setup(self):
        self.uri = self.container.config.get("AMQP_URI") or config.amqp_uri()
        self.publisher = ConfirmingPublisher(self.uri)
        declare_topology(self.uri)

    def start(self):
        # Every handler's queues exist before start() returns: an event published the moment
        # the service is up is routed, not returned. (The topology covers production queues
        # even earlier; this also covers any other handler.)
        with Connection(self.uri, connect_timeout=5) as connection:
            channel = connection.channel()
            for provider in self._providers:
                for queue in (provider.queue, provider.retry_queue):
                    declare_queue(queue, channel)
            channel.close()
        self._loop = _ConsumeLoop(self)
        self._thread = self.container.spawn_managed_thread(self._loop.run)

    def stop(self):
        self.wait_for_providers()   # in-flight workers finish and ack first
        self._loop.should_stop = True
        self._thread.wait()
        self.publisher.close()

    def kill(self):
        if hasattr(self, "_loop"):
            self._loop.should_stop = True
        self.publisher.close()


class _ConsumeLoop(ConsumerMixin):
    def __init__(self, extension: EventConsumer):
        self.extension = extension
        self.connection = Connection(extension.uri, heartbeat=60)

    def get_consumers(self, Consumer, channel):
        """A channel per handler: RabbitMQ applies a channel's last basic.qos to the consumers
        started after it, so handlers sharing a channel would all get one prefetch, and a batch
        handler could never fill its batch."""
        consumers = []
        for index, provider in enumerate(self.extension._providers):
            own = channel if index == 0 else channel.connection.channel()
            provider.retry_queue.bind(own).declare()   # again after a broker restart
            consumers.append(KombuConsumer(own, queues=[provider.queue],
                                           on_message=provider.on_message,
                                           prefetch_count=provider.prefetch, accept=None))
        return consumers

    def on_connection_error(self, exc, interval):
        log.warning("event consumer: broker connection error %s; retry in %ss", exc, interval)


class EventHandler(Entrypoint):
    consumer = EventConsumer()
    metrics = Metrics()

    def __init__(self, source: str, event_type: str, batch: int = 1, **kwargs):
        self.source = source
        self.event_type = event_type
        self.batch = batch
        self.prefetch = max(batch * 2, 10)
        super().__init__(expected_exceptions=(DomainError, RetryLater), **kwargs)

    def setup(self):
        self.service = self.container.service_name
        self.queue, self.retry_queue = consumer_queues(self.service, self.source, self.event_type)
        self.consumer_name = self.queue.name
        self._duplicates = self.metrics.figures.inbox_duplicates.labels(self.consumer_name)
        self.database = find_database(self.container)
        self._buffer: list = []
        self._flusher = None
        self._watch = None if self.database is None else DatabaseWatch(
            self.database, self.container.spawn_managed_thread, self._process,
            self.metrics.figures.events_held.labels(self.consumer_name), self.consumer_name)
        self.consumer.register_provider(self)

    def stop(self):
        self._flush()
        self.consumer.unregister_provider(self)

    # -- receiving -----------------------------------------------------------------------

    def on_message(self, message):
        """Called in the consumer's green thread with the raw message."""
        returned = int((message.headers or {}).get(H_DELIVERY_COUNT) or 0)
        if returned >= REDELIVERY_LIMIT:
            # Every earlier delivery ended with the consumer gone before it settled: handling
            # it again would most likely take this process down too.
            self.dead_letter(message, f"redelivered {returned} times without being settled "
                                      "(the consumer may crash on it)", kind="redelivered")
            return
        try:
            event = parse_event(message.body, source=self.source, event_type=self.event_type)
        except ContractError as exc:
            self.dead_letter(message, exc.reason, kind="contract")
            return
        self._buffer.append((event, message))
        self._last_arrival = time.monotonic()
        if len(self._buffer) >= self.batch:
            self._flush()
        elif self._flusher is None:
            self._first_arrival = self._last_arrival
            self._flusher = eventlet.spawn_after(LINGER, self._linger)

    def _linger(self):
        wait = linger_left(time.monotonic(), self._first_arrival, self._last_arrival)
        if wait > 0:
            self._flusher = eventlet.spawn_after(wait, self._linger)
        else:
            self._flush()

    def _flush(self):
        if self._flusher is not None:
            self._flusher.cancel()
            self._flusher = None
        items, self._buffer = self._buffer, []
        if items:
            # Off the consumer's thread: the inbox look-up must not hold up the next delivery.
            # Prefetch bounds how many are in flight.
            self.container.spawn_managed_thread(partial(self._process, items))

    def _process(self, items):
        if self._watch is not None and self._watch.away:
            self._watch.hold(items)
            return
        try:
            items = self._drop_seen(items)
        except Exception as exc:  # noqa: BLE001 - database away: try again later
            if not self._held(items, exc):
                for _event, message in items:
                    self.fail(message, exc)
            return
        if items:
            self._spawn(items)

    def _drop_seen(self, items):
        """Ack what the inbox already holds (and repeats within the batch)."""
        fresh, ids = [], set()
        if self.database is not None:
            with self.database.engine.connect() as connection:
                ids = seen_ids(connection, self.consumer_name, [event.id for event, _ in items])
        for event, message in items:
            if event.id in ids:
                log.info("skipping event %s: already handled", event.id)
                self._duplicates.inc()
                self.ack(message)
            else:
                ids.add(event.id)
                fresh.append((event, message))
        return fresh

    def _spawn(self, items):
        events = [event for event, _ in items]
        args = (events,) if self.batch > 1 else (events[0],)
        first = events[0].id
        context = {"event_id": first if len(events) == 1 else f"{first}+{len(events) - 1}"}
        self.container.spawn_worker(self, args, {}, context_data=context,
                                    handle_result=partial(self.handle_result, items))

    # -- after the handler ---------------------------------------------------------------

    def handle_result(self, items, worker_ctx, result, exc_info):
        if exc_info is None:
            try:
                self._commit(worker_ctx, [event for event, _ in items])
            except Exception:  # noqa: BLE001 - classified below like a handler failure
                exc_info = sys.exc_info()
        if exc_info is None:
            self.ack_all([message for _, message in items])
        elif self._held(items, exc_info[1]):
            pass
        elif len(items) > 1:
            # One bad event must not sink its batch: run each on its own.
            for item in items:
                self.container.spawn_managed_thread(partial(self._process, [item]))
        else:
            self.fail(items[0][1], exc_info[1])
        return result, exc_info

    def _held(self, items, exc: BaseException) -> bool:
        """Held for the database's return when it failed for being away: asked, it does not
        answer (a deadlock fails the same way with the database there, and is retried)."""
        if self._watch is None or not is_outage(exc):
            return False
        if not self._watch.away and self._watch.answers():
            return False
        self._watch.hold(items)
        return True

    def _commit(self, worker_ctx, events: list[Event]):
        session = self.database.session_for(worker_ctx)
        now = datetime.now(UTC)
        # One statement for the batch (a JSON parameter on PostgreSQL): an executemany of the
        # payloads was about 8% of a busy consumer's time.
        insert_rows(session, inbox, [
            {"consumer": self.consumer_name, "event_id": e.id, "source": e.source,
             "type": e.type, "payload": e.payload, "received_at": now}
            for e in events
        ])
        session.commit()

    def fail(self, message, exc: BaseException):
        if isinstance(exc, sa_exc.IntegrityError) and self._already_handled(message):
            self._duplicates.inc()
            self.ack(message)   # a twin delivery committed first
        elif is_retryable(exc):
            self.retry(message, exc)
        else:
            self.dead_letter(message, failure_reason(exc), kind=failure_kind(exc))

    def _already_handled(self, message) -> bool:
        try:
            event = parse_event(message.body)
            with self.database.engine.connect() as connection:
                return bool(seen_ids(connection, self.consumer_name, [event.id]))
        except Exception:  # noqa: BLE001
            return False

    # -- acking, retrying, dead-lettering --------------------------------------------------

    def ack(self, message):
        try:
            message.ack()
        except Exception as exc:  # noqa: BLE001 - the broker will redeliver; the inbox dedupes
            log.warning("ack failed (%s); the message will be redelivered", exc)

    def ack_all(self, messages):
        """A batch's acks written to the socket together: one write per ack was about 6% of a
        busy consumer's time. Nothing yields while they are corked."""
        try:
            with corked(messages[0].channel.connection.transport):
                for message in messages:
                    message.ack()
        except Exception as exc:  # noqa: BLE001 - the broker will redeliver; the inbox dedupes
            log.warning("acks failed (%s); the messages will be redelivered", exc)

    def _republish(self, message, outgoing: Outgoing) -> bool:
        try:
            self.consumer.publisher.publish([outgoing])
        except PublishFailed as exc:
            log.warning("could not republish (%s); leaving the message unacked", exc)
            try:
                message.requeue()
            except Exception:  # noqa: BLE001
                pass
            return False
        self.ack(message)
        return True

    def _origin(self, headers: dict, message) -> tuple[str, str]:
        info = message.delivery_info or {}
        return (headers.get(H_EXCHANGE) or info.get("exchange") or exchange_name(self.source),
                headers.get(H_ROUTING_KEY) or info.get("routing_key") or self.event_type)

    def retry(self, message, exc: BaseException):
        headers = dict(message.headers or {})
        attempt = int(headers.get(H_ATTEMPTS, 0)) + 1
        first = headers.get(H_FIRST_FAILED) or datetime.now(UTC).isoformat()
        waited = time.time() - datetime.fromisoformat(first).timestamp()
        if has_deadline(exc) and waited > RETRY_DEADLINE:
            self.dead_letter(message, f"gave up after {waited:.0f}s: {failure_reason(exc)}",
                             kind="gave_up")
            return
        exchange, routing_key = self._origin(headers, message)
        headers.update({H_ATTEMPTS: attempt, H_FIRST_FAILED: first, H_EXCHANGE: exchange,
                        H_ROUTING_KEY: routing_key, H_REASON: failure_reason(exc)})
        delay = retry_delay(attempt)
        log.info("retrying message in %.1fs (attempt %d): %s", delay, attempt, failure_reason(exc))
        if self._republish(message, self._copy(message, "", self.retry_queue.name, headers,
                                               expiration=str(int(delay * 1000)))):
            self.metrics.figures.retries.labels(self.consumer_name, retry_reason(exc)).inc()

    def dead_letter(self, message, reason: str, kind: str = "error"):
        """`kind`, one of metrics.DEAD_LETTER_REASONS, labels peixun_dead_letters_total."""
        headers = dict(message.headers or {})
        exchange, routing_key = self._origin(headers, message)
        headers.update({H_REASON: reason, H_SERVICE: self.service, H_EXCHANGE: exchange,
                        H_ROUTING_KEY: routing_key, H_QUEUE: self.queue.name,
                        H_DEAD_LETTERED_AT: datetime.now(UTC).isoformat()})
        log.error("dead-lettering a message from %s/%s: %s", exchange, routing_key, reason)
        if self._republish(message, self._copy(message, DEAD_LETTER_EXCHANGE,
                                               DEAD_LETTER_ROUTING_KEY, headers)):
            self.metrics.figures.dead_letters.labels(self.consumer_name, kind).inc()

    @staticmethod
    def _copy(message, exchange, routing_key, headers, expiration=None) -> Outgoing:
        properties = message.properties or {}
        return Outgoing(
            exchange=exchange, routing_key=routing_key, body=message.body, headers=headers,
            message_id=properties.get("message_id"), type=properties.get("type"),
            content_type=message.content_type, content_encoding=message.content_encoding,
            expiration=expiration,
        )


event_handler = EventHandler.decorator
