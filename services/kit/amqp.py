"""Publishing with publisher confirms: a batch goes out, then the kit waits for all its confirms."""

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
    """One connection and confirm-mode channel; safe to share between green threads."""

    def __init__(self, uri: str, confirm_timeout: float = 15.0):
        self.uri = uri
        self.confirm_timeout = confirm_timeout
        self._lock = Semaphore()
        self._connection = None
        self._channel = None
        self._next_tag = 1
        self._pending: set[int] = set()
        self._nacked: set[int] = set()
        self._returned: list[tuple[str, str, str]] = []

    def _open(self):
        if self._channel is not None and self._connection.connected:
            return self._channel
        self.close()
        connection = amqp.Connection(connect_timeout=5, **connection_params(self.uri))
        connection.connect()
        channel = connection.channel()
        channel.confirm_select()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)
        channel.events["basic_return"].add(self._on_return)
        self._connection, self._channel, self._next_tag = connection, channel, 1
        return channel

    def _settle(self, tag: int, multiple: bool) -> set[int]:
        settled = {t for t in self._pending if t <= tag} if multiple else {tag} & self._pending
        self._pending -= settled
        return settled

    def _on_ack(self, tag, multiple):
        self._settle(tag, multiple)

    def _on_nack(self, tag, multiple):
        self._nacked |= self._settle(tag, multiple)

    def _on_return(self, exc, exchange, routing_key, message):
        self._returned.append((exchange, routing_key, str(exc)))

    def publish(self, messages: list[Outgoing]) -> list[tuple[str, str, str]]:
        """Publish all, wait for every confirm. Returns the (exchange, key, reason) returned as
        unroutable; raises PublishFailed if any message was not confirmed."""
        if not messages:
            return []
        with self._lock:
            try:
                channel = self._open()
                self._pending, self._nacked, self._returned = set(), set(), []
                with corked(self._connection.transport):
                    self._send(channel, messages)
                deadline = time.monotonic() + self.confirm_timeout
                while self._pending:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise PublishFailed(f"{len(self._pending)} messages not confirmed in time")
                    try:
                        self._connection.drain_events(timeout=remaining)
                    except TimeoutError:
                        continue
                if self._nacked:
                    raise PublishFailed(f"{len(self._nacked)} messages nacked by the broker")
                return list(self._returned)
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


def declare_topology(uri: str) -> None:
    """Declare every exchange and consumer queue of DESIGN §3 (idempotent)."""
    from services.contracts import topology

    with Connection(uri, connect_timeout=5) as connection:
        channel = connection.channel()
        topology.declare(channel)
        channel.close()
