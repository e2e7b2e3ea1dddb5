"""`poison`: a message that takes its consumer down on every delivery reaches the dead letters
after the delivery limit, not never, and the good traffic around it counts once.

The services carry no test hook, so the harness makes a real message deadly from outside: it
holds a row lock on the member a `member_changed` updates, so that enrollment's handler waits
on it with the message unsettled, and then kill -9s enrollment, as a crash would, each time
(PostgreSQL shows the handler waiting). The quorum queue counts each return in
`x-delivery-count`; the kit dead-letters the message once that reaches its limit, the broker's
own `x-delivery-limit` being the backstop. Between the kills the restarted service takes good
viewings; they must count once."""

import time
from datetime import date

import psycopg2

from services.contracts import new_event
from services.contracts.topology import DELIVERY_LIMIT, REDELIVERY_LIMIT
from services.kit.amqp import ConfirmingPublisher, Outgoing
from services.kit.events import H_QUEUE, H_REASON

from ..outcome import Outcome
from ..system import System
from ..workload import Size, Workload
from .hostile import read_dead_letters

SIZES = {"short": Size(classes=1, members=40, sessions=2),
         "full": Size(classes=2, members=200, sessions=3)}
QUEUE = "evt-member_registry-member_changed--enrollment"
MAX_KILLS = DELIVERY_LIMIT + 2    # past the broker's own limit: then it is "never"
WAITING_ON_A_LOCK = ("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                     "AND wait_event_type = 'Lock'")


def poison_for(member_no: str, org_code: str) -> Outgoing:
    """An `updated` that restates the member as imported: harmless, if it were ever applied."""
    event = new_event("member_registry", "member_changed", {
        "member_no": member_no, "change": "updated", "name": "党员0", "org_code": org_code,
        "joined_on": date(2010, 7, 1), "employment": "enterprise"})
    return Outgoing("member_registry.events", "member_changed", event.body(),
                    message_id=event.id)


def hold_member(system: System, member_no: str):
    """A transaction holding the member's row: enrollment's update of it waits."""
    connection = psycopg2.connect(system.database_url("enrollment"), connect_timeout=5)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM members WHERE member_no = %s FOR UPDATE", (member_no,))
        if cursor.rowcount != 1:
            raise RuntimeError(f"member {member_no} is not in enrollment")
    return connection


def wait_in_flight(system: System, seen: set[int], timeout: float = 60.0) -> bool:
    """Until a new backend of enrollment's waits on the held row (True: the poison is in flight
    again), or the message has become a dead letter (False). A killed process's backend waits
    on as long as the lock is held (PostgreSQL reads no socket meanwhile): `seen` holds those."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = {pid for pid, in system.sql("enrollment", WAITING_ON_A_LOCK)} - seen
        if waiting:
            seen |= waiting
            return True
        if system.dead_letters():
            return False
        time.sleep(0.1)
    raise RuntimeError(f"the poison was neither in flight nor dead-lettered in {timeout:.0f}s")


def wait_recorded(system: System, workload: Workload, timeout: float = 120.0) -> None:
    """Until enrollment has recorded every viewing published so far."""
    deadline = time.monotonic() + timeout
    while int(system.sql("enrollment", "SELECT count(DISTINCT event_id) FROM viewing_reports")
              [0][0]) < workload.published:
        if time.monotonic() > deadline:
            raise RuntimeError("enrollment did not record the viewings in time")
        time.sleep(0.2)


def judge(letters, poison_id: str, kills: int) -> tuple[int, list[str]]:
    """(dead letters found of the one expected, problems)."""
    problems = []
    mine = [h for message_id, h in letters if message_id == poison_id]
    others = len(letters) - len(mine)
    if others:
        problems.append(f"{others} other dead letters")
    if len(mine) > 1:
        problems.append(f"the poison was dead-lettered {len(mine)} times")
    if not mine:
        problems.append(f"the poison never reached the dead letters ({kills} kills)")
        return 0, problems
    headers = mine[0]
    reason = headers.get(H_REASON)
    print(f"# poison: {kills + 1} deliveries ({kills} kill -9 while in flight), then a dead "
          f"letter: {reason!r}", flush=True)
    if not reason:
        problems.append(f"dead-lettered without a reason (the broker's limit?): {headers}")
    elif headers.get(H_QUEUE) != QUEUE:
        problems.append(f"dead letter names queue {headers.get(H_QUEUE)!r}, not {QUEUE}")
    if kills != REDELIVERY_LIMIT:
        problems.append(f"{kills} kills before the dead letter; the kit's limit is "
                        f"{REDELIVERY_LIMIT}")
    return (1 if reason else 0), problems


def run(size: str) -> Outcome:
    shape = SIZES[size]
    with System("poison") as system:
        system.start_all()
        workload = Workload(system, shape)
        publisher = ConfirmingPublisher(system.amqp_uri)
        lock = None
        try:
            workload.prepare()
            chunk = -(-workload.total // (MAX_KILLS + 2))
            workload.publish(chunk)
            wait_recorded(system, workload)
            member = workload.members[0]
            lock = hold_member(system, member)
            poison = poison_for(member, "CX0100")
            publisher.publish([poison])
            kills, waited = 0, set()
            while kills < MAX_KILLS and wait_in_flight(system, waited):
                system.restart(system.kill("enrollment"))
                kills += 1
                workload.publish(chunk)
                wait_recorded(system, workload)
            lock.rollback()
            workload.finish()
            found, problems = judge(read_dead_letters(system.amqp_uri), poison.message_id,
                                    kills)
            problems += [f"{name} died" for name in system.exited()]
            problems += getattr(system, "notes", [])   # restarted by the harness's supervisor
            outcome = workload.outcome("poison", problems)
            outcome.events += 1
            outcome.dead_letters, outcome.dead_letters_expected = found, 1
            return outcome
        finally:
            if lock is not None:
                lock.close()
            publisher.close()
            workload.close()
