"""`peixun status` against a running system, and `peixun dlq list|show|drop|dropped` on dead
letters the services really made: ids that hold from one listing to the next, a dropped letter
gone from the dead letters, never replayed, and kept with who dropped it, when and why."""

import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from kombu import Connection

from services.cli import main
from services.contracts.topology import DEAD_LETTER_QUEUE, DROPPED_QUEUE, declare, exchange_name
from services.kit import config
from services.kit import dead_letters as dlq
from services.kit.events import H_DEAD_LETTERED_AT
from tests.support.system import whole_system
from tests.support.waiting import wait_until

BROKEN = b"not json at all"   # class_published that enrollment and reporting both refuse
# id, time (the kit stamps when it dead-letters, even a body that is not JSON), service,
# event, reason
LETTER = re.compile(r"^([0-9a-f]{12})  (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)  "
                    r"(\w+)\s+(\S+)  (.+)$")


@pytest.fixture(scope="module")
def system(amqp_uri, vhost, database_urls):
    with whole_system(amqp_uri, vhost, database_urls) as (base, rpc):
        yield rpc


@pytest.fixture
def two_dead_letters(system, amqp_uri, publish, monkeypatch):
    """A class_published no consumer can read: enrollment and reporting each dead-letter it."""
    monkeypatch.setenv("AMQP_URI", amqp_uri)
    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        for queue in (DEAD_LETTER_QUEUE, DROPPED_QUEUE):
            channel.queue_purge(queue)
        channel.close()
    publish(exchange_name("scheduling"), "class_published", BROKEN)
    wait_until(lambda: len(dlq.peek(amqp_uri, 10)) == 2, timeout=20,
               message="both consumers' dead letters")


def peixun(*args):
    return CliRunner().invoke(main, list(args))


def test_status_names_a_service_that_does_not_answer(amqp_uri, monkeypatch):
    """First in the module: its system is not started yet, as after a crash (the queues
    declared, nobody consuming)."""
    monkeypatch.setenv("AMQP_URI", amqp_uri)
    with Connection(amqp_uri) as connection:   # the queues, as a stopped system leaves them
        declare(connection.channel())
    shown = peixun("status", "--timeout", "0.5")
    assert shown.exit_code == 1, shown.output
    assert re.search(r"^  scheduling\s+DOWN\s+(no answer|has never run)", shown.stdout, re.M), \
        shown.stdout


def test_status_shows_each_service_queue_and_dead_letters_by_reason(two_dead_letters):
    shown = peixun("status", "--json")
    assert shown.exit_code == 0, shown.output
    state = json.loads(shown.stdout)
    assert {name: answer["status"] for name, answer in state["services"].items()} == \
        dict.fromkeys(config.SERVICES, "ok")
    for publishing in ("scheduling", "enrollment", "reporting"):
        assert state["services"][publishing]["outbox_pending"] == 0
    queues = {q["name"]: q for q in state["queues"]}
    assert all(not q.get("missing") for q in queues.values()), queues
    for service in config.SERVICES:
        assert queues[f"rpc-{service}"]["consumers"] >= 1
    consumer = "evt-scheduling-class_published--reporting"
    assert queues[consumer]["consumers"] >= 1 and queues[consumer]["messages"] == 0
    assert queues[f"{consumer}.retry"]["kind"] == "retry"
    dead = state["dead_letters"]
    assert (dead["waiting"], dead["dropped"]) == (2, 0)
    assert sorted((row["service"], row["count"]) for row in dead["by_reason"]) == \
        [("enrollment", 1), ("reporting", 1)]

    screen = peixun("status")
    assert screen.exit_code == 0, screen.output
    for service in config.SERVICES:
        assert re.search(rf"^  {service}\s+ok\b", screen.stdout, re.M), screen.stdout
    assert "outbox 0 waiting" in screen.stdout
    assert "DEAD LETTERS  2 waiting, 0 dropped" in screen.stdout
    assert re.search(r"^\s+1  reporting\s+\S", screen.stdout, re.M), screen.stdout
    assert "more queues are empty and consumed" in screen.stdout   # one screen, not seventy
    assert len(screen.stdout.splitlines()) < 40


def test_dead_letters_are_listed_shown_dropped_for_good_and_kept_with_why(two_dead_letters,
                                                                         amqp_uri):
    listed = peixun("dlq", "list")
    assert listed.exit_code == 0, listed.output
    rows = [LETTER.match(line) for line in listed.stdout.splitlines()]
    assert all(rows) and len(rows) == 2, listed.stdout
    services = {row[3]: row for row in rows}
    assert set(services) == {"enrollment", "reporting"}
    assert services["reporting"][4] == "scheduling.events/class_published"
    again = peixun("dlq", "list")
    assert again.stdout == listed.stdout            # the same ids, however often it is read

    doomed, kept = services["reporting"][1], services["enrollment"][1]
    shown = peixun("dlq", "show", doomed)
    assert shown.exit_code == 0, shown.output
    assert "x-peixun-original-queue: \"evt-scheduling-class_published--reporting\"" in \
        shown.stdout
    assert shown.stdout.rstrip().endswith("body:\n" + BROKEN.decode())

    dropped = peixun("dlq", "drop", doomed, "--reason", "a publisher's test message",
                     "--by", "ops.wang")
    assert dropped.exit_code == 0, dropped.output
    assert f"dropped {doomed}" in dropped.stdout and "by ops.wang" in dropped.stdout
    assert [letter["id"] for letter in dlq.peek(amqp_uri)] == [kept]

    record = peixun("dlq", "dropped")
    assert record.exit_code == 0, record.output
    [line] = record.stdout.splitlines()
    assert line.startswith(doomed) and "ops.wang" in line
    assert "a publisher's test message" in line and "(was: reporting: " in line
    [letter] = dlq.dropped(amqp_uri)
    assert (letter["dropped_by"], letter["dropped_reason"]) == \
        ("ops.wang", "a publisher's test message")
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$", letter["dropped_at"])
    assert letter["body"] == BROKEN.decode()
    assert "dropped_by: ops.wang" in peixun("dlq", "show", doomed).stdout   # still there to read

    twice = peixun("dlq", "drop", doomed, "--reason", "again")
    assert twice.exit_code == 1 and f"no dead letter {doomed}" in twice.stderr
    assert dlq.replay(amqp_uri) == 1                # the kept one only; the dropped stays put
    assert [letter["id"] for letter in dlq.dropped(amqp_uri)] == [doomed]
    wait_until(lambda: len(dlq.peek(amqp_uri)) == 1, message="the replayed letter refused again")


def test_drop_records_the_os_user_when_no_one_is_named(two_dead_letters, amqp_uri):
    import getpass

    [first, _] = dlq.peek(amqp_uri)
    assert peixun("dlq", "drop", first["id"], "--reason", "seen").exit_code == 0
    [letter] = dlq.dropped(amqp_uri)
    assert letter["dropped_by"] == getpass.getuser()


def test_a_dead_letter_s_time_is_the_nearest_the_message_tells():
    def letter(headers, body=b"{}"):
        return dlq._describe(SimpleNamespace(headers=headers, body=body, properties={},
                                             content_type="application/json"))

    event = b'{"occurred_at": "2026-03-02T01:00:00+00:00"}'
    assert letter({}, event)["time"] == "2026-03-02T01:00:00+00:00"
    assert letter({}, b"not json")["time"] is None
    assert letter({"x-peixun-first-failed-at": "2026-03-02T02:00:00+00:00"}, event)["time"] == \
        "2026-03-02T02:00:00+00:00"
    died = datetime(2026, 3, 2, 3, 0)   # the broker's x-death time (AMQP timestamps are UTC)
    assert letter({"x-death": [{"time": died, "count": 1}]}, event)["time"] == \
        "2026-03-02T03:00:00+00:00"
    assert letter({H_DEAD_LETTERED_AT: "2026-03-02T04:00:00+00:00",
                   "x-death": [{"time": died}]}, event)["time"] == "2026-03-02T04:00:00+00:00"


@pytest.mark.timeout(300)
def test_seed_plans_the_year_it_is_given(system, amqp_uri, tmp_path):
    """`peixun seed --year` in a process of its own (the demo plans from its modules' year)."""
    seeded = subprocess.run(
        [str(Path(sys.executable).parent / "peixun"), "seed", "--small", "--year", "2031"],
        capture_output=True, text=True, timeout=280, cwd=config.ROOT,
        env={**os.environ, "AMQP_URI": amqp_uri, "PEIXUN_VAR_DIR": str(tmp_path)})
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    assert "seeded 2031:" in seeded.stdout
    classes = system.scheduling.list_classes(year=2031, per_page=100)
    assert classes["total"] > 0
    assert {c["title"][:5] for c in classes["items"]} == {"2031年"}
    again = subprocess.run(
        [str(Path(sys.executable).parent / "peixun"), "seed", "--small", "--year", "2031"],
        capture_output=True, text=True, timeout=120, cwd=config.ROOT,
        env={**os.environ, "AMQP_URI": amqp_uri, "PEIXUN_VAR_DIR": str(tmp_path)})
    assert again.returncode == 1 and "2031 already has classes" in again.stderr
