"""The fault runs' own RabbitMQ cluster (chaos.brokers): three nodes of ours start and form one
cluster beside the machine's broker, a quorum queue keeps every confirmed message when its
leader is killed, and nothing of ours is left running afterwards."""

import amqp
import pytest

from chaos.brokers import Cluster, beam_pids

# Not the scenarios' 5681 (a test may run beside `make chaos`), and no node whose management
# port (AMQP + 10000) is 15692, where the machine's broker serves rabbitmq_prometheus.
FIRST_PORT = 5695
QUEUE = "peixun-chaos-brokers-test"
MESSAGES = 1000


def publish_confirmed(host: str, count: int) -> None:
    connection = amqp.Connection(host=host, confirm_publish=True)
    connection.connect()
    try:
        channel = connection.channel()
        channel.queue_declare(QUEUE, durable=True, auto_delete=False,
                              arguments={"x-queue-type": "quorum"})
        for number in range(count):
            channel.basic_publish(amqp.Message(str(number)), routing_key=QUEUE)
    finally:
        connection.close()


def drain(host: str) -> list[str]:
    connection = amqp.Connection(host=host)
    connection.connect()
    try:
        channel = connection.channel()
        bodies = []
        while (message := channel.basic_get(QUEUE, no_ack=True)) is not None:
            bodies.append(message.body.decode() if isinstance(message.body, bytes)
                          else message.body)
        return bodies
    finally:
        connection.close()


@pytest.mark.timeout(300)
def test_a_quorum_queue_keeps_every_confirmed_message_when_its_leader_is_killed():
    with Cluster(3, first_port=FIRST_PORT) as cluster:
        names = [node.name for node in cluster.nodes]
        assert cluster.clustered() == set(names)

        publish_confirmed(cluster.hosts[0], MESSAGES)
        leader = cluster.leader("/", QUEUE)
        cluster.kill(leader)
        assert not beam_pids(leader.name)

        successor = cluster.leader("/", QUEUE)
        assert successor != leader
        bodies = drain(successor.host)
    assert sorted(bodies, key=int) == [str(number) for number in range(MESSAGES)]
    assert not [name for name in names if beam_pids(name)], "a node of ours is still running"
