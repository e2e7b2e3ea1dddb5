"""Known traffic through the two-hop pipeline, with completions, and what it should leave behind.

The world is made through the real services: organisations and members imported into
enrollment, a program and live classes (each with its sessions, held yesterday) created and
published by scheduling, every member enrolled online in every class. The traffic is the live
platform's `viewer_attended`, one per chosen (session, member), published by the harness with
confirms to `live_platform.events` (enrollment records `online`, tells reporting). Once
enrollment holds every viewing of a class, the harness completes its sessions through
scheduling (enrollment marks the rest `absent`, and decides each enrolment's completion when
the last one completes; reporting records both).

Ground truth is what the harness published and had confirmed, never the services' own
figures: `outcome()` compares reporting's rows (and enrollment's log) with it by SQL.
"""

import hashlib
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from nameko.standalone.rpc import ClusterRpcProxy

from services.contracts import new_event
from services.kit.amqp import ConfirmingPublisher, Outgoing, PublishFailed
from services.kit.clock import SHANGHAI
from services.kit.processes import wait_until

from .outcome import Outcome
from .system import System

PUBLISH_BATCH = 500
SESSION_MINUTES = 60
WATCHED = 0.9 * SESSION_MINUTES      # ≥ 80%: online
COMPLETION_SHARE = 0.8               # the services' default (PEIXUN_COMPLETION_SHARE)
RPC_TIMEOUT = 20.0
ORG_GROUPS = 10


@dataclass
class Size:
    classes: int
    members: int
    sessions: int          # per class, an hour each
    viewed_in_ten: int = 9  # of ten (session, member) pairs, how many the platform reports

    @property
    def events(self) -> int:
        return round(self.classes * self.members * self.sessions * self.viewed_in_ten / 10)


@dataclass
class Klass:
    class_id: str
    session_ids: list[str]
    viewed: list[tuple[str, str]]           # (session_id, member_no), in publishing order
    event_ids: dict[tuple[str, str], str] = field(default_factory=dict)
    completed: bool = False


def viewed(session_id: str, member_no: str, in_ten: int) -> bool:
    """Whether the platform reports this pair: fixed by the pair, about in_ten of ten."""
    digest = hashlib.blake2b(f"{session_id}/{member_no}".encode(), digest_size=2).digest()
    return int.from_bytes(digest, "big") % 10 < in_ten


class Workload:
    def __init__(self, system: System, size: Size):
        self.system = system
        self.size = size
        self.members = [f"C{i:06d}" for i in range(size.members)]
        self.classes: list[Klass] = []
        self.queue: list[tuple[Klass, Outgoing]] = []   # viewings not yet confirmed
        self.published = 0
        self.problems: list[str] = []
        self._publisher: ConfirmingPublisher | None = None
        # The kit's publisher connects to the first node of a failover URI only: on a
        # failure the harness moves on to the next node itself.
        self._nodes = system.amqp_uri.split(";")

    # -- the world -------------------------------------------------------------------------

    def rpc(self, timeout: float = RPC_TIMEOUT):
        return ClusterRpcProxy({"AMQP_URI": self.system.amqp_uri, "serializer": "json"},
                               timeout=timeout)

    def prepare(self, timeout: float = 180.0) -> None:
        """Members, classes, sessions and enrolments, through the services; returns once
        enrollment knows them all."""
        day = (datetime.now(SHANGHAI) - timedelta(days=1)).date()
        with self.rpc(60) as rpc:
            rpc.enrollment.import_orgs(_orgs())
            imported = rpc.enrollment.import_members(_members(self.members))
            if imported["kept"] != len(self.members):
                raise RuntimeError(f"member import kept {imported['kept']}: "
                                   f"{imported['bad'][:3]}")
            program = rpc.scheduling.create_program({
                "year": day.year, "track": "members", "organiser_org_code": "CX",
                "name": "故障演练", "target_person_times": 1000})
            course = rpc.scheduling.create_course({
                "title": "党的创新理论", "core_theory": True, "default_kind": "lecture",
                "default_hours": 1.0})
            for _ in range(self.size.classes):
                created = rpc.scheduling.create_class(
                    _class(program["program_id"], course["course_id"], day, self.size.sessions))
                session_ids = [s["session_id"] for s in created["sessions"]]
                pairs = [(s, m) for s in session_ids for m in self.members
                         if viewed(s, m, self.size.viewed_in_ten)]
                self.classes.append(Klass(created["class_id"], session_ids, pairs))
            self._until(lambda: self._count("enrollment", "SELECT count(*) FROM classes WHERE "
                                            "class_id = ANY(%s)", self._class_ids())
                        == len(self.classes), "enrollment to know the classes", timeout)
            for klass in self.classes:
                for start in range(0, len(self.members), 500):
                    done = rpc.enrollment.nominate(klass.class_id, {
                        "member_nos": self.members[start:start + 500], "mode": "online"})
                    if done["refused"]:
                        raise RuntimeError(f"nominations refused: {done['refused'][:3]}")
        sessions = [s for k in self.classes for s in k.session_ids]
        self._until(lambda: self._count("enrollment", "SELECT count(*) FROM sessions WHERE "
                                        "session_id = ANY(%s)", sessions) == len(sessions),
                    "enrollment to know the sessions", timeout)
        for klass in self.classes:
            for pair in klass.viewed:
                event = new_event("live_platform", "viewer_attended", {
                    "session_id": pair[0], "member_no": pair[1],
                    "watched_minutes": WATCHED, "site": None})
                klass.event_ids[pair] = event.id
                self.queue.append((klass, Outgoing("live_platform.events", "viewer_attended",
                                                   event.body(), message_id=event.id)))

    def _class_ids(self) -> list[str]:
        return [k.class_id for k in self.classes]

    def _count(self, service: str, query: str, *args) -> int:
        try:
            return int(self.system.sql(service, query, *args)[0][0])
        except Exception:  # noqa: BLE001 - table not there yet, database away
            return -1

    def _until(self, predicate, what: str, timeout: float) -> None:
        wait_until(predicate, what, timeout, interval=0.2)

    # -- the traffic -----------------------------------------------------------------------

    @property
    def total(self) -> int:
        return sum(len(k.viewed) for k in self.classes)

    def left(self) -> int:
        return len(self.queue)

    def publish(self, count: int = PUBLISH_BATCH, retry_for: float = 120.0) -> int:
        """Publish up to `count` more viewings, a batch at a time with confirms. A batch not
        confirmed is sent again, the same ids (the inbox drops a twin), until confirmed or
        `retry_for` seconds have passed (then it raises). Answers how many were confirmed."""
        sent = 0
        while sent < count and self.queue:
            batch = self.queue[:min(PUBLISH_BATCH, count - sent)]
            self._confirm([message for _, message in batch], retry_for)
            del self.queue[:len(batch)]
            sent += len(batch)
            self.published += len(batch)
        return sent

    def _confirm(self, messages: list[Outgoing], retry_for: float) -> None:
        deadline = time.monotonic() + retry_for
        while True:
            try:
                if self._publisher is None:
                    self._publisher = ConfirmingPublisher(self._nodes[0])
                returned = self._publisher.publish(messages)
                if returned:
                    raise RuntimeError(f"unroutable: {returned[0]}")
                return
            except PublishFailed:
                if self._publisher is not None:
                    self._publisher.close()
                self._publisher = None
                self._nodes.append(self._nodes.pop(0))
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def publish_all(self, between=None, chunk: int = PUBLISH_BATCH) -> None:
        """Everything left, `between(published so far)` after each chunk (where a scenario
        does harm), completing the classes enrollment has fully seen as it goes."""
        while self.queue:
            self.publish(chunk)
            if between is not None:
                between(self.published)
            self.complete_ready()

    # -- completions -----------------------------------------------------------------------

    def _seen(self, klass: Klass) -> int:
        """How many of the class's viewings enrollment has recorded (by their event ids)."""
        return self._count("enrollment", "SELECT count(DISTINCT event_id) FROM viewing_reports "
                                         "WHERE session_id = ANY(%s)", klass.session_ids)

    def complete_ready(self) -> None:
        """Complete every class whose viewings are all published and all recorded."""
        waiting = {k.class_id for k, _ in self.queue}
        for klass in self.classes:
            if not klass.completed and klass.class_id not in waiting \
                    and self._seen(klass) >= len(klass.viewed):
                self._complete(klass)

    def complete_all(self, timeout: float = 300.0) -> None:
        """Complete every class left: each once enrollment has recorded its viewings, or at
        the timeout anyway (a lost viewing then shows as lost)."""
        deadline = time.monotonic() + timeout
        for klass in self.classes:
            if klass.completed:
                continue
            while self._seen(klass) < len(klass.viewed) and time.monotonic() < deadline:
                time.sleep(0.5)
            seen = self._seen(klass)
            if seen < len(klass.viewed):
                self.problems.append(f"class {klass.class_id}: enrollment recorded {seen} of "
                                     f"{len(klass.viewed)} viewings; completed anyway")
            self._complete(klass)

    def _complete(self, klass: Klass, retry_for: float = 300.0) -> None:
        """Each session completed through scheduling; a call that timed out (scheduling
        down) is asked again; one that went through before counts as done."""
        for session_id in klass.session_ids:
            deadline = time.monotonic() + retry_for
            while not self._completed(session_id):
                if time.monotonic() > deadline:
                    self.problems.append(f"session {session_id} could not be completed")
                    break
                try:
                    with self.rpc() as rpc:
                        rpc.scheduling.complete_session(session_id)
                except Exception:  # noqa: BLE001 - down, or done already: look again
                    time.sleep(1.0)
        klass.completed = True

    def _completed(self, session_id: str) -> bool:
        return self._count("scheduling", "SELECT count(*) FROM sessions WHERE id = %s AND "
                                         "status = 'completed'", session_id) == 1

    def finish(self, timeout: float = 600.0) -> None:
        """Publish what is left, complete every class, wait until all is drained."""
        while self.queue:
            self.publish()
        self.complete_all(timeout / 2)
        held = self.system.wait_drained(timeout / 2)
        if held:
            self.problems.append(f"not drained: {', '.join(held[:8])}")

    def close(self) -> None:
        if self._publisher is not None:
            self._publisher.close()
            self._publisher = None

    # -- the figures -----------------------------------------------------------------------

    def outcome(self, scenario: str, problems: list[str] | None = None) -> Outcome:
        lost, doubled = self.attendance_figures()
        lost_c, doubled_c = self.completion_figures()
        dead = self.system.dead_letters()
        return Outcome(scenario, self.published, lost + lost_c, doubled + doubled_c,
                       dead_letters=dead, dead_letters_expected=0,
                       problems=[*self.problems, *(problems or [])])

    def expected_attendance(self) -> dict[tuple[str, str], str]:
        """(session_id, member_no) -> the status it must end with."""
        expected = {}
        for klass in self.classes:
            seen = set(klass.viewed)
            for session_id in klass.session_ids:
                for member in self.members:
                    expected[(session_id, member)] = \
                        "online" if (session_id, member) in seen else "absent"
        return expected

    def attendance_figures(self) -> tuple[int, int]:
        """Lost: an expected attendance that reporting lacks or holds otherwise (an `online`
        that became `absent` lost its viewing). Doubled: a viewing enrollment kept twice, an
        attendance it logged twice, or one reporting was told twice."""
        expected = self.expected_attendance()
        sessions = sorted({s for s, _ in expected})
        held = {(s, m): (status, hours) for s, m, status, hours in self.system.sql(
            "reporting", "SELECT session_id, member_no, status, hours_ch FROM rp_attendance "
                         "WHERE session_id = ANY(%s)", sessions)}
        lost = sum(1 for pair, status in expected.items()
                   if held.get(pair, (None,))[0] != status
                   and not (status == "absent" and held.get(pair, (None,))[0] == "online"))
        doubled = sum(1 for pair, status in expected.items()
                      if status == "absent" and held.get(pair, (None,))[0] == "online")
        doubled += sum(1 for pair, (status, hours) in held.items()
                       if status == "online" and hours != SESSION_MINUTES // 60 * 100)
        for service, query in (
                ("enrollment", "SELECT count(*) - count(DISTINCT (session_id, member_no)) "
                               "FROM viewing_reports WHERE session_id = ANY(%s)"),
                ("enrollment", "SELECT count(*) - count(DISTINCT (session_id, enrollment_id)) "
                               "FROM attendance WHERE session_id = ANY(%s)"),
                ("reporting", "SELECT count(*) - count(DISTINCT (payload->'data'->>'session_id',"
                              " payload->'data'->>'enrollment_id')) FROM inbox WHERE type = "
                              "'attendance_recorded' AND payload->'data'->>'session_id' = "
                              "ANY(%s)")):
            doubled += int(self.system.sql(service, query, sessions)[0][0])
        return lost, doubled

    def completion_figures(self) -> tuple[int, int]:
        """Each (class, member)'s completion in reporting against the hours the harness's
        viewings earn: missing or a lower figure is lost, a higher one (or a second
        completion_recorded) doubled."""
        expected = {}
        for klass in self.classes:
            hours = {m: 0 for m in self.members}
            for _, member in klass.viewed:
                hours[member] += 100 * SESSION_MINUTES // 60
            class_ch = 100 * len(klass.session_ids)
            for member, attended in hours.items():
                status = "completed" if attended >= COMPLETION_SHARE * class_ch else \
                    "incomplete"
                expected[(klass.class_id, member)] = (status, attended)
        held = {(c, m): (status, attended) for c, m, status, attended in self.system.sql(
            "reporting", "SELECT class_id, member_no, status, attended_ch FROM rp_completion "
                         "WHERE class_id = ANY(%s)", self._class_ids())}
        lost = doubled = 0
        for key, (status, attended) in expected.items():
            got = held.get(key)
            if got is None or got[1] < attended or (got[0] != status and got[1] <= attended):
                lost += 1
            elif got[1] > attended:
                doubled += 1
        doubled += int(self.system.sql(
            "reporting", "SELECT count(*) - count(DISTINCT payload->'data'->>'enrollment_id') "
                         "FROM inbox WHERE type = 'completion_recorded' AND "
                         "payload->'data'->>'class_id' = ANY(%s)", self._class_ids())[0][0])
        return lost, doubled


# -- what the services are told ---------------------------------------------------------------

def _orgs() -> list[dict]:
    rows = [{"org_code": "CX", "name": "演练区委", "parent_code": "", "kind": "committee",
             "sector": ""},
            {"org_code": "CX01", "name": "演练镇党委", "parent_code": "CX", "kind": "committee",
             "sector": ""}]
    rows += [{"org_code": f"CX01{g:02d}", "name": f"党支部{g}", "parent_code": "CX01",
              "kind": "grassroots", "sector": "two_new"} for g in range(ORG_GROUPS)]
    return [{"row": i + 2, **row} for i, row in enumerate(rows)]


def _members(member_nos: list[str]) -> list[dict]:
    return [{"row": i + 2, "member_no": no, "name": f"党员{i}",
             "org_code": f"CX01{i % ORG_GROUPS:02d}", "joined_on": "2010-07-01",
             "employment": "enterprise", "secretary_of": ""} for i, no in enumerate(member_nos)]


def _class(program_id: str, course_id: str, day, sessions: int) -> dict:
    """A live enterprise members' class held on `day` (Shanghai): `sessions` hour-long
    sessions from 08:00, one after another."""
    first = datetime.combine(day, datetime.min.time(), SHANGHAI) + timedelta(hours=8)
    return {"program_id": program_id, "title": f"故障演练班{uuid.uuid4().hex[:4]}",
            "audience": {"category": "enterprise"}, "offline_capacity": 0, "delivery": "live",
            "start_date": day.isoformat(), "end_date": day.isoformat(), "publish": True,
            "sessions": [{"course_id": course_id, "kind": "lecture", "live": True,
                          "starts_at": (first + timedelta(hours=i)).isoformat(),
                          "ends_at": (first + timedelta(hours=i + 1)).isoformat(),
                          "hours": 1.0} for i in range(sessions)]}
