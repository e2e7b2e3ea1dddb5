"""Operators' view of `peixun.dead_letters`: list reasons, replay to the consumer that failed."""

from kombu import Connection

from services.contracts.topology import dead_letter_queue

from .amqp import ConfirmingPublisher, Outgoing
from .events import H_EXCHANGE, H_QUEUE, H_REASON, H_ROUTING_KEY, H_SERVICE

REPLAYED = "x-peixun-replayed"
KEPT = (H_EXCHANGE, H_ROUTING_KEY, REPLAYED)


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


def _describe(message) -> dict:
    headers = _verdict(message.headers or {})
    body = message.body
    return {
        "reason": headers.get(H_REASON),
        "service": headers.get(H_SERVICE),
        "original_exchange": headers.get(H_EXCHANGE),
        "original_routing_key": headers.get(H_ROUTING_KEY),
        "original_queue": headers.get(H_QUEUE),
        "message_id": (message.properties or {}).get("message_id"),
        "body": body.decode("utf-8", "replace") if isinstance(body, bytes) else body,
    }


def peek(uri: str, limit: int = 100) -> list[dict]:
    """Read up to `limit` dead letters without taking them: closing the channel unacked
    puts them back in order."""
    letters = []
    with Connection(uri) as connection:
        channel = connection.channel()
        queue = dead_letter_queue().bind(channel)
        try:
            while len(letters) < limit:
                message = queue.get(no_ack=False)   # raw: a dead letter may not be JSON
                if message is None:
                    break
                letters.append(_describe(message))
        finally:
            channel.close()
    return letters


def replay(uri: str, limit: int | None = None) -> int:
    """Republish each dead letter to its original queue only; ack it once confirmed."""
    publisher = ConfirmingPublisher(uri)
    count = 0
    try:
        with Connection(uri) as connection:
            queue = dead_letter_queue().bind(connection.channel())
            while limit is None or count < limit:
                message = queue.get(no_ack=False)
                if message is None:
                    break
                headers = _verdict(message.headers or {})
                target = headers.get(H_QUEUE)
                if not target:
                    message.requeue()
                    raise RuntimeError("a dead letter has no x-peixun-original-queue header")
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
