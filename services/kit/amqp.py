"""Publishing with publisher confirms: a batch goes out, then the kit waits for its confirms;
the relay keeps a few batches going out while the first ones' confirms come back."""

import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import amqp
from amqp import spec
from amqp.serialization import dumps
from eventlet.semaphore import Semaphore
from kombu import Connection

log = logging.getLogger(__name__)

JSON = "application/json"


class PublishFailed(Exception):
    """The broker did not confirm a message (nacked, timed out or the connection dropped)."""


@dataclass
class Outgoing:
    exchange: str
    routing_key: str
    body: bytes
    headers: dict = field(default_factory=dict)
    message_id: str | None = None
    type: str | None = None
    content_type: str | None = JSON
    content_encoding: str | None = "utf-8"
    expiration: str | None = None
    mandatory: bool = True


def node_uris(uri: str) -> list[str]:
    """Each node's URI of a failover URI (`;`-separated, kombu's form)."""
    return [part.strip() for part in uri.split(";") if part.strip()]


def connection_params(uri: str) -> dict:
    parsed = Connection(uri)
    return {
        "host": f"{parsed.hostname or 'localhost'}:{parsed.port or 5672}",
        "userid": parsed.userid or "guest",
        "password": parsed.password or "guest",
        "virtual_host": parsed.virtual_host or "/",
    }


@contextmanager
def corked(transport):
    """A batch's frames in one socket write: py-amqp writes each message on its own, and those
    writes were most of the relay's time."""
    frames = bytearray()
    send = transport._write
    transport._write = frames.extend
    try:
        yield
    finally:
        transport._write = send
    transport.write(bytes(frames))


class ConfirmingPublisher:
    """One connection and confirm-mode channel; safe to share between green threads.

    `publish` sends a batch and waits for its confirms. `pipeline` holds the publisher for a run
    of `send`s whose confirms are awaited later, oldest first (`wait`), so that the broker works
    on the next batches while the first ones' confirms come back (services.kit.outbox)."""

    def __init__(self, uri: str, confirm_timeout: float = 15.0):
        self.uri = uri
        self.confirm_timeout = confirm_timeout
        self._lock = Semaphore()
        self._node = 0   # index of the broker node that answered last
        self._connection = None
        self._channel = None
        self._next_tag = 1
        self._lowest = 1   # every tag below it is settled
        self._pending: set[int] = set()
        self._first_nack: int | None = None
        self._returned: list[tuple[str, str, str]] = []

    def _open(self):
        if self._channel is not None and self._connection.connected:
            return self._channel
        self.close()
        connection = self._connect()
        channel = connection.channel()
        channel.confirm_select()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)
        channel.events["basic_return"].add(self._on_return)
        self._connection, self._channel = connection, channel
        self._next_tag = self._lowest = 1
        self._pending, self._first_nack, self._returned = set(), None, []
        return channel

    def _connect(self) -> amqp.Connection:
        """The first node that answers, starting from the one that answered last: a failover
        URI (`amqp://…@a/vh;amqp://…@b/vh`, as kombu and nameko read AMQP_URI) names every
        node of a cluster, and a relay must publish while any of them lives."""
        nodes = node_uris(self.uri)
        failures = []
        for step in range(len(nodes)):
            index = (self._node + step) % len(nodes)
            try:
                connection = amqp.Connection(connect_timeout=5, **connection_params(nodes[index]))
                connection.connect()
            except Exception as exc:  # noqa: BLE001 - try the next node; all failing is raised
                failures.append(f"{connection_params(nodes[index])['host']}: {exc}")
                continue
            self._node = index
            return connection
        raise ConnectionError("no broker node answered (" + "; ".join(failures) + ")")

    def _settle(self, tag: int, multiple: bool) -> None:
        if multiple:   # every tag up to this one
            for t in range(self._lowest, tag + 1):
                self._pending.discard(t)
            self._lowest = max(self._lowest, tag + 1)
        else:
            self._pending.discard(tag)

    def _unsettled_up_to(self, tag: int) -> bool:
        while self._lowest < self._next_tag and self._lowest not in self._pending:
            self._lowest += 1
        return self._lowest <= tag and self._lowest < self._next_tag

    def _outstanding(self) -> bool:
        return self._unsettled_up_to(self._next_tag - 1)

    def _on_ack(self, tag, multiple):
        self._settle(tag, multiple)

    def _on_nack(self, tag, multiple):
        first = tag
        if multiple and self._unsettled_up_to(tag):
            first = self._lowest
        self._first_nack = first if self._first_nack is None else min(self._first_nack, first)
        self._settle(tag, multiple)

    def _on_return(self, exc, exchange, routing_key, message):
        self._returned.append((exchange, routing_key, str(exc)))

    def publish(self, messages: list[Outgoing]) -> list[tuple[str, str, str]]:
        """Publish all, wait for every confirm. Returns the (exchange, key, reason) returned as
        unroutable; raises PublishFailed if any message was not confirmed."""
        if not messages:
            return []
        with self.pipeline() as pipe:
            return pipe.wait(pipe.send(messages))

    @contextmanager
    def pipeline(self):
        """The publisher held for one run of sends (yields it). A run left with confirms still
        outstanding (its caller failed or stopped) closes the connection: they are unknown."""
        with self._lock:
            try:
                self._guarded(self._open)
                yield self
            finally:
                if self._channel is not None and self._outstanding():
                    self.close()

    def send(self, messages: list[Outgoing]) -> int:
        """Write the messages in one go; answers the last one's delivery tag (for `wait`)."""
        def write():
            channel = self._open_in_run()
            if self._first_nack is not None:   # no more after a refusal: the run is over
                self._after_nack()
            with corked(self._connection.transport):
                self._send(channel, messages)
            return self._next_tag - 1
        return self._guarded(write)

    def wait(self, tag: int) -> list[tuple[str, str, str]]:
        """Wait until every message up to `tag` is confirmed; answers those returned as
        unroutable since the last wait. A nack, a timeout or a dropped connection raises
        PublishFailed and closes the connection; after a nack, every later confirm is awaited
        first (up to the timeout), so that nothing sent before can land after a republish."""
        deadline = time.monotonic() + self.confirm_timeout

        def settle():
            while self._unsettled_up_to(tag) and not self._nacked_up_to(tag):
                self._drain(deadline)
            if self._nacked_up_to(tag):
                self._after_nack(deadline)
            returned, self._returned = self._returned, []
            return returned
        return self._guarded(settle)

    def _after_nack(self, deadline: float | None = None):
        deadline = deadline or time.monotonic() + self.confirm_timeout
        while self._outstanding():
            self._drain(deadline)
        raise PublishFailed(f"message {self._first_nack} nacked by the broker")

    def _open_in_run(self):
        """The run's channel. A run never reopens: the confirms of what it sent are lost
        with a closed connection, and a new one counts delivery tags from 1 again."""
        if self._channel is None or not self._connection.connected:
            raise PublishFailed("the connection closed during the run")
        return self._channel

    def _nacked_up_to(self, tag: int) -> bool:
        return self._first_nack is not None and self._first_nack <= tag

    def _drain(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise PublishFailed(f"{len(self._pending)} messages not confirmed in time")
        self._open_in_run()
        try:
            self._connection.drain_events(timeout=remaining)
        except TimeoutError:
            pass

    def _guarded(self, work):
        """Any failure closes the connection (its confirms are lost with it) as PublishFailed."""
        try:
            return work()
        except PublishFailed:
            self.close()
            raise
        except Exception as exc:
            self.close()
            raise PublishFailed(f"{type(exc).__name__}: {exc}") from exc

    def _send(self, channel, messages: list[Outgoing]) -> None:
        """Each message's frames through the connection's frame writer, as basic_publish
        writes them. basic_publish would first poll the socket for a connection.blocked (a
        read that times out, for every message): that was a third of the relay's publishing,
        and waiting for the confirms reads any such notice anyway."""
        write_frame = channel.connection.frame_writer
        publish_args: dict[tuple, bytes] = {}
        for m in messages:
            properties = {"content_type": m.content_type, "delivery_mode": 2,
                          "application_headers": m.headers or {}}
            if m.content_encoding:
                properties["content_encoding"] = m.content_encoding
            if m.message_id:
                properties["message_id"] = m.message_id
            if m.type:
                properties["type"] = m.type
            if m.expiration is not None:
                properties["expiration"] = m.expiration
            route = (m.exchange, m.routing_key, m.mandatory)
            if route not in publish_args:   # basic.publish's arguments, as py-amqp packs them
                publish_args[route] = dumps("Bssbb", (0, *route, False))
            write_frame(1, channel.channel_id, spec.Basic.Publish, publish_args[route],
                        amqp.Message(m.body, **properties))
            self._pending.add(self._next_tag)
            self._next_tag += 1

    def close(self):
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None:
            try:
                connection.collect()
            except Exception:  # noqa: BLE001 - a dead connection is what we are discarding
                pass


START_PATIENCE = 120.0   # seconds a starting service waits for the broker to answer


def declare_topology(uri: str, patience: float = START_PATIENCE) -> None:
    """Declare every exchange and consumer queue of DESIGN §3 (idempotent). A broker that is
    still starting (or slower than one handshake's timeout) is waited for, up to `patience`
    seconds: services started beside it had exited at the first refusal."""
    from services.contracts import topology

    deadline = time.monotonic() + patience
    wait = 0.5
    while True:
        try:
            with Connection(uri, connect_timeout=5) as connection:
                channel = connection.channel()
                topology.declare(channel)
                channel.close()
            return
        except (OSError, amqp.exceptions.RecoverableConnectionError) as exc:
            if time.monotonic() + wait > deadline:
                raise
            log.warning("the broker did not answer (%s); trying again in %.0fs", exc, wait)
            time.sleep(wait)
            wait = min(wait * 2, 10.0)
