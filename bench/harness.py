"""What every benchmark shares: its own vhost and databases, timing, and the BENCH line."""

import os
import time
import urllib.parse
import uuid
from contextlib import contextmanager
from dataclasses import replace

import psycopg2
import requests

from services.kit import config
from services.kit.processes import wait_until

PG = os.environ.get("PEIXUN_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
RABBIT_API = os.environ.get("PEIXUN_BENCH_RABBIT_API", "http://127.0.0.1:15672/api")
RABBIT_HOST = os.environ.get("PEIXUN_BENCH_RABBIT_HOST", "127.0.0.1")
AUTH = ("guest", "guest")


def bench_line(name: str, value: float, unit: str, baseline: float, goal: str,
               passed: bool) -> str:
    ratio = value / baseline if baseline else 0.0
    line = (f"BENCH {name} {value:.3f} {unit} baseline={baseline:.3f} ratio={ratio:.3f} "
            f"goal={goal} {'PASS' if passed else 'MISS'}")
    print(line, flush=True)
    return line


def wait_for(predicate, what: str, timeout: float = 120, interval: float = 0.05,
             amqp_uri: str | None = None):
    """`wait_until`, and a run that times out says where the vhost's messages are."""
    try:
        return wait_until(predicate, what, timeout, interval)
    except TimeoutError as exc:
        where = f"; queues: {queue_depths(amqp_uri)}" if amqp_uri else ""
        raise RuntimeError(f"{exc}{where}") from None


def queue_depths(amqp_uri: str) -> dict:
    """{queue: (ready, unacked)} of the URI's vhost, the queues holding any."""
    quoted = urllib.parse.quote(urllib.parse.unquote(amqp_uri.rsplit("/", 1)[1]), safe="")
    try:
        queues = requests.get(f"{RABBIT_API}/queues/{quoted}", auth=AUTH, timeout=10).json()
    except requests.RequestException as exc:
        return {"?": str(exc)}
    return {q["name"]: (q.get("messages_ready", 0), q.get("messages_unacknowledged", 0))
            for q in queues if q.get("messages")}


@contextmanager
def timed():
    """`with timed() as t: ...; t()` gives the seconds elapsed."""
    start = time.perf_counter()
    end = None

    def elapsed():
        return (end or time.perf_counter()) - start

    try:
        yield elapsed
    finally:
        end = time.perf_counter()


@contextmanager
def vhost():
    """A fresh RabbitMQ vhost for one benchmark; its AMQP URI."""
    name = f"peixun-bench-{uuid.uuid4().hex[:6]}"
    quoted = urllib.parse.quote(name, safe="")
    try:
        requests.put(f"{RABBIT_API}/vhosts/{quoted}", auth=AUTH, timeout=10).raise_for_status()
    except requests.ConnectionError:
        raise SystemExit(f"peixun bench: RabbitMQ's management API at {RABBIT_API} did not "
                         "answer: enable it with `rabbitmq-plugins enable rabbitmq_management` "
                         "(as root), or set PEIXUN_BENCH_RABBIT_API") from None
    requests.put(f"{RABBIT_API}/permissions/{quoted}/guest", auth=AUTH, timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    try:
        yield f"amqp://guest:guest@{RABBIT_HOST}:5672/{quoted}"
    finally:
        requests.delete(f"{RABBIT_API}/vhosts/{quoted}", auth=AUTH, timeout=10)


@contextmanager
def databases():
    """Fresh PostgreSQL databases of this run's own, `peixun_bench_<run>_<service>` (two runs
    at once keep apart); their URLs by service. Dropped at the end."""
    admin = psycopg2.connect(f"{PG}/postgres")
    admin.autocommit = True
    run = uuid.uuid4().hex[:6]
    names = {service: f"peixun_bench_{run}_{service}" for service in config.SERVICES}
    with admin.cursor() as cursor:
        for name in names.values():
            cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {service: f"{PG}/{name}" for service, name in names.items()}
    finally:
        with admin.cursor() as cursor:
            for name in names.values():
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def nameko_config(amqp_uri: str, urls: dict) -> dict:
    return {"AMQP_URI": amqp_uri, "max_workers": 10, "serializer": "json",
            **{f"{s.upper()}_DATABASE_URL": u for s, u in urls.items()}}


@contextmanager
def apart(ctx):
    """The run's context (its baselines) on a vhost and databases of this benchmark's own:
    what an earlier benchmark leaves behind (queued events, tables without statistics) must
    not slow the next one."""
    with vhost() as amqp_uri, databases() as urls:
        yield replace(ctx, amqp_uri=amqp_uri, urls=urls)
