"""RabbitMQ for the integration and end-to-end layers: a vhost of the run's own, an RPC proxy,
a publisher as another system publishes, and the dead letters.

Broker tests never skip: if RabbitMQ (with its management API) does not answer they fail, since
a run that skipped them proves nothing about the event guarantees."""

import os
import time
import urllib.parse
import uuid

import pytest
import requests
from kombu import Connection

RABBIT_HOST = os.environ.get("PEIXUN_TEST_RABBIT_HOST", "127.0.0.1")
RABBIT_API = os.environ.get("PEIXUN_TEST_RABBIT_API", f"http://{RABBIT_HOST}:15672/api")
RABBIT_AUTH = ("guest", "guest")


@pytest.fixture(scope="session")
def vhost():
    name = f"peixun-test-{uuid.uuid4().hex[:8]}"
    url = f"{RABBIT_API}/vhosts/{urllib.parse.quote(name, safe='')}"
    try:
        requests.put(url, auth=RABBIT_AUTH, timeout=10).raise_for_status()
    except requests.RequestException as exc:
        pytest.fail(f"RabbitMQ's management API at {RABBIT_API} did not answer ({exc}); "
                    "run `rabbitmq-plugins enable rabbitmq_management`", pytrace=False)
    permissions = f"{RABBIT_API}/permissions/{urllib.parse.quote(name, safe='')}/guest"
    requests.put(permissions, json={"configure": ".*", "write": ".*", "read": ".*"},
                 auth=RABBIT_AUTH, timeout=10).raise_for_status()
    yield name
    requests.delete(url, auth=RABBIT_AUTH, timeout=10)


@pytest.fixture(scope="session")
def amqp_uri(vhost):
    return f"amqp://guest:guest@{RABBIT_HOST}:5672/{urllib.parse.quote(vhost, safe='')}"


def purge_queues(amqp_uri, vhost):
    response = requests.get(f"{RABBIT_API}/queues/{urllib.parse.quote(vhost, safe='')}",
                            auth=RABBIT_AUTH, timeout=10)
    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        for queue in response.json():
            # Purging a quorum queue is a write to its log; asking its depth is not, and most
            # queues are empty between tests.
            if channel.queue_declare(queue["name"], passive=True).message_count:
                channel.queue_purge(queue["name"])
        channel.close()


@pytest.fixture
def rpc(amqp_uri):
    from nameko.standalone.rpc import ClusterRpcProxy

    import services.kit.rpc  # noqa: F401 - registers domain errors for deserialisation

    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=15) as proxy:
        yield proxy


@pytest.fixture
def publish(amqp_uri):
    """Publish raw bytes as another system would, with publisher confirms."""
    connection = Connection(amqp_uri, transport_options={"confirm_publish": True})
    producer = connection.Producer()

    def _publish(exchange, routing_key, body, headers=None, content_type="application/json"):
        producer.publish(body, exchange=exchange, routing_key=routing_key, headers=headers or {},
                         content_type=content_type, content_encoding="utf-8",
                         delivery_mode=2, retry=True)

    yield _publish
    connection.release()


@pytest.fixture
def dead_letters(amqp_uri):
    """Take up to `count` dead letters, waiting up to `timeout` for them."""
    from services.contracts.topology import dead_letter_queue

    def _take(count, timeout=10.0):
        taken = []
        deadline = time.monotonic() + timeout
        with Connection(amqp_uri) as connection:
            queue = dead_letter_queue().bind(connection.channel())
            while len(taken) < count and time.monotonic() < deadline:
                message = queue.get(no_ack=False)   # raw: the body may not be JSON at all
                if message is None:
                    time.sleep(0.05)
                    continue
                message.ack()
                taken.append(message)
        return taken

    return _take
