"""DESIGN §3, queues survive a node: every durable queue is a quorum queue with a delivery
limit, so a message its consumer keeps dying on ends in the dead letters instead of looping."""

import urllib.parse
import uuid

import pytest
import requests
from kombu import Connection, Queue

from services.contracts.topology import (
    DEAD_LETTER_QUEUE,
    DELIVERY_LIMIT,
    REDELIVERY_LIMIT,
    MovedToQuorum,
    queue_name,
)
from services.enrollment.service import EnrollmentService
from services.kit import dead_letters as dlq
from services.kit.amqp import ConfirmingPublisher, Outgoing, declare_topology
from services.reporting.service import ReportingService
from services.scheduling.service import SchedulingService
from tests.support.broker import RABBIT_API, RABBIT_AUTH
from tests.support.class_progress import progress_of, session_completed
from tests.support.system import free_port
from tests.support.waiting import wait_until

REPORTING_QUEUE = queue_name("reporting", "scheduling", "session_completed")


def queues(vhost) -> dict[str, dict]:
    response = requests.get(f"{RABBIT_API}/queues/{urllib.parse.quote(vhost, safe='')}",
                            auth=RABBIT_AUTH, timeout=10)
    return {queue["name"]: queue for queue in response.json()}


def return_unsettled(amqp_uri, queue: str, times: int) -> None:
    """What a consumer that dies holding the message does to it, `times` times over: take it,
    let go without settling. The quorum queue counts each return."""
    with Connection(amqp_uri) as connection:
        for _ in range(times):
            channel = connection.channel()
            message = wait_until(lambda ch=channel: Queue(queue).bind(ch).get(no_ack=False),
                                 message=f"the message in {queue}")
            message.reject(requeue=True)
            channel.close()


def test_every_durable_queue_is_quorum_with_a_delivery_limit_and_reply_queues_stay_classic(
        runner_factory, service_config, vhost, rpc):
    runner = runner_factory(service_config, SchedulingService, EnrollmentService,
                            ReportingService)
    runner.start()
    assert rpc.scheduling.health()["status"] == "ok"   # the proxy's reply queue exists too

    found = queues(vhost)
    replies = [q for name, q in found.items() if name.startswith("rpc.reply-")]
    durable = {name: q for name, q in found.items()
               if q["durable"] and not name.startswith("rpc.reply-")}
    assert {f"rpc-{s}" for s in ("scheduling", "enrollment", "reporting")} <= set(durable)
    assert REPORTING_QUEUE in durable and f"{REPORTING_QUEUE}.retry" in durable
    assert DEAD_LETTER_QUEUE in durable
    for name, queue in durable.items():
        assert queue["type"] == "quorum", name
        assert queue["arguments"]["x-delivery-limit"] >= DELIVERY_LIMIT, name
    # nameko's reply queues: classic and gone a while after their caller is; a service's own
    # are transient, declared afresh on a live node when theirs dies.
    assert replies and all(q["type"] == "classic" and "x-expires" in q["arguments"]
                           for q in replies)
    services = [q for q in replies if not q["name"].startswith("rpc.reply-standalone")]
    assert services and not any(q["durable"] for q in services)


def test_a_message_its_consumer_keeps_dying_on_is_dead_lettered_and_replays_after_the_fix(
        container_factory, service_config, publish, amqp_uri, database_urls):
    declare_topology(amqp_uri)
    event = session_completed()
    publish("scheduling.events", "session_completed", event.body())
    return_unsettled(amqp_uri, REPORTING_QUEUE, REDELIVERY_LIMIT)

    reporting = container_factory(ReportingService, service_config)
    reporting.start()
    wait_until(lambda: dlq.peek(amqp_uri, 10), message="the dead letter")
    [letter] = dlq.peek(amqp_uri, 10)
    assert letter["reason"].startswith(f"redelivered {REDELIVERY_LIMIT} times without being "
                                       "settled")
    assert letter["original_queue"] == REPORTING_QUEUE
    assert progress_of(database_urls["reporting"], event.data["class_id"]) is None

    # Fixed and deployed: the replay is a fresh start, not a sixth return.
    assert dlq.replay(amqp_uri) == 1
    wait_until(lambda: progress_of(database_urls["reporting"], event.data["class_id"])
               == (1, 2.0), message="the replayed event handled")
    assert dlq.peek(amqp_uri, 10) == []


def test_past_the_kit_the_broker_dead_letters_at_the_delivery_limit_and_says_why(
        service_config, publish, amqp_uri, database_urls, container_factory):
    """No kit consumer to count: the queue itself gives up on the message at its limit, into
    the same dead letters, where the operator reads the broker's reason and can replay it."""
    declare_topology(amqp_uri)
    event = session_completed()
    publish("scheduling.events", "session_completed", event.body())
    return_unsettled(amqp_uri, REPORTING_QUEUE, DELIVERY_LIMIT + 1)

    wait_until(lambda: dlq.peek(amqp_uri, 10), message="the broker's dead letter")
    [letter] = dlq.peek(amqp_uri, 10)
    assert letter["reason"] == "broker: delivery_limit"
    assert letter["service"] == "reporting"
    assert letter["original_queue"] == REPORTING_QUEUE
    assert letter["original_routing_key"] == "session_completed"

    reporting = container_factory(ReportingService, service_config)
    reporting.start()
    assert dlq.replay(amqp_uri) == 1
    wait_until(lambda: progress_of(database_urls["reporting"], event.data["class_id"])
               == (1, 2.0), message="the replayed event handled")


def test_listing_dead_letters_many_times_never_makes_the_broker_drop_one(
        service_config, publish, amqp_uri):
    declare_topology(amqp_uri)
    with Connection(amqp_uri) as connection:
        connection.Producer().publish(b"kept", exchange="peixun.dlx",
                                      routing_key=DEAD_LETTER_QUEUE, delivery_mode=2,
                                      headers={"x-peixun-reason": "a test's"})
    for _ in range(DELIVERY_LIMIT + 2):
        assert [letter["body"] for letter in dlq.peek(amqp_uri, 10)] == ["kept"]


def test_a_classic_queue_left_from_before_gets_the_operators_message(amqp_uri, service_config):
    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        channel.queue_delete(REPORTING_QUEUE)
        Queue(REPORTING_QUEUE, durable=True).bind(channel).declare()   # as before quorum
    try:
        with pytest.raises(MovedToQuorum) as refused:
            declare_topology(amqp_uri)
        assert REPORTING_QUEUE in str(refused.value)
        assert "docs/operators.md" in str(refused.value)
    finally:
        with Connection(amqp_uri) as connection:
            connection.channel().queue_delete(REPORTING_QUEUE)
        declare_topology(amqp_uri)   # as the other tests expect it


def test_a_publisher_given_every_node_publishes_through_whichever_answers(amqp_uri):
    """AMQP_URI names every node of a cluster (kombu's failover form); the relay and the dead
    letters' publisher must reach the broker while any node lives, not only the first."""
    gone = amqp_uri.replace(":5672/", f":{free_port()}/")   # nothing listens there
    publisher = ConfirmingPublisher(f"{gone};{amqp_uri}")
    with Connection(amqp_uri) as connection:
        Queue("test-failover", durable=False, auto_delete=False).bind(
            connection.channel()).declare()
    try:
        assert publisher.publish([Outgoing("", "test-failover", b"through the second")]) == []
    finally:
        publisher.close()
        with Connection(amqp_uri) as connection:
            channel = connection.channel()
            assert channel.queue_declare("test-failover", passive=True)[1] == 1
            channel.queue_delete("test-failover")



def test_the_broker_takes_connections_beside_several_runs_of_quorum_queues(amqp_uri):
    """Each quorum queue reserves file handles (about 18 in RabbitMQ 3.10); under a soft limit
    of 1,024 open files one run's sixty queues take them all and the broker stops taking
    connections. deploy/local/ensure-infra.sh lifts the limit (Docker's image has it high)."""
    runs = [f"peixun-test-handles-{uuid.uuid4().hex[:6]}" for _ in range(3)]
    try:
        for run in runs:
            url = f"{RABBIT_API}/vhosts/{run}"
            requests.put(url, auth=RABBIT_AUTH, timeout=30).raise_for_status()
            requests.put(f"{RABBIT_API}/permissions/{run}/guest", auth=RABBIT_AUTH, timeout=30,
                         json={"configure": ".*", "write": ".*", "read": ".*"}
                         ).raise_for_status()
            declare_topology(amqp_uri.rsplit("/", 1)[0] + f"/{run}")
        with Connection(amqp_uri, connect_timeout=10) as connection:
            connection.connect()   # blocked for good once the handles are gone
    finally:
        for run in runs:
            requests.delete(f"{RABBIT_API}/vhosts/{run}", auth=RABBIT_AUTH, timeout=60)
