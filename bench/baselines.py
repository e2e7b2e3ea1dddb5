"""The machine's own speed, measured in the same run: the broker and PostgreSQL doing the least
they can. Every other figure is read against these."""

import io
import time

import amqp
import psycopg2
from kombu import Connection, Consumer, Exchange, Queue
from psycopg2.extras import execute_values

from services.contracts.topology import consumer_queues
from services.kit.amqp import connection_params

from .harness import bench_line, timed

BODY = b'{"id":"00000000-0000-4000-8000-000000000000","type":"t","data":{}}'


def broker_publish_rate(amqp_uri: str, n: int = 20000) -> float:
    """Unconfirmed publishes to a durable queue, messages persistent."""
    queue = Queue("bench-raw", Exchange("bench-raw", type="direct"), routing_key="raw",
                  durable=True)
    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        queue.bind(channel).declare()
        producer = connection.Producer(channel)
        with timed() as elapsed:
            for _ in range(n):
                producer.publish(BODY, exchange="bench-raw", routing_key="raw",
                                 delivery_mode=2, content_type="application/json")
        rate = n / elapsed()
        channel.queue_delete("bench-raw")
    return rate


def trivial_nameko_drain_rate(amqp_uri: str, n: int = 10000, runs: int = 3) -> float:
    """nameko's own event handler doing nothing, draining a queue filled beforehand: the best
    of `runs` drains, since a single one swung between 2,500 and 8,300 msg/s from run to run
    on the shared machine, and a ratio is only as steady as its baseline."""
    return max(_one_drain(amqp_uri, n) for _ in range(runs))


def _one_drain(amqp_uri: str, n: int) -> float:
    from nameko.containers import ServiceContainer
    from nameko.events import event_handler
    from nameko.standalone.events import event_dispatcher

    seen = []

    class Trivial:
        name = "bench_trivial"

        @event_handler("bench_source", "ping")
        def on_ping(self, payload):
            seen.append(1)

    config = {"AMQP_URI": amqp_uri, "max_workers": 10}
    container = ServiceContainer(Trivial, config)
    container.start()   # declares its queue
    container.stop()
    dispatch = event_dispatcher(config)
    with Connection(amqp_uri) as connection:
        producer = connection.Producer()
        for _ in range(n):
            producer.publish({"n": 1}, exchange="bench_source.events", routing_key="ping",
                             serializer="json")
    del dispatch
    container = ServiceContainer(Trivial, config)
    with timed() as elapsed:
        container.start()
        while len(seen) < n:
            time.sleep(0.01)
    rate = n / elapsed()
    container.stop()
    return rate


def _rows(n):
    return [(i, f"M{i:08d}", "FX01", "2010-07-01", "institution") for i in range(n)]


def _table(cursor):
    cursor.execute("DROP TABLE IF EXISTS bench_rows")
    cursor.execute("CREATE TABLE bench_rows (id int primary key, member_no text, org_code text, "
                   "joined_on date, employment text)")


def pg_insert_rate(url: str, n: int = 60000) -> float:
    """execute_values in pages of 1,000, one transaction."""
    connection = psycopg2.connect(url)
    with connection, connection.cursor() as cursor:
        _table(cursor)
    with timed() as elapsed, connection, connection.cursor() as cursor:
        execute_values(cursor, "INSERT INTO bench_rows VALUES %s", _rows(n), page_size=1000)
    connection.close()
    return n / elapsed()


def copy_rate(url: str, table: str, columns: str, rows) -> float:
    """COPY the rows (sequences of text) into a fresh plain table: the floor nothing beats."""
    connection = psycopg2.connect(url)
    with connection, connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TABLE {table} ({columns})")
    connection.close()
    data = "".join("\t".join(str(value) for value in row) + "\n" for row in rows)
    # eventlet makes psycopg2 green with a wait callback, under which COPY is refused; the
    # baseline runs alone, so the plain blocking driver is the fair measure.
    green = psycopg2.extensions.get_wait_callback()
    psycopg2.extensions.set_wait_callback(None)
    try:
        connection = psycopg2.connect(url)
        with timed() as elapsed, connection, connection.cursor() as cursor:
            cursor.copy_from(io.StringIO(data), table)
        connection.close()
    finally:
        psycopg2.extensions.set_wait_callback(green)
    return len(rows) / elapsed()


def pg_copy_rate(url: str, n: int = 60000) -> float:
    return copy_rate(url, "bench_rows", "id int primary key, member_no text, org_code text, "
                     "joined_on date, employment text", _rows(n))


def pg_commit_per_row_rate(url: str, n: int = 3000) -> float:
    connection = psycopg2.connect(url)
    with connection, connection.cursor() as cursor:
        _table(cursor)
    with timed() as elapsed:
        for row in _rows(n):
            with connection, connection.cursor() as cursor:
                cursor.execute("INSERT INTO bench_rows VALUES (%s, %s, %s, %s, %s)", row)
    connection.close()
    return n / elapsed()


# -- quorum queues, as every consumer queue is (DESIGN §3) -------------------------------------

QUORUM_PREFETCH = 1000   # the kit's prefetch for its largest batch (500 × 2)


def of_this_run(ctx, name: str) -> float:
    """A quorum baseline (`quorum_publish`, `quorum_drain`) of this run: measured the first time
    a benchmark asks (on that benchmark's vhost) unless run.py measured it up front, and kept
    in the run's baselines for the next one."""
    if name not in ctx.baselines:
        value = {"quorum_publish": quorum_publish_rate,
                 "quorum_drain": quorum_drain_rate,
                 "quorum_two_hop": quorum_two_hop_rate}[name](ctx.amqp_uri)
        ctx.baselines[name] = value
        bench_line(f"baseline_{name}", value, "msg/s", value, "-", True)
    return ctx.baselines[name]


def quorum_queue(channel, event_type: str = "ping") -> Queue:
    """A queue declared as every consumer queue is (topology.consumer_queues: quorum, delivery
    limit, dead letters at least once), bound to an exchange of its own; empty."""
    queue = consumer_queues("bench", "bench_quorum", event_type)[0]
    queue.exchange.bind(channel).declare()
    queue.bind(channel).declare()
    channel.queue_purge(queue.name)
    return queue


def quorum_publish_rate(amqp_uri: str, n: int = 10000, runs: int = 3) -> float:
    """Publishes to a quorum queue with publisher confirms, persistent, all in flight at once
    (py-amqp's own basic_publish), timed until the last one's confirm: how fast the broker
    takes confirmed messages into a quorum queue. The best of `runs`, as the drains."""
    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        queue = quorum_queue(channel)
        seconds = min(_publish_confirmed(amqp_uri, queue, n) for _ in range(runs))
        channel.queue_delete(queue.name)
    return n / seconds


def _publish_confirmed(amqp_uri: str, queue: Queue, n: int) -> float:
    """Publish n messages to the queue, confirmed; the seconds until the last confirm."""
    connection = amqp.Connection(connect_timeout=5, **connection_params(amqp_uri))
    connection.connect()
    highest, nacked = [0], []

    def on_ack(tag, multiple):
        highest[0] = max(highest[0], tag)

    try:
        channel = connection.channel()
        channel.confirm_select()
        channel.events["basic_ack"].add(on_ack)
        channel.events["basic_nack"].add(lambda tag, multiple: nacked.append(tag))
        with timed() as elapsed:
            for _ in range(n):
                channel.basic_publish(
                    amqp.Message(BODY, delivery_mode=2, content_type="application/json"),
                    exchange=queue.exchange.name, routing_key=queue.routing_key)
            while highest[0] < n:   # one queue: its confirms come in order
                if nacked:
                    raise RuntimeError(f"baseline: message {nacked[0]} nacked")
                connection.drain_events(timeout=30)
        return elapsed()
    finally:
        connection.collect()


def quorum_drain_rate(amqp_uri: str, n: int = 10000, runs: int = 3) -> float:
    """Consume and ack a quorum queue filled beforehand, doing nothing else, with the kit's
    per-consumer prefetch: the best of `runs` drains (as trivial_nameko_drain_rate)."""
    return max(_one_quorum_drain(amqp_uri, n) for _ in range(runs))


def _one_quorum_drain(amqp_uri: str, n: int) -> float:
    acked = []

    def on_message(message):
        message.ack()
        acked.append(1)

    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        queue = quorum_queue(channel)
        _publish_confirmed(amqp_uri, queue, n)
        with timed() as elapsed, Consumer(channel, queues=[queue], on_message=on_message,
                                          prefetch_count=QUORUM_PREFETCH, accept=None):
            while len(acked) < n:
                connection.drain_events(timeout=30)
        rate = n / elapsed()
        channel.queue_delete(queue.name)
    return rate


def quorum_two_hop_rate(amqp_uri: str, n: int = 10000, runs: int = 3) -> float:
    """The broker's share of the two-hop pipeline with the kit's own transport and nothing
    else: a quorum queue filled beforehand is drained in batches that the kit's publisher sends
    on, confirmed, to a second quorum queue (each batch acked once confirmed), which a second
    consumer drains and acks; timed until the second queue has all. No database, no contract
    check, no handler, no outbox: near what two hops through this broker reach on this box."""
    return max(_one_two_hop(amqp_uri, n) for _ in range(runs))


TWO_HOP_BATCH = 250


def _one_two_hop(amqp_uri: str, n: int) -> float:
    import eventlet

    from services.kit.amqp import ConfirmingPublisher, Outgoing

    held, landed = [], [0]
    publisher = ConfirmingPublisher(amqp_uri)
    with Connection(amqp_uri) as first, Connection(amqp_uri) as second:
        channel = first.channel()
        source, target = quorum_queue(channel, "hop1"), quorum_queue(channel, "hop2")
        _publish_confirmed(amqp_uri, source, n)

        def forward():
            batch, held[:] = list(held), []
            publisher.publish([Outgoing(target.exchange.name, target.routing_key, m.body)
                               for m in batch])
            channel.basic_ack(batch[-1].delivery_tag, multiple=True)

        def land(message):
            landed[0] += 1
            if landed[0] % TWO_HOP_BATCH == 0 or landed[0] >= n:
                message.channel.basic_ack(message.delivery_tag, multiple=True)

        def pump(connection, on_idle=None, on_each=None):
            while landed[0] < n:
                try:
                    connection.drain_events(timeout=0.005)
                except TimeoutError:
                    if on_idle and held:
                        on_idle()
                    continue
                if on_each and len(held) >= TWO_HOP_BATCH:
                    on_each()

        landing = second.channel()
        with timed() as elapsed, \
                Consumer(channel, queues=[source], on_message=held.append,
                         prefetch_count=QUORUM_PREFETCH, accept=None), \
                Consumer(landing, queues=[target], on_message=land,
                         prefetch_count=QUORUM_PREFETCH, accept=None):
            hop = eventlet.spawn(pump, first, forward, forward)
            pump(second)
            hop.wait()
        rate = n / elapsed()
        publisher.close()
        channel.queue_delete(source.name)
        channel.queue_delete(target.name)
    return rate
