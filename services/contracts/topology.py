"""Who consumes what: every consumer queue, declared up front by whichever service starts first.

An event published before its consumer ever ran is then kept in the consumer's queue instead
of being returned as unroutable (DESIGN §3).
"""

from amqp.exceptions import PreconditionFailed
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
# Dead letters an operator dropped for good (`peixun dlq drop`), kept with who, when and why.
DROPPED_QUEUE = "peixun.dead_letters.dropped"

# Every durable queue is a quorum queue, so a three-node cluster loses nothing confirmed while
# two nodes live (DESIGN §3). A message returned unsettled this many times (its consumer died
# on it each time) the broker dead-letters: the kit's own limit (REDELIVERY_LIMIT) comes first
# and says why; this is the backstop, so poison never loops.
DELIVERY_LIMIT = 10
REDELIVERY_LIMIT = 5
# Reading dead letters (`peixun dlq list`) returns them unsettled, which counts as a delivery:
# the dead-letter queue's limit is out of reach, so listing can never make the broker drop one.
DEAD_LETTER_DELIVERY_LIMIT = 1_000_000_000
# Dead-lettering from a quorum queue is at-most-once unless asked; at-least-once needs
# reject-publish overflow (RabbitMQ 3.10).
AT_LEAST_ONCE = {"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}


def quorum(delivery_limit: int = DELIVERY_LIMIT, **arguments) -> dict:
    """A durable queue's arguments: quorum, with a delivery limit."""
    return {"x-queue-type": "quorum", "x-delivery-limit": delivery_limit, **arguments}


class MovedToQuorum(RuntimeError):
    """A queue exists with other arguments (a classic queue from before DESIGN §3's quorum
    queues): the broker refuses the declaration; docs/operators.md says how to move over."""

    def __init__(self, queue: str, broker_says: str):
        super().__init__(
            f"queue {queue!r} exists on the broker with other arguments ({broker_says}); peixun "
            "now declares quorum queues: move the deployment over as docs/operators.md says "
            "(section 'Moving to quorum queues')")


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
    main = Queue(name, exchange=events_exchange(source), routing_key=event_type, durable=True,
                 queue_arguments=quorum(**{
                     "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
                     "x-dead-letter-routing-key": DEAD_LETTER_ROUTING_KEY, **AT_LEAST_ONCE}))
    retry = Queue(retry_queue_name(name), durable=True, queue_arguments=quorum(**{
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": name, **AT_LEAST_ONCE}))
    return main, retry


def dead_letter_queue() -> Queue:
    exchange = Exchange(DEAD_LETTER_EXCHANGE, type="direct", durable=True)
    return Queue(DEAD_LETTER_QUEUE, exchange=exchange, routing_key=DEAD_LETTER_ROUTING_KEY,
                 durable=True, queue_arguments=quorum(DEAD_LETTER_DELIVERY_LIMIT))


def dropped_queue() -> Queue:
    """Reached by its name through the default exchange; read like the dead letters, so its
    delivery limit is out of reach too."""
    return Queue(DROPPED_QUEUE, durable=True, queue_arguments=quorum(DEAD_LETTER_DELIVERY_LIMIT))


def rpc_queue_arguments() -> dict:
    """A service's RPC request queue (`rpc-<service>`, nameko's) is quorum too, so calls reach
    a service while any two nodes live; a request its service dies on is dropped at the limit
    (its caller has long timed out). Reply queues stay classic and exclusive to their caller."""
    return quorum()


def all_queues() -> list[Queue]:
    queues = [dead_letter_queue(), dropped_queue()]
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
        declare_queue(queue, channel)


def declare_queue(queue: Queue, channel) -> None:
    """Declare one queue; a queue left from before quorum queues gets an operator's message."""
    try:
        queue.bind(channel).declare()
    except PreconditionFailed as exc:
        raise MovedToQuorum(queue.name, str(exc)) from exc
