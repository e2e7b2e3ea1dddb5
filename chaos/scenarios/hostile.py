"""`hostile`: bad messages (chaos.hostile_messages) interleaved with the workload's good traffic,
and twins of good events. Every bad message must end in `peixun.dead_letters` with a reason,
once for each service that consumes its routing key; every good one counts once; no service
dies or restarts on the way."""

import json
import time
from collections import Counter

from kombu import Connection

from services.contracts.topology import SUBSCRIPTIONS, dead_letter_queue
from services.kit.amqp import ConfirmingPublisher, Outgoing
from services.kit.events import H_QUEUE, H_REASON

from ..hostile_messages import Hostile, hostile_messages
from ..outcome import Outcome
from ..system import SERVICES, System
from ..workload import Size, Workload

SIZES = {"short": (200, Size(classes=2, members=50, sessions=2)),
         "full": (1000, Size(classes=4, members=125, sessions=2))}
# Where the bad messages go: mostly the outside world's exchanges, some internal ones.
TARGETS = [("live_platform", "viewer_attended")] * 3 + [("member_registry", "member_changed")] * 3 \
    + [("scheduling", "session_completed"), ("enrollment", "attendance_recorded")]
TWIN_EVERY = 10      # every tenth good event is published a second time
CHUNKS = 10          # the good traffic goes in this many pieces, bad messages between them


class ServiceDied(RuntimeError):
    """A service process died or was replaced during the run."""


def pids(system: System) -> dict[str, list[int]]:
    return {service: [p.pid for p in system.alive(service)] for service in system.processes}


def crash_in(log) -> str:
    """The exception of the log's last crash ('' when none): a critical record (nameko's
    "thread exited with error") or a bare traceback. A handler's logged failure is no crash."""
    crash = ""
    lines = log.read_text(errors="replace").splitlines()
    for number, line in enumerate(lines):
        if line.startswith("{") and '"level": "critical"' in line:
            record = json.loads(line)
            crash = (record.get("exception") or record["message"]).strip().splitlines()[-1]
        elif line.startswith("Traceback"):
            crash = next((text for text in lines[number + 1:] if text[:1] not in " \t"),
                         "Traceback")
    return crash[:300]


def casualties(system: System, started: dict[str, list[int]]) -> list[str]:
    """Services not running as the same processes as at the start, with their logs' last
    traceback; and tracebacks in the logs of those still running."""
    found = []
    for service, before in started.items():
        for process in system.processes[service]:
            error = crash_in(process.log)
            if process.pid not in before or not process.alive():
                found.append(f"{service}-{process.slot} pid {process.pid} "
                             f"{'restarted' if process.alive() else 'died'}: {error}")
            elif error:
                found.append(f"{service}-{process.slot} logged a crash: {error}")
    return found


def check_alive(system: System, started: dict[str, list[int]]) -> None:
    if pids(system) != started:   # one died (or the harness's supervisor replaced it)
        raise ServiceDied("; ".join(casualties(system, started)))


def settle(system: System, started: dict[str, list[int]], timeout: float = 300.0) -> None:
    """Until the bad messages and the good are all taken (or a service dies: then at once)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        check_alive(system, started)
        if not system.busy():
            return
        time.sleep(1.0)


def consumers(source: str, event_type: str) -> list[str]:
    """The queues that get a message of this routing key (each dead-letters its own copy)."""
    return [f"evt-{source}-{event_type}--{service}" for service, pairs in SUBSCRIPTIONS.items()
            if (source, event_type) in pairs and service in SERVICES]


def outgoing(index: int, message: Hostile) -> Outgoing:
    return Outgoing(f"{message.source}.events", message.event_type, message.body,
                    message_id=f"hostile-{index}", content_type=message.content_type,
                    content_encoding=message.content_encoding)


def read_dead_letters(uri: str) -> list[tuple[str | None, dict]]:
    """Every dead letter as (message id, headers), taken off the queue."""
    letters = []
    with Connection(uri, connect_timeout=5) as connection:
        queue = dead_letter_queue().bind(connection.channel())
        while (message := queue.get(no_ack=True)) is not None:
            letters.append(((message.properties or {}).get("message_id"),
                            dict(message.headers or {})))
    return letters


def count_dead_letters(bad: list[Hostile], read) -> tuple[int, int, list[str]]:
    """(found, expected, problems): each bad message once per consuming queue, with a reason."""
    letters = [(message_id, h.get(H_QUEUE), h.get(H_REASON)) for message_id, h in read]
    expected = {(f"hostile-{i}", queue): m.kind for i, m in enumerate(bad)
                for queue in consumers(m.source, m.event_type)}
    seen = Counter((message_id, queue) for message_id, queue, reason in letters if reason)
    found = sum(1 for key in expected if seen[key])
    problems = []
    missing = Counter(kind for key, kind in expected.items() if not seen[key])
    if missing:
        problems.append("no dead letter for: " + ", ".join(f"{k}×{n}" for k, n in
                                                            missing.most_common()))
    twice = sum(n - 1 for key, n in seen.items() if key in expected and n > 1)
    if twice:
        problems.append(f"{twice} bad messages dead-lettered more than once")
    backstop = Counter(expected[(m, q)] for m, q, r in letters
                       if (m, q) in expected and r and r.startswith("redelivered"))
    if backstop:   # it was dead-lettered, but only after failing five times over
        problems.append("dead-lettered only by the redelivery backstop: " + ", ".join(
            f"{k}×{n}" for k, n in backstop.most_common()))
    strays = [(m, q, r) for m, q, r in letters if (m, q) not in expected or not r]
    if strays:
        problems.append(f"{len(strays)} unexpected dead letters, e.g. {strays[0]!r:.300}")
    return found, len(expected), problems


def run(size: str) -> Outcome:
    count, shape = SIZES[size]
    bad = hostile_messages(count, TARGETS)
    with System("hostile") as system:
        system.start_all()
        workload = Workload(system, shape)
        publisher = ConfirmingPublisher(system.amqp_uri)
        try:
            workload.prepare()
            started = pids(system)
            good = [message for _, message in workload.queue]
            chunk = max(1, len(good) // CHUNKS)
            per_chunk = -(-len(bad) // CHUNKS)
            sent = {"bad": 0, "twins": 0, "good": 0}
            returned = []   # unroutable: a message no queue took cannot become a dead letter

            def between(published: int) -> None:
                """After each piece of good traffic: its twins, then the next bad messages."""
                twins = good[sent["good"]:published][::TWIN_EVERY]
                sent["good"] = published
                first = sent["bad"]
                sent["bad"] = min(len(bad), first + per_chunk)
                returned.extend(publisher.publish(
                    twins + [outgoing(i, bad[i]) for i in range(first, sent["bad"])]))
                sent["twins"] += len(twins)
                check_alive(system, started)   # stop early once a consumer is dead

            workload.publish_all(between=between, chunk=chunk)
            returned.extend(publisher.publish(
                [outgoing(i, bad[i]) for i in range(sent["bad"], len(bad))]))
            settle(system, started)
            workload.finish()
            problems = casualties(system, started) + list(getattr(system, "notes", [])) + [
                f"returned as unroutable: {exchange}/{key}" for exchange, key, _ in returned]
            found, expected, letter_problems = count_dead_letters(
                bad, read_dead_letters(system.amqp_uri))
            outcome = workload.outcome("hostile", problems + letter_problems)
            outcome.events = workload.published + sent["twins"] + len(bad)
            outcome.dead_letters, outcome.dead_letters_expected = found, expected
            return outcome
        except ServiceDied as died:
            return Outcome("hostile", workload.published + len(bad), 0, 0,
                           problems=[f"a service died: {died}; logs in {system.run_dir}"])
        finally:
            publisher.close()
            workload.close()
