"""The two-hop pipeline with enrollment and reporting in their own processes, as deployed:
the live platform's `viewer_attended` → enrollment (attendance) → `attendance_recorded` →
reporting's read model, on quorum queues as deployed (DESIGN §3). Three figures: the sustained
rate against a do-nothing drain of a quorum queue (baselines.quorum_drain_rate; measured as that
baseline is: the queue filled first, then drained, the best of three; the rate while the bench
publishes alongside, and the ratio to nameko's trivial drain of a classic queue, are printed as
comments), the p50/p99 from
`session_completed` to reporting's record of that session under viewer_attended at half that
rate (STACK.md), and each service's peak RSS (VmHWM) at the end.

Run alone: `.venv/bin/peixun bench bench_pipeline`.
"""

import os
import signal
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

import eventlet
import psycopg2
from nameko.standalone.rpc import ClusterRpcProxy

from services.cli.launch import popen_service
from services.contracts import new_event
from services.kit.amqp import ConfirmingPublisher, Outgoing, declare_topology
from services.kit.clock import SHANGHAI
from services.kit.processes import peak_rss_mb, stop, wait_healthy

from .baselines import of_this_run
from .harness import apart, bench_line, wait_for

SERVICES = ("enrollment", "reporting")
MEMBERS = 1_000
LIVE_SESSIONS = 10                # × MEMBERS: viewer_attended published while consumed
RATE_SESSIONS = 20                # × MEMBERS: one drain's events, queued beforehand
DRAINS = 3                        # the rate is the best drain, as its baseline's
LOAD_SESSIONS = 20                # fresh (session, person) pairs for the latency run's load
SAMPLES = 200
SESSION_MINUTES = 60
PUBLISH_BATCH = 500
RATE_GOAL = 0.40                  # × a do-nothing drain of a quorum queue
P99_GOAL = 0.5                    # s
RSS_GOAL = 200                    # MB

TODAY = datetime.now(SHANGHAI).date()
STARTS = datetime.combine(TODAY, datetime.min.time(), SHANGHAI).astimezone(UTC) + timedelta(
    hours=8)


def _orgs() -> list[dict]:
    rows = [{"org_code": "FX", "name": "奉贤区委", "parent_code": "", "kind": "committee",
             "sector": ""},
            {"org_code": "FX01", "name": "南桥镇党委", "parent_code": "FX", "kind": "committee",
             "sector": ""}]
    rows += [{"org_code": f"FX01{g:02d}", "name": f"党支部{g}", "parent_code": "FX01",
              "kind": "grassroots", "sector": "two_new"} for g in range(10)]
    return [{"row": i + 2, **row} for i, row in enumerate(rows)]


def _members() -> list[dict]:
    return [{"row": i + 2, "member_no": f"P{i:06d}", "name": f"党员{i}",
             "org_code": f"FX01{i % 10:02d}", "joined_on": "2010-07-01",
             "employment": "enterprise", "secretary_of": ""} for i in range(MEMBERS)]


def _class(class_id: str, delivery: str) -> dict:
    return {"class_id": class_id, "program_id": str(uuid.uuid4()), "year": TODAY.year,
            "track": "members", "organiser_org_code": "FX", "title": "企业党员培训班",
            "audience": {"sector": None, "module": None, "category": "enterprise"},
            "offline_capacity": 50, "delivery": delivery, "start_date": TODAY,
            "end_date": TODAY + timedelta(days=6), "core_theory_ratio": 1.0}


def _session(class_id: str, index: int, live: bool) -> dict:
    starts = STARTS + timedelta(minutes=5 * index)   # overlapping is fine for the consumers
    return {"session_id": str(uuid.uuid4()), "class_id": class_id, "course_title": "课程",
            "core_theory": True, "kind": "lecture", "starts_at": starts,
            "ends_at": starts + timedelta(minutes=SESSION_MINUTES),
            "hours": SESSION_MINUTES / 60, "venue_name": None, "instructor_name": None,
            "live": live, "sequence": index}


def _scheduling(event_type: str, data: dict) -> Outgoing:
    event = new_event("scheduling", event_type, data)
    return Outgoing("scheduling.events", event_type, event.body(), message_id=event.id)


def _viewings(session_ids: list[str], member_nos: list[str]) -> list[Outgoing]:
    """One report per person and session, 90% of its minutes (≥ 80%: online)."""
    out = []
    for session_id in session_ids:
        for member_no in member_nos:
            event = new_event("live_platform", "viewer_attended", {
                "session_id": session_id, "member_no": member_no,
                "watched_minutes": SESSION_MINUTES * 0.9, "site": None})
            out.append(Outgoing("live_platform.events", "viewer_attended", event.body(),
                                message_id=event.id))
    return out


class Database:
    """SQL reads of a service's tables (what the bench waits on)."""

    def __init__(self, url: str):
        self.connection = psycopg2.connect(url)
        self.connection.autocommit = True

    def scalar(self, sql: str, *args):
        with self.connection.cursor() as cursor:
            cursor.execute(sql, args)
            row = cursor.fetchone()
        return row[0] if row else None

    def count(self, table: str) -> int:
        try:
            return self.scalar(f"SELECT count(*) FROM {table}")  # noqa: S608 - our own names
        except psycopg2.errors.UndefinedTable:
            return 0

    def session_status(self, session_id: str):
        return self.scalar("SELECT status FROM rp_session WHERE session_id = %s", session_id)

    def close(self):
        self.connection.close()


def _publish_all(publisher: ConfirmingPublisher, messages: list[Outgoing]) -> None:
    for start in range(0, len(messages), PUBLISH_BATCH):
        returned = publisher.publish(messages[start:start + PUBLISH_BATCH])
        if returned:
            raise RuntimeError(f"bench_pipeline: unroutable {returned[0]}")


def _world(rpc, publisher: ConfirmingPublisher, reporting: Database, enrollment: Database):
    """Organisations and members imported, a hybrid class with its sessions and everyone
    enrolled online, and an offline class with no one in it whose sessions the latency run
    completes (so that no absences are marked: only the session's own hop is measured)."""
    rpc.enrollment.import_orgs(_orgs())
    result = rpc.enrollment.import_members(_members())
    if result["kept"] != MEMBERS:
        raise RuntimeError(f"bench_pipeline: import kept {result['kept']}: {result['bad'][:3]}")
    class_id, quiet_id = str(uuid.uuid4()), str(uuid.uuid4())
    sessions = [_session(class_id, i, True)
                for i in range(LIVE_SESSIONS + DRAINS * RATE_SESSIONS + LOAD_SESSIONS)]
    quiet = [_session(quiet_id, i, False) for i in range(SAMPLES)]
    _publish_all(publisher, [_scheduling("class_published", _class(class_id, "hybrid")),
                             _scheduling("class_published", _class(quiet_id, "offline"))]
                 + [_scheduling("session_scheduled", s) for s in sessions + quiet])
    total = len(sessions) + len(quiet)
    wait_for(lambda: reporting.count("rp_session") >= total, "reporting to know the sessions")

    # Every session, not the last one published: one that came before its class went to the
    # retry queue, and a viewing of it would wait there too, timed as the pipeline's.
    wait_for(lambda: enrollment.count("sessions") >= total, "enrollment to know the sessions")
    member_nos = [m["member_no"] for m in _members()]
    for start in range(0, MEMBERS, 500):
        done = rpc.enrollment.nominate(class_id, {"member_nos": member_nos[start:start + 500],
                                                  "mode": "online"})
        if done["refused"]:
            raise RuntimeError(f"bench_pipeline: refused {done['refused'][:3]}")
    wait_for(lambda: reporting.count("rp_enrollment") >= MEMBERS, "reporting's enrolments")
    return [s["session_id"] for s in sessions], quiet, member_nos


def _until_recorded(reporting, enrollment, n: int, start: float) -> tuple[float, float]:
    """Seconds from `start` until enrollment, then reporting, hold `n` attendance rows."""
    first_hop = []

    def arrived():
        if not first_hop and enrollment.count("attendance_current") >= n:
            first_hop.append(time.perf_counter() - start)
        return reporting.count("rp_attendance") >= n
    # Every 0.1 s: a count(*) over both growing tables every 20 ms took a tenth of the
    # PostgreSQL time the run measures.
    wait_for(arrived, f"{n} attendance rows in reporting", interval=0.1)
    elapsed = time.perf_counter() - start
    return (first_hop[0] if first_hop else elapsed), elapsed


def _live_rate(publisher, reporting, enrollment, session_ids, member_nos) -> float:
    """Published while the services consume: the publisher shares the two cores."""
    messages = _viewings(session_ids, member_nos)
    start = time.perf_counter()
    _publish_all(publisher, messages)
    published = time.perf_counter() - start
    hop, elapsed = _until_recorded(reporting, enrollment, len(messages), start)
    print(f"# published while consuming: {len(messages)} viewer_attended confirmed in "
          f"{published:.2f} s, recorded by enrollment after {hop:.2f} s, in reporting after "
          f"{elapsed:.2f} s: {len(messages) / elapsed:.0f} events/s", flush=True)
    return len(messages) / elapsed


def _drain_rate(publisher, reporting, enrollment, enrollment_pid, session_ids, member_nos,
                before: int) -> float:
    """As the drain baseline is measured: the queue filled first (enrollment paused
    with SIGSTOP meanwhile), then timed from the moment enrollment resumes."""
    messages = _viewings(session_ids, member_nos)
    os.kill(enrollment_pid, signal.SIGSTOP)
    try:
        _publish_all(publisher, messages)
    finally:
        os.kill(enrollment_pid, signal.SIGCONT)
    start = time.perf_counter()
    hop, elapsed = _until_recorded(reporting, enrollment, before + len(messages), start)
    print(f"# drained: {len(messages)} viewer_attended queued beforehand, recorded by "
          f"enrollment after {hop:.2f} s, in reporting after {elapsed:.2f} s", flush=True)
    return len(messages) / elapsed


def _background(amqp_uri: str, messages: list[Outgoing], rate: float, stopping: list) -> int:
    """Publish `messages` at `rate` per second in small confirmed batches until told to stop."""
    publisher = ConfirmingPublisher(amqp_uri)
    batch = max(1, int(rate / 20))
    sent, start = 0, time.perf_counter()
    try:
        while not stopping and sent < len(messages):
            publisher.publish(messages[sent:sent + batch])
            sent += batch
            ahead = sent / rate - (time.perf_counter() - start)
            eventlet.sleep(max(ahead, 0))
    finally:
        publisher.close()
    return sent


def _latencies(amqp_uri, publisher, reporting, load_ids, quiet, member_nos, rate):
    load = _viewings(load_ids, member_nos)
    stopping = []
    loader = eventlet.spawn(_background, amqp_uri, load, rate / 2, stopping)
    before = reporting.count("rp_attendance")
    eventlet.sleep(1.0)   # the load running before the first sample
    samples = []
    started = time.perf_counter()
    try:
        for session in quiet:
            session_id = session["session_id"]
            message = _scheduling("session_completed", session)
            sent = time.perf_counter()
            publisher.publish([message])
            wait_for(lambda sid=session_id: reporting.session_status(sid) == "completed",
                     "reporting to record a completed session", timeout=30, interval=0.003)
            samples.append(time.perf_counter() - sent)
            eventlet.sleep(0.05)
    finally:
        stopping.append(True)
        sent_load = loader.wait()
    spent = time.perf_counter() - started
    landed = reporting.count("rp_attendance") - before
    print(f"# latency: {len(samples)} samples in {spent:.1f} s under {sent_load} viewer_attended "
          f"at {rate / 2:.0f}/s target ({landed} reached reporting meanwhile)", flush=True)
    return samples


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def run(ctx) -> None:
    """Apart: the import bench before it leaves 60,000 members and their events behind,
    whose stale planner statistics slowed this one to a quarter."""
    with apart(ctx) as own:
        _run(own)


def _run(ctx) -> None:
    env = {"AMQP_URI": ctx.amqp_uri, "PEIXUN_LOG_LEVEL": "WARNING",
           **{f"{s.upper()}_DATABASE_URL": ctx.urls[s] for s in SERVICES},
           **{f"{s.upper()}_METRICS_PORT": "0" for s in SERVICES}}
    baseline = of_this_run(ctx, "quorum_drain")   # before the services take their share
    two_hops = of_this_run(ctx, "quorum_two_hop")
    declare_topology(ctx.amqp_uri)
    log = tempfile.NamedTemporaryFile("w+b", prefix="bench-pipeline-", suffix=".log",
                                      delete=False)
    processes = {name: popen_service(name, env=env, stdout=log) for name in SERVICES}
    reporting = Database(ctx.urls["reporting"])
    enrollment = Database(ctx.urls["enrollment"])
    publisher = ConfirmingPublisher(ctx.amqp_uri)
    try:
        wait_healthy(SERVICES, ctx.amqp_uri, processes)
        with ClusterRpcProxy({"AMQP_URI": ctx.amqp_uri, "serializer": "json"},
                             timeout=60) as rpc:
            session_ids, quiet, member_nos = _world(rpc, publisher, reporting, enrollment)
        live = session_ids[:LIVE_SESSIONS]
        drains = [session_ids[LIVE_SESSIONS + n * RATE_SESSIONS:
                              LIVE_SESSIONS + (n + 1) * RATE_SESSIONS] for n in range(DRAINS)]
        load = session_ids[LIVE_SESSIONS + DRAINS * RATE_SESSIONS:]
        _live_rate(publisher, reporting, enrollment, live, member_nos)
        # The best of three drains, as the baseline is measured: a single one swings with
        # whatever else the two cores are doing.
        rate = max(_drain_rate(publisher, reporting, enrollment, processes["enrollment"].pid,
                               drained, member_nos, (len(live) + n * len(drained)) * MEMBERS)
                   for n, drained in enumerate(drains))
        print(f"# pipeline: {rate / ctx.baselines['nameko_drain']:.3f} × nameko's trivial "
              "drain of a classic queue (baseline_nameko_drain)", flush=True)
        print(f"# pipeline: {rate / two_hops:.3f} × the broker's own two hops with the kit's "
              "transport and no work (baseline_quorum_two_hop)", flush=True)
        bench_line("pipeline_two_hop_rate", rate, "events/s", baseline,
                   f"≥{RATE_GOAL}×quorum_drain", rate >= RATE_GOAL * baseline)

        samples = _latencies(ctx.amqp_uri, publisher, reporting, load, quiet, member_nos, rate)
        per_event = 1 / baseline
        p50, p99 = _percentile(samples, 0.50), _percentile(samples, 0.99)
        bench_line("pipeline_latency_p50", p50, "s", per_event, "-", True)
        bench_line("pipeline_latency_p99", p99, "s", per_event, f"≤{P99_GOAL}s",
                   p99 <= P99_GOAL)

        for name, process in processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"bench_pipeline: {name} exited ({process.returncode})")
            rss = peak_rss_mb(process.pid)
            bench_line(f"rss_{name}", rss, "MB", RSS_GOAL, f"≤{RSS_GOAL}MB", rss <= RSS_GOAL)
    except Exception:
        log.flush()
        log.seek(0)
        tail = log.read()[-4000:].decode(errors="replace")
        print(f"# bench_pipeline failed; the services' log ({log.name}) ends:\n{tail}",
              flush=True)
        raise
    finally:
        publisher.close()
        reporting.close()
        enrollment.close()
        stop(processes)
        log.close()
        if os.path.exists(log.name):
            os.unlink(log.name)
