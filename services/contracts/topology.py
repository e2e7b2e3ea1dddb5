"""Who consumes what: every consumer queue, declared up front by whichever service starts first.

An event published before its consumer ever ran is then kept in the consumer's queue instead
of being returned as unroutable (DESIGN §3).
"""

from kombu import Exchange, Queue

from . import CONTRACTS

SOURCES = ("scheduling", "enrollment", "reporting", "live_platform", "member_registry")

# consumer service -> the (source, event type) pairs it handles
_CLASS_AND_SESSION_EVENTS = tuple(("scheduling", t) for t in (
    "class_published", "class_changed", "class_cancelled", "class_completed", "session_scheduled",
    "session_rescheduled", "session_cancelled", "session_completed"))

SUBSCRIPTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "enrollment": _CLASS_AND_SESSION_EVENTS + (
        ("live_platform", "viewer_attended"),
        ("member_registry", "member_changed"),
    ),
    "reporting": (("scheduling", "program_changed"),) + _CLASS_AND_SESSION_EVENTS + tuple(
        ("enrollment", t) for t in (
            "organisation_changed", "person_changed", "enrollment_nominated",
            "enrollment_confirmed", "enrollment_waitlisted", "enrollment_rejected",
            "enrollment_withdrawn", "attendance_recorded", "completion_recorded",
            "study_hours_recorded")),
}

DEAD_LETTER_EXCHANGE = "peixun.dlx"
DEAD_LETTER_QUEUE = "peixun.dead_letters"
DEAD_LETTER_ROUTING_KEY = DEAD_LETTER_QUEUE


def exchange_name(source: str) -> str:
    return f"{source}.events"


def events_exchange(source: str) -> Exchange:
    return Exchange(exchange_name(source), type="topic", durable=True)


def queue_name(service: str, source: str, event_type: str) -> str:
    """nameko's own naming for event handler queues, so operators recognise them."""
    return f"evt-{source}-{event_type}--{service}"


def retry_queue_name(queue: str) -> str:
    return f"{queue}.retry"


def consumer_queues(service: str, source: str, event_type: str) -> tuple[Queue, Queue]:
    """The consumer's queue and its retry queue, whose expired messages flow back into it."""
    name = queue_name(service, source, event_type)
    main = Queue(name, exchange=events_exchange(source), routing_key=event_type, durable=True)
    retry = Queue(retry_queue_name(name), durable=True, queue_arguments={
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": name,
    })
    return main, retry


def dead_letter_queue() -> Queue:
    exchange = Exchange(DEAD_LETTER_EXCHANGE, type="direct", durable=True)
    return Queue(DEAD_LETTER_QUEUE, exchange=exchange, routing_key=DEAD_LETTER_ROUTING_KEY,
                 durable=True)


def all_queues() -> list[Queue]:
    queues = [dead_letter_queue()]
    for service, pairs in SUBSCRIPTIONS.items():
        for source, event_type in pairs:
            assert (source, event_type) in CONTRACTS, f"no contract for {source}.{event_type}"
            queues.extend(consumer_queues(service, source, event_type))
    return queues


def declare(channel) -> None:
    """Declare every exchange and consumer queue (idempotent)."""
    for source in SOURCES:
        events_exchange(source).bind(channel).declare()
    for queue in all_queues():
        queue.bind(channel).declare()
