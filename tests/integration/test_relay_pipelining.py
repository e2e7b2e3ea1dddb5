"""The relay keeps several batches on the wire while their confirms come back
(services.kit.outbox): in order, and what it marks sent is always a prefix of the outbox, even
when the broker refuses a message in the middle. On the real RabbitMQ and PostgreSQL."""

import json
import uuid
from datetime import UTC, datetime

import pytest
from kombu import Connection, Exchange, Queue
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.enrollment.service import EnrollmentService
from services.kit import migrate
from services.kit import outbox as kit_outbox
from services.kit.amqp import ConfirmingPublisher, Outgoing, PublishFailed
from services.kit.database import make_engine
from services.kit.models import outbox
from tests.support.waiting import wait_until

EXCHANGE = Exchange("enrollment.events", type="topic")
ROWS = 30
REFUSED = 7   # in the second batch of five


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of five events, three of them on the wire at once."""
    monkeypatch.setattr(kit_outbox, "BATCH", 5)
    monkeypatch.setattr(kit_outbox, "WINDOW", 3)


def write_rows(url, refused=None) -> object:
    """ROWS outbox rows, one event each, numbered in their bodies; the row `refused` has a
    routing key of its own."""
    engine = make_engine(url)
    migrate.upgrade(engine, "enrollment")
    with Session(engine) as session, session.begin():
        for n in range(ROWS):
            event_id = str(uuid.uuid4())
            session.execute(outbox.insert().values(
                event_id=event_id, exchange=EXCHANGE.name,
                routing_key="relay_refused" if n == refused else "relay_test",
                body=json.dumps({"id": event_id, "n": n}), created_at=datetime.now(UTC)))
    return engine


def unsent(engine) -> list[int]:
    """The numbers of the rows not marked sent."""
    with engine.connect() as connection:
        bodies = connection.execute(select(outbox.c.body).where(outbox.c.sent_at.is_(None))
                                    .order_by(outbox.c.position)).scalars()
        return [json.loads(body)["n"] for body in bodies]


class Listener:
    """A queue of the test's own taking every event of enrollment.events; `seen` holds the
    numbers it received, in the order it received them."""

    def __init__(self, amqp_uri):
        self.connection = Connection(amqp_uri)
        self.queue = Queue(f"test-relay-{uuid.uuid4().hex[:6]}", EXCHANGE, routing_key="#",
                           durable=False, auto_delete=False)
        self.queue.bind(self.connection.channel()).declare()
        self.simple = self.connection.SimpleQueue(self.queue)
        self.seen: list[int] = []

    def take(self, timeout: float) -> bool:
        try:
            received = self.simple.get(timeout=timeout)
        except self.simple.Empty:
            return False
        received.ack()
        self.seen.append(json.loads(received.body)["n"])
        return True

    def until(self, predicate, message: str):
        wait_until(lambda: self.take(0.2) and predicate(self.seen), timeout=30, interval=0,
                   message=message)

    def the_rest(self) -> list[int]:
        """Everything queued (all of it is, once the relay has marked every row sent)."""
        while self.take(0.5):
            pass
        return self.seen

    def close(self):
        self.simple.close()
        self.connection.channel().queue_delete(self.queue.name)
        self.connection.release()


@pytest.fixture
def listener(amqp_uri):
    taking = Listener(amqp_uri)
    yield taking
    taking.close()


@pytest.fixture
def full_queue(amqp_uri):
    """A queue that holds one message and refuses more (reject-publish: the publisher gets a
    nack), bound to the refused row's routing key and already full. Deleting it lifts the
    refusal."""
    queue = Queue(f"test-full-{uuid.uuid4().hex[:6]}", EXCHANGE, routing_key="relay_refused",
                  durable=False, auto_delete=False,
                  queue_arguments={"x-max-length": 1, "x-overflow": "reject-publish"})
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        channel = connection.channel()
        queue.bind(channel).declare()
        connection.Producer(channel).publish(b"{}", exchange="", routing_key=queue.name)
        wait_until(lambda: channel.queue_declare(queue.name, passive=True).message_count == 1,
                   message="the queue to be full")

    def lift():
        with Connection(amqp_uri) as connection:
            connection.channel().queue_delete(queue.name)
    yield lift
    lift()


def runs(seen: list[int]) -> list[list[int]]:
    """The deliveries cut where the numbers stop counting up by one: each relay run's."""
    cut = [0] + [i for i in range(1, len(seen)) if seen[i] != seen[i - 1] + 1] + [len(seen)]
    return [seen[a:b] for a, b in zip(cut, cut[1:], strict=False)]


def test_the_pipelined_relay_publishes_every_row_once_in_order(
        container_factory, service_config, database_urls, listener, small_batches):
    engine = write_rows(database_urls["enrollment"])
    container_factory(EnrollmentService, service_config).start()
    wait_until(lambda: not unsent(engine), timeout=20, message="the relay to publish")

    assert listener.the_rest() == list(range(ROWS))
    engine.dispose()


def test_after_a_nack_nothing_from_the_refused_batch_on_is_sent_and_all_goes_out_in_order(
        container_factory, service_config, database_urls, listener, full_queue, small_batches):
    """Row 7 (second batch) is refused. The first run had batches 1–3 on the wire before the
    refusal came back; only the first batch is marked sent, and every later run starts again
    at row 5, the refused batch's first row, until the refusal is lifted."""
    engine = write_rows(database_urls["enrollment"], refused=REFUSED)
    container_factory(EnrollmentService, service_config).start()

    listener.until(lambda seen: seen.count(5) >= 3, "the relay to be refused a second time")
    assert unsent(engine) == list(range(5, ROWS))
    first, *again = runs(listener.seen)
    assert first[:15] == list(range(15))   # three batches out before the first confirm
    assert all(run[0] == 5 for run in again)

    full_queue()
    wait_until(lambda: not unsent(engine), timeout=30, message="the relay to publish the rest")
    first, *again = runs(listener.the_rest())
    assert first[0] == 0 and all(run[0] == 5 for run in again)
    assert again[-1] == list(range(5, ROWS))
    engine.dispose()


def test_a_publishing_run_ends_at_its_first_failure_and_the_next_run_opens_afresh(
        amqp_uri, full_queue):
    """A new connection counts delivery tags from 1 again: a run that reopened after a
    failure would take the new connection's confirms for those of what it sent before."""
    publisher = ConfirmingPublisher(amqp_uri)
    refused = Outgoing(EXCHANGE.name, "relay_refused", b"{}")
    unrouted = Outgoing(EXCHANGE.name, "relay_test", b"{}", mandatory=False)
    try:
        with publisher.pipeline() as run:
            tag = run.send([refused])
            with pytest.raises(PublishFailed):
                run.wait(tag)
            with pytest.raises(PublishFailed):
                run.send([unrouted])
        assert publisher.publish([unrouted]) == []
    finally:
        publisher.close()
