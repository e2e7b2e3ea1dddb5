"""Test set-up: eventlet first, then a RabbitMQ vhost and PostgreSQL databases of the run's own.

Broker tests never skip: if RabbitMQ (with its management API) or PostgreSQL does not answer,
they fail, since a run that skipped them proves nothing about the event guarantees.
"""

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet

eventlet.monkey_patch()

import os
import socket
import time
import urllib.parse
import uuid
from contextlib import contextmanager

import psycopg2
import pytest
import requests
from kombu import Connection
from sqlalchemy import text

from services.kit import config
from services.kit.database import make_engine

RABBIT_HOST = os.environ.get("PEIXUN_TEST_RABBIT_HOST", "127.0.0.1")
RABBIT_API = os.environ.get("PEIXUN_TEST_RABBIT_API", f"http://{RABBIT_HOST}:15672/api")
RABBIT_AUTH = ("guest", "guest")
PG_URL = os.environ.get("PEIXUN_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
# Two test runs at once on one server (parallel work) each set a prefix of their own.
DB_PREFIX = os.environ.get("PEIXUN_TEST_DB_PREFIX", "peixun_test_")


def pytest_collection_modifyitems(items):
    for item in items:
        if "/integration/" in str(item.fspath) or "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.broker)


# -- RabbitMQ --------------------------------------------------------------------------------

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
            channel.queue_purge(queue["name"])
        channel.close()


# -- PostgreSQL --------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def database_urls():
    """A fresh database per service for this run: peixun_test_<service>."""
    try:
        admin = psycopg2.connect(f"{PG_URL}/postgres")
    except psycopg2.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {PG_URL} did not answer: {exc}", pytrace=False)
    admin.autocommit = True
    urls = {}
    with admin.cursor() as cursor:
        for service in config.SERVICES:
            name = f"{DB_PREFIX}{service}"
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')
            urls[service] = f"{PG_URL}/{name}"
    admin.close()
    return urls


def truncate_all(url):
    engine = make_engine(url)
    with engine.begin() as connection:
        tables = connection.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version'")).scalars().all()
        if tables:
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def service_config(amqp_uri, vhost, database_urls):
    """nameko config for in-process containers; every queue and table starts empty."""
    purge_queues(amqp_uri, vhost)
    for url in database_urls.values():
        truncate_all(url)
    return {
        "AMQP_URI": amqp_uri,
        "max_workers": 10,
        "serializer": "json",
        **{f"{service.upper()}_DATABASE_URL": url for service, url in database_urls.items()},
    }


@pytest.fixture
def service_env(service_config, tmp_path):
    """The same, as environment variables for service processes."""
    return {
        "AMQP_URI": service_config["AMQP_URI"],
        "PEIXUN_VAR_DIR": str(tmp_path / "var"),
        **{k: v for k, v in service_config.items() if k.endswith("_DATABASE_URL")},
    }


# -- helpers -------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def whole_system(amqp_uri, vhost, database_urls):
    """Every service running in this process on emptied queues and tables, the gateway on a
    free port: (its base URL, an RPC proxy). For module-scoped worlds behind the HTTP door."""
    from nameko.runners import ServiceRunner
    from nameko.standalone.rpc import ClusterRpcProxy

    import services.kit.rpc  # noqa: F401 - registers domain errors for deserialisation
    from services.enrollment.service import EnrollmentService
    from services.gateway.service import GatewayService
    from services.reporting.service import ReportingService
    from services.scheduling.service import SchedulingService

    purge_queues(amqp_uri, vhost)
    for url in database_urls.values():
        truncate_all(url)
    port = free_port()
    runner = ServiceRunner({
        "AMQP_URI": amqp_uri, "max_workers": 10, "serializer": "json",
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
        **{f"{s.upper()}_DATABASE_URL": u for s, u in database_urls.items()}})
    for cls in (SchedulingService, EnrollmentService, ReportingService, GatewayService):
        runner.add_service(cls)
    runner.start()
    try:
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=30) as rpc:
            yield f"http://127.0.0.1:{port}", rpc
    finally:
        runner.kill()


def wait_until(predicate, timeout=10.0, interval=0.05, message="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


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


_broker_tests_passed = 0


def pytest_runtest_logreport(report):
    global _broker_tests_passed
    if report.when == "call" and report.passed and "broker" in report.keywords:
        _broker_tests_passed += 1


def pytest_sessionfinish(session, exitstatus):
    # In CI a green run must include the broker tests (DESIGN: skipping them is a failure).
    if os.environ.get("CI") and _broker_tests_passed == 0:
        print("\nCI: no broker test passed; failing the run")
        session.exitstatus = 1
