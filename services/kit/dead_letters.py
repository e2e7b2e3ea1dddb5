"""Operators' view of `peixun.dead_letters`: list reasons, show one, replay to the consumer
that failed, or drop one for good into `peixun.dead_letters.dropped` with who, when and why.

A dead letter's id is a digest of its body and headers (the broker's own x-delivery-count left
out, since reading a message changes it), so the same letter keeps its id from one listing to
the next and after it is dropped."""

import hashlib
import json
from datetime import UTC, datetime

from kombu import Connection

from services.contracts.topology import dead_letter_queue, dropped_queue

from .amqp import ConfirmingPublisher, Outgoing
from .errors import DomainError, InvalidInput, NotFound
from .events import (
    H_DEAD_LETTERED_AT,
    H_EXCHANGE,
    H_FIRST_FAILED,
    H_QUEUE,
    H_REASON,
    H_ROUTING_KEY,
    H_SERVICE,
)

REPLAYED = "x-peixun-replayed"
KEPT = (H_EXCHANGE, H_ROUTING_KEY, REPLAYED)
DROPPED_BY = "x-peixun-dropped-by"
DROPPED_AT = "x-peixun-dropped-at"
DROPPED_REASON = "x-peixun-dropped-reason"
LETTER_ID = "x-peixun-dead-letter-id"     # the id it had while a dead letter
VOLATILE = ("x-delivery-count",)          # the broker rewrites it on every read


def _broker_verdict(headers: dict) -> dict:
    """What the broker's own dead-lettering says (a queue's delivery limit, DESIGN §3), in the
    kit's terms: it writes `x-death` and `x-first-death-*`, not the kit's headers."""
    reason = headers.get("x-first-death-reason")
    if not reason:
        return {}
    deaths = headers.get("x-death") or [{}]
    queue = headers.get("x-first-death-queue")
    return {
        H_REASON: f"broker: {reason}",
        H_SERVICE: queue.rsplit("--", 1)[-1] if queue and "--" in queue else None,
        H_EXCHANGE: headers.get("x-first-death-exchange"),
        H_ROUTING_KEY: (deaths[-1].get("routing-keys") or [None])[0],
        H_QUEUE: queue,
    }


def _verdict(headers: dict) -> dict:
    """The kit's headers, or where it did not write them, the broker's."""
    return {**_broker_verdict(headers), **{k: v for k, v in headers.items() if v is not None}}


def _jsonable(value):
    """Header values as JSON has them (x-death holds timestamps and nested tables)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    return value


def letter_id(message) -> str:
    """The same id for the same letter, however often it is read (12 hex digits)."""
    headers = message.headers or {}
    if headers.get(LETTER_ID):          # a dropped letter keeps the id it had
        return headers[LETTER_ID]
    kept = {k: v for k, v in headers.items() if k not in VOLATILE}
    digest = hashlib.sha256(message.body if isinstance(message.body, bytes)
                            else str(message.body).encode())
    digest.update(json.dumps(_jsonable(kept), sort_keys=True, default=str).encode())
    return digest.hexdigest()[:12]


def _when(headers: dict, body) -> str | None:
    """When it became a dead letter, as near as the message tells: the kit's or the broker's
    time of death, else when it first failed, else when the event happened."""
    for candidate in (headers.get(H_DEAD_LETTERED_AT),
                      ((headers.get("x-death") or [{}])[0] or {}).get("time"),
                      headers.get(H_FIRST_FAILED)):
        if candidate:
            return _jsonable(candidate)
    try:
        return json.loads(body)["occurred_at"]
    except (ValueError, TypeError, KeyError):
        return None


def _describe(message) -> dict:
    headers = _verdict(message.headers or {})
    body = message.body
    return {
        "id": letter_id(message),
        "time": _when(headers, body),
        "reason": headers.get(H_REASON),
        "service": headers.get(H_SERVICE),
        "original_exchange": headers.get(H_EXCHANGE),
        "original_routing_key": headers.get(H_ROUTING_KEY),
        "original_queue": headers.get(H_QUEUE),
        "message_id": (message.properties or {}).get("message_id"),
        "body": body.decode("utf-8", "replace") if isinstance(body, bytes) else body,
        "content_type": message.content_type,
        "headers": _jsonable(dict(message.headers or {})),
        "dropped_by": headers.get(DROPPED_BY),
        "dropped_at": headers.get(DROPPED_AT),
        "dropped_reason": headers.get(DROPPED_REASON),
    }


def _read(uri: str, queue_factory, limit: int | None) -> list[dict]:
    """Read up to `limit` messages without taking them: closing the channel unacked puts
    them back in order."""
    letters = []
    with Connection(uri) as connection:
        channel = connection.channel()
        queue = queue_factory().bind(channel)
        try:
            while limit is None or len(letters) < limit:
                message = queue.get(no_ack=False)   # raw: a dead letter may not be JSON
                if message is None:
                    break
                letters.append(_describe(message))
        finally:
            channel.close()
    return letters


def peek(uri: str, limit: int | None = 100) -> list[dict]:
    """Up to `limit` dead letters (None: all), left in the queue."""
    return _read(uri, dead_letter_queue, limit)


def dropped(uri: str, limit: int | None = 100) -> list[dict]:
    """Up to `limit` dropped letters (None: all), each with who dropped it, when and why."""
    return _read(uri, dropped_queue, limit)


def find(uri: str, wanted: str) -> dict:
    """One dead letter (or a dropped one) by its id, with its body and headers."""
    for read in (peek, dropped):
        for letter in read(uri, None):
            if letter["id"] == wanted:
                return letter
    raise NotFound(f"no dead letter {wanted} (`peixun dlq list` shows their ids)",
                   entity="dead letter")


def drop(uri: str, wanted: str, reason: str, by: str) -> dict:
    """Take dead letter `wanted` out of the dead letters for good: a copy with who, when and
    why goes to `peixun.dead_letters.dropped` (confirmed first), then the letter is acked.
    Answers the dropped letter as `dropped` lists it."""
    if not reason.strip():
        raise InvalidInput("say why the letter is dropped",
                           errors={"reason": ["give a reason (--reason TEXT)"]})
    publisher = ConfirmingPublisher(uri)
    try:
        with Connection(uri) as connection:
            channel = connection.channel()
            queue = dead_letter_queue().bind(channel)
            try:
                while (message := queue.get(no_ack=False)) is not None:
                    if letter_id(message) == wanted:
                        return _move_to_dropped(publisher, message, wanted, reason, by)
            finally:
                channel.close()   # the letters read past are back, in order
    finally:
        publisher.close()
    raise NotFound(f"no dead letter {wanted} (`peixun dlq list` shows their ids)",
                   entity="dead letter")


def _move_to_dropped(publisher, message, wanted: str, reason: str, by: str) -> dict:
    headers = {k: v for k, v in (message.headers or {}).items() if k not in VOLATILE}
    headers.update({LETTER_ID: wanted, DROPPED_BY: by, DROPPED_REASON: reason.strip(),
                    DROPPED_AT: datetime.now(UTC).isoformat(timespec="seconds")})
    properties = message.properties or {}
    publisher.publish([Outgoing(
        exchange="", routing_key=dropped_queue().name, body=message.body, headers=headers,
        message_id=properties.get("message_id"), type=properties.get("type"),
        content_type=message.content_type, content_encoding=message.content_encoding)])
    message.ack()
    message.headers = headers
    return _describe(message)


def replay(uri: str, limit: int | None = None) -> int:
    """Republish each dead letter to its original queue only; ack it once confirmed. Only the
    letters there when it starts: one that fails again while it runs waits for the next replay
    instead of going round and round."""
    publisher = ConfirmingPublisher(uri)
    count = 0
    try:
        with Connection(uri) as connection:
            queue = dead_letter_queue().bind(connection.channel())
            waiting = queue.queue_declare(passive=True).message_count
            limit = waiting if limit is None else min(limit, waiting)
            while count < limit:
                message = queue.get(no_ack=False)
                if message is None:
                    break
                headers = _verdict(message.headers or {})
                target = headers.get(H_QUEUE)
                if not target:
                    message.requeue()
                    raise DomainError(f"dead letter {letter_id(message)} names no queue to go "
                                      "back to (no x-peixun-original-queue header): `peixun dlq "
                                      "show` it, then drop it or publish it again by hand")
                # Keep where it came from; drop the verdict and the retry count. (A quorum queue
                # sets x-delivery-count itself, whatever the copy carries.)
                headers = {k: v for k, v in headers.items()
                           if not k.startswith("x-peixun-") or k in KEPT}
                headers[REPLAYED] = int(headers.get(REPLAYED, 0)) + 1
                properties = message.properties or {}
                publisher.publish([Outgoing(
                    exchange="", routing_key=target, body=message.body, headers=headers,
                    message_id=properties.get("message_id"), type=properties.get("type"),
                    content_type=message.content_type, content_encoding=message.content_encoding,
                )])
                message.ack()
                count += 1
    finally:
        publisher.close()
    return count
