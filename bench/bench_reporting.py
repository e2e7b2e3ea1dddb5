"""Reporting at a district year's size: the replay rate (the log rebuilt into the read models)
against a raw PostgreSQL insert, and the annual summary pulled over RPC as XLSX and PDF.

The year: 4,000 grassroots organisations under 40 committees, 60,000 people, 240 classes of 20
sessions, 24,000 enrolments, 480,000 attendance records, 24,000 completions — about 600,000
events, written straight into reporting's inbox (the log) the way the live handlers leave it.
"""

import io
import json
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import psycopg2
from kombu import Connection
from nameko.containers import ServiceContainer
from nameko.standalone.rpc import ClusterRpcProxy

from services.contracts.topology import declare, queue_name
from services.kit import migrate
from services.kit.database import make_engine
from services.reporting import replay
from services.reporting.service import ReportingService

from .harness import apart, bench_line, nameko_config, timed

YEAR = 2026
COMMITTEES = 40
ORGS_PER_COMMITTEE = 100
PEOPLE = 60_000
SECRETARY_CLASSES = 40
MEMBER_CLASSES = 200
PER_CLASS = 100
SESSIONS = 20
SECTORS = ("village", "residential", "institution", "soe", "two_new")
START = datetime(2026, 3, 1, 1, tzinfo=UTC)


class Log:
    """Envelopes written as inbox rows through COPY, a chunk at a time."""

    def __init__(self, url: str):
        self.url = url
        self.buffer = io.StringIO()
        self.pending = 0
        self.count = 0
        self.clock = START

    def add(self, source: str, event_type: str, data: dict, at: datetime | None = None):
        self.clock += timedelta(milliseconds=1)
        envelope = {"id": str(uuid.uuid4()), "type": event_type, "source": source,
                    "occurred_at": (at or self.clock).isoformat(), "version": 1, "data": data}
        payload = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
        payload = payload.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
        self.buffer.write(f"{queue_name('reporting', source, event_type)}\t{envelope['id']}\t"
                          f"{source}\t{event_type}\t{payload}\t{self.clock.isoformat()}\n")
        self.pending += 1
        self.count += 1
        if self.pending >= 50_000:
            self.flush()

    def flush(self):
        if not self.pending:
            return
        # eventlet makes psycopg2 green with a wait callback, under which COPY is refused.
        green = psycopg2.extensions.get_wait_callback()
        psycopg2.extensions.set_wait_callback(None)
        try:
            connection = psycopg2.connect(self.url)
            with connection, connection.cursor() as cursor:
                self.buffer.seek(0)
                cursor.copy_from(self.buffer, "inbox", columns=(
                    "consumer", "event_id", "source", "type", "payload", "received_at"))
            connection.close()
        finally:
            psycopg2.extensions.set_wait_callback(green)
        self.buffer = io.StringIO()
        self.pending = 0


def ids(prefix: str, n: int) -> list[str]:
    return [str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench/{prefix}/{i}")) for i in range(n)]


def write_year(log: Log) -> dict:
    """A district year into the log; returns what the pulls need to know."""
    log.add("enrollment", "organisation_changed", {
        "org_code": "FX", "name": "奉贤区委", "parent_code": None, "kind": "district",
        "sector": None, "secretary_member_no": None})
    orgs = []
    for c in range(COMMITTEES):
        committee = f"C{c:02d}"
        log.add("enrollment", "organisation_changed", {
            "org_code": committee, "name": f"第{c + 1}党(工)委", "parent_code": "FX",
            "kind": "committee", "sector": None, "secretary_member_no": None})
        for g in range(ORGS_PER_COMMITTEE):
            code = f"G{c:02d}{g:03d}"
            sector = SECTORS[(c + g) % len(SECTORS)]
            orgs.append((code, committee, sector))
            log.add("enrollment", "organisation_changed", {
                "org_code": code, "name": f"第{c + 1}党委第{g + 1}基层党组织",
                "parent_code": committee, "kind": "grassroots", "sector": sector,
                "secretary_member_no": f"S{len(orgs) - 1:05d}"})
    people = []
    for i in range(PEOPLE):
        code, committee, sector = orgs[i % len(orgs)]
        secretary = i < len(orgs)
        member_no = f"S{i:05d}" if secretary else f"M{i:05d}"
        people.append((member_no, code, committee, sector))
        log.add("enrollment", "person_changed", {
            "member_no": member_no, "org_code": code, "committee_code": committee,
            "joined_on": "2005-07-01", "employment": "institution",
            "secretary_of": code if secretary else None, "active": True})
    programs = ids("program", 2)
    for program, track, target in ((programs[0], "secretaries", 4000),
                                   (programs[1], "members", 20000)):
        log.add("scheduling", "program_changed", {
            "program_id": program, "year": YEAR, "track": track, "organiser_org_code": "FX",
            "target_person_times": target, "name": track})
    secretaries = [p for p in people if p[0].startswith("S")]
    members = [p for p in people if p[0].startswith("M")]
    classes = ids("class", SECRETARY_CLASSES + MEMBER_CLASSES)
    for k, class_id in enumerate(classes):
        track = "secretaries" if k < SECRETARY_CLASSES else "members"
        pool = secretaries if track == "secretaries" else members
        start = date(YEAR, 3, 1) + timedelta(days=k)
        facts = {"class_id": class_id, "program_id": programs[track == "members"],
                 "year": YEAR, "track": track, "organiser_org_code": "FX",
                 "title": f"{YEAR}年第{k + 1}期{'书记' if track == 'secretaries' else '党员'}班",
                 "audience": {"sector": None, "module": "basic_theory", "category": None},
                 "offline_capacity": PER_CLASS, "delivery": "hybrid",
                 "start_date": start.isoformat(), "end_date": start.isoformat(),
                 "core_theory_ratio": 0.75}
        log.add("scheduling", "class_published", facts)
        sessions = ids(f"session/{k}", SESSIONS)
        for s, session_id in enumerate(sessions):
            starts = datetime.combine(start, datetime.min.time(), UTC) + timedelta(hours=s)
            session = {"session_id": session_id, "class_id": class_id,
                       "course_title": f"课程{s + 1}", "core_theory": s % 4 != 0,
                       "kind": "lecture", "starts_at": starts.isoformat(),
                       "ends_at": (starts + timedelta(hours=1)).isoformat(), "hours": 2.0,
                       "venue_name": "区委党校", "instructor_name": "教授", "live": True,
                       "sequence": s}
            log.add("scheduling", "session_scheduled", session)
            log.add("scheduling", "session_completed", session)
        first = (k * PER_CLASS) % len(pool)
        for n in range(PER_CLASS):
            member_no, code, committee, sector = pool[(first + n) % len(pool)]
            enrollment_id = str(uuid.uuid4())
            log.add("enrollment", "enrollment_confirmed", {
                "enrollment_id": enrollment_id, "class_id": class_id, "member_no": member_no,
                "org_code": code, "committee_code": committee, "sector": sector,
                "category": None if track == "secretaries" else "institution",
                "mode": "online", "status": "confirmed"})
            attended = 0
            for s, session_id in enumerate(sessions):
                status = "absent" if (n + s) % 9 == 0 else "present"
                attended += 2 if status == "present" else 0
                log.add("enrollment", "attendance_recorded", {
                    "enrollment_id": enrollment_id, "session_id": session_id,
                    "class_id": class_id, "member_no": member_no, "status": status,
                    "hours_earned": 2.0 if status == "present" else 0.0,
                    "recorded_at": log.clock.isoformat(), "correction": False})
            log.add("enrollment", "completion_recorded", {
                "enrollment_id": enrollment_id, "class_id": class_id, "member_no": member_no,
                "year": YEAR, "status": "completed" if attended >= 32 else "incomplete",
                "attended_hours": float(attended), "class_hours": 40.0})
        log.add("scheduling", "class_completed", {**facts, "class_hours": 40.0,
                                                  "sessions_completed": SESSIONS})
    log.flush()
    return {"class_id": classes[0]}


def replay_rate(url: str) -> tuple[float, int]:
    engine = make_engine(url)
    result = replay.replay(engine, batch=10_000)
    engine.dispose()
    return result.rate, result.events


def pull_seconds(amqp_uri: str, urls: dict, class_id: str) -> dict:
    with Connection(amqp_uri) as connection:
        declare(connection.channel())
    container = ServiceContainer(ReportingService, nameko_config(amqp_uri, urls))
    container.start()
    seconds = {}
    try:
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=120) as rpc:
            for fmt in ("pdf", "xlsx"):   # a running service has its writers loaded
                rpc.reporting.report("class-plan", {"class_id": class_id}, fmt)
            for fmt in ("json", "xlsx", "pdf"):
                started = time.perf_counter()
                answer = rpc.reporting.report("annual-summary", {"year": YEAR}, fmt)
                seconds[fmt] = time.perf_counter() - started
                assert not answer["cached"]
    finally:
        container.stop()
    return seconds


def run(ctx) -> None:
    """Apart: the import bench before it leaves 60,000 person_changed events in reporting's
    queue, which the service pulling the reports then consumed meanwhile (the annual summary
    took 1.7 s as XLSX and 3.9 s as PDF, not 0.3 and 0.9)."""
    with apart(ctx) as own:
        _run(own)


def _run(ctx) -> None:
    url = ctx.urls["reporting"]
    migrate.upgrade(make_engine(url), "reporting")
    log = Log(url)
    with timed() as elapsed:
        facts = write_year(log)
    print(f"# reporting: {log.count} events written to the log in {elapsed():.1f}s", flush=True)

    rate, events = replay_rate(url)
    baseline = ctx.baselines["pg_insert"]
    bench_line("reporting_replay", rate, "events/s", baseline, "≥50000events/s",
               rate >= 50_000)

    seconds = pull_seconds(ctx.amqp_uri, ctx.urls, facts["class_id"])
    bench_line("reporting_annual_summary_xlsx", seconds["xlsx"], "s", seconds["json"], "≤1s",
               seconds["xlsx"] <= 1.0)
    bench_line("reporting_annual_summary_pdf", seconds["pdf"], "s", seconds["json"], "≤3s",
               seconds["pdf"] <= 3.0)
