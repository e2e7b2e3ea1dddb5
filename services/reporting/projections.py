"""Read models from events: one projection per read-model table says, for the event types that
feed it, how an event envelope (the wire form the inbox keeps) becomes a row.

Order-independence: a row remembers the ordering key (`vkey`) of the event that wrote it, and an
upsert only overwrites a row whose key is lower. Keys come from the events themselves (a status
rank, the time the fact happened, the event id as tie-break), never from arrival order, so events
on different queues may arrive in any order and concurrent workers cannot lose updates. Nothing
here waits for a reference: an attendance for a class not seen yet is kept by its ids and joined
when a report is built.

Each projection is written twice, once per database, and tests hold them to the same rows:
- on PostgreSQL, as SQL over the envelopes' JSON, set-based: the live handlers pass a batch as
  one JSON array and `peixun replay` feeds the same statement straight from the inbox, so a
  rebuild runs the very statement the live path ran, without a row crossing into Python;
- in Python (SQLite, a laptop's database and the unit tests), one dict per event.
"""

import json
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Table, text

from services.contracts.topology import SUBSCRIPTIONS, queue_name
from services.kit.clock import SHANGHAI
from services.kit.errors import Rebuilding

from . import models

# The advisory lock `peixun replay` holds exclusively; handlers and report builds share it.
REPLAY_LOCK = "peixun.reporting.replay"

# Class and session statuses that end a lifecycle outrank the ones before them.
# Among the events of one rank, the class's highest sequence wins (a class_changed after
# another), then the time and the id.
CLASS_RANK = {"class_published": 0, "class_changed": 0, "class_completed": 1,
              "class_cancelled": 2}
CLASS_STATUS = {"class_published": "published", "class_changed": "published",
                "class_completed": "completed", "class_cancelled": "cancelled"}
SEQUENCE_DIGITS = 6
SESSION_RANK = {"session_scheduled": 0, "session_rescheduled": 0, "session_completed": 1,
                "session_cancelled": 1}
SESSION_STATUS = {"session_scheduled": "scheduled", "session_rescheduled": "scheduled",
                  "session_completed": "completed", "session_cancelled": "cancelled"}


# -- Python helpers --------------------------------------------------------------------------

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def moment(value: str) -> datetime:
    """An ISO 8601 string with offset as an aware UTC datetime."""
    return datetime.fromisoformat(value).astimezone(UTC)


def stamp(value: str) -> str:
    """A moment as sortable text: microseconds since 1970, zero-padded (as `sql_stamp`)."""
    return f"{(datetime.fromisoformat(value) - EPOCH) // timedelta(microseconds=1):017d}"


def centi(hours) -> int | None:
    """Hours as hundredths, rounded half up (as PostgreSQL's round(numeric) does)."""
    if hours is None:
        return None
    return int((Decimal(str(hours)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def event_key(envelope: dict, *prefix) -> str:
    return "|".join([*(str(p) for p in prefix), stamp(envelope["occurred_at"]), envelope["id"]])


def sequence_text(sequence) -> str:
    return f"{sequence or 0:0{SEQUENCE_DIGITS}d}"


# -- SQL helpers (PostgreSQL) -----------------------------------------------------------------
# Each event is parsed once (jsonb) and read into typed records: `e` the envelope, `d` its data,
# each field cast by its type's own input function.

def sql_stamp(expression: str) -> str:
    return f"lpad(((extract(epoch FROM {expression}) * 1000000)::bigint)::text, 17, '0')"


def sql_key(*prefix: str) -> str:
    return " || '|' || ".join([*prefix, sql_stamp("e.occurred_at"), "e.id"])


def sql_centi(expression: str) -> str:
    return f"round({expression} * 100)::int"


def sql_sequence(expression: str) -> str:
    return f"lpad(COALESCE({expression}, 0)::text, {SEQUENCE_DIGITS}, '0')"


def sql_case(mapping: dict) -> str:
    whens = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in mapping.items())
    return f"(CASE e.type {whens} END)"


# -- the projections ---------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)   # hashed by identity: a key of the batch's groups
class Projection:
    table: Table
    types: tuple[str, ...]
    row: object          # envelope -> row dict (Python)
    data: dict           # data field -> PostgreSQL type, for json_to_record
    sql: dict            # column -> SQL expression over e and d (PostgreSQL)

    def consumers(self) -> list[str]:
        return [queue_name("reporting", source, event_type)
                for source, event_type in SUBSCRIPTIONS["reporting"]
                if event_type in self.types]


def _program(e):
    d = e["data"]
    return {"program_id": d["program_id"], "year": d["year"], "track": d["track"],
            "organiser_org_code": d["organiser_org_code"],
            "target_person_times": d["target_person_times"], "name": d.get("name"),
            "vkey": event_key(e)}


def _class(e):
    d, kind = e["data"], e["type"]
    audience = d.get("audience") or {}
    return {
        "class_id": d["class_id"], "program_id": d["program_id"], "year": d["year"],
        "track": d["track"], "organiser_org_code": d["organiser_org_code"], "title": d["title"],
        "sector": audience.get("sector"), "module": audience.get("module"),
        "category": audience.get("category"), "offline_capacity": d["offline_capacity"],
        "delivery": d["delivery"], "start_date": day(d["start_date"]),
        "end_date": day(d["end_date"]), "core_theory_ratio": float(d["core_theory_ratio"]),
        "status": CLASS_STATUS[kind], "online_open": bool(d.get("online_open")),
        "review_nominations": bool(d.get("review_nominations")),
        "sequence": d.get("sequence") or 0, "class_hours_ch": centi(d.get("class_hours")),
        "sessions_completed": d.get("sessions_completed"),
        "completed_on": (moment(e["occurred_at"]).astimezone(SHANGHAI).date()
                         if kind == "class_completed" else None),
        "vkey": event_key(e, CLASS_RANK[kind], sequence_text(d.get("sequence"))),
    }


def _session(e):
    d, kind = e["data"], e["type"]
    return {
        "session_id": d["session_id"], "class_id": d["class_id"],
        "course_title": d["course_title"], "core_theory": bool(d["core_theory"]),
        "kind": d["kind"], "starts_at": moment(d["starts_at"]), "ends_at": moment(d["ends_at"]),
        "hours_ch": centi(d["hours"]), "venue_name": d.get("venue_name"),
        "instructor_name": d.get("instructor_name"), "live": bool(d["live"]),
        "sequence": d["sequence"], "status": SESSION_STATUS[kind],
        "vkey": event_key(e, SESSION_RANK[kind]),
    }


def _org(e):
    d = e["data"]
    return {"org_code": d["org_code"], "name": d["name"], "parent_code": d.get("parent_code"),
            "kind": d["kind"], "sector": d.get("sector"),
            "secretary_member_no": d.get("secretary_member_no"), "vkey": event_key(e)}


def _person(e):
    d = e["data"]
    return {"member_no": d["member_no"], "name": d.get("name"), "org_code": d.get("org_code"),
            "committee_code": d.get("committee_code"), "joined_on": day(d.get("joined_on")),
            "employment": d.get("employment"), "secretary_of": d.get("secretary_of"),
            "active": d.get("active") is not False, "vkey": event_key(e)}


def _enrollment(e):
    d = e["data"]
    return {"enrollment_id": d["enrollment_id"], "class_id": d["class_id"],
            "member_no": d["member_no"], "org_code": d["org_code"],
            "committee_code": d.get("committee_code"), "sector": d.get("sector"),
            "category": d.get("category"), "mode": d["mode"], "status": d["status"],
            "origin": d.get("origin") or "nomination", "vkey": event_key(e)}


def _attendance(e):
    d = e["data"]
    # The effective status is the one recorded last; corrections come later.
    return {"enrollment_id": d["enrollment_id"], "session_id": d["session_id"],
            "class_id": d["class_id"], "member_no": d["member_no"], "status": d["status"],
            "hours_ch": centi(d["hours_earned"]), "recorded_at": moment(d["recorded_at"]),
            "correction": bool(d["correction"]),
            # The class's attendance chain after this entry (older events carry none).
            "chain_head": d.get("chain_head"), "chain_sequence": d.get("chain_sequence"),
            "vkey": event_key(e, stamp(d["recorded_at"]))}


def _completion(e):
    d = e["data"]
    return {"enrollment_id": d["enrollment_id"], "class_id": d["class_id"],
            "member_no": d["member_no"], "year": d["year"], "status": d["status"],
            "attended_ch": centi(d["attended_hours"]), "class_ch": centi(d["class_hours"]),
            "org_code": d.get("org_code"), "committee_code": d.get("committee_code"),
            "sector": d.get("sector"), "vkey": event_key(e)}


def _study_hours(e):
    d = e["data"]
    # A withdrawal outranks the entry it withdraws, whichever arrives first.
    return {"entry_id": d["entry_id"], "member_no": d["member_no"], "year": d["year"],
            "hours_ch": centi(d["hours"]), "source": d["source"], "title": d["title"],
            "on_date": day(d["on"]), "withdrawn": bool(d.get("withdrawn")),
            "vkey": event_key(e, int(bool(d.get("withdrawn"))))}


def _same(*names):
    return {name: f"d.{name}" for name in names}


PROJECTIONS = (
    Projection(models.rp_program, ("program_changed",), _program, {
        "program_id": "text", "year": "int", "track": "text", "organiser_org_code": "text",
        "target_person_times": "int", "name": "text"}, {
        **_same("program_id", "year", "track", "organiser_org_code", "target_person_times",
                "name"),
        "vkey": sql_key()}),
    Projection(models.rp_class, tuple(CLASS_RANK), _class, {
        "class_id": "text", "program_id": "text", "year": "int", "track": "text",
        "organiser_org_code": "text", "title": "text", "audience": "jsonb",
        "offline_capacity": "int", "delivery": "text", "start_date": "date",
        "end_date": "date", "core_theory_ratio": "float8", "class_hours": "numeric",
        "sessions_completed": "int", "online_open": "boolean", "review_nominations": "boolean",
        "sequence": "int"}, {
        **_same("class_id", "program_id", "year", "track", "organiser_org_code", "title",
                "offline_capacity", "delivery", "start_date", "end_date", "core_theory_ratio",
                "sessions_completed"),
        "sector": "(d.audience ->> 'sector')", "module": "(d.audience ->> 'module')",
        "category": "(d.audience ->> 'category')",
        "status": sql_case(CLASS_STATUS), "class_hours_ch": sql_centi("d.class_hours"),
        "online_open": "COALESCE(d.online_open, false)",
        "review_nominations": "COALESCE(d.review_nominations, false)",
        "sequence": "COALESCE(d.sequence, 0)",
        "completed_on": ("(CASE WHEN e.type = 'class_completed' THEN "
                         "(e.occurred_at AT TIME ZONE 'Asia/Shanghai')::date END)"),
        "vkey": sql_key(sql_case(CLASS_RANK), sql_sequence("d.sequence"))}),
    Projection(models.rp_session, tuple(SESSION_RANK), _session, {
        "session_id": "text", "class_id": "text", "course_title": "text",
        "core_theory": "boolean", "kind": "text", "starts_at": "timestamptz",
        "ends_at": "timestamptz", "hours": "numeric", "venue_name": "text",
        "instructor_name": "text", "live": "boolean", "sequence": "int"}, {
        **_same("session_id", "class_id", "course_title", "core_theory", "kind", "starts_at",
                "ends_at", "venue_name", "instructor_name", "live", "sequence"),
        "hours_ch": sql_centi("d.hours"), "status": sql_case(SESSION_STATUS),
        "vkey": sql_key(sql_case(SESSION_RANK))}),
    Projection(models.rp_org, ("organisation_changed",), _org, {
        "org_code": "text", "name": "text", "parent_code": "text", "kind": "text",
        "sector": "text", "secretary_member_no": "text"}, {
        **_same("org_code", "name", "parent_code", "kind", "sector", "secretary_member_no"),
        "vkey": sql_key()}),
    Projection(models.rp_person, ("person_changed",), _person, {
        "member_no": "text", "name": "text", "org_code": "text", "committee_code": "text",
        "joined_on": "date", "employment": "text", "secretary_of": "text", "active": "boolean"}, {
        **_same("member_no", "name", "org_code", "committee_code", "joined_on", "employment",
                "secretary_of"),
        "active": "COALESCE(d.active, true)", "vkey": sql_key()}),
    Projection(models.rp_enrollment, ("enrollment_nominated", "enrollment_confirmed",
                                      "enrollment_waitlisted", "enrollment_rejected",
                                      "enrollment_withdrawn"), _enrollment, {
        "enrollment_id": "text", "class_id": "text", "member_no": "text", "org_code": "text",
        "committee_code": "text", "sector": "text", "category": "text", "mode": "text",
        "status": "text", "origin": "text"}, {
        **_same("enrollment_id", "class_id", "member_no", "org_code", "committee_code",
                "sector", "category", "mode", "status"),
        "origin": "COALESCE(d.origin, 'nomination')", "vkey": sql_key()}),
    Projection(models.rp_attendance, ("attendance_recorded",), _attendance, {
        "enrollment_id": "text", "session_id": "text", "class_id": "text",
        "member_no": "text", "status": "text", "hours_earned": "numeric",
        "recorded_at": "timestamptz", "correction": "boolean", "chain_head": "text",
        "chain_sequence": "bigint"}, {
        **_same("enrollment_id", "session_id", "class_id", "member_no", "status",
                "recorded_at", "correction", "chain_head", "chain_sequence"),
        "hours_ch": sql_centi("d.hours_earned"),
        "vkey": sql_key(sql_stamp("d.recorded_at"))}),
    Projection(models.rp_completion, ("completion_recorded",), _completion, {
        "enrollment_id": "text", "class_id": "text", "member_no": "text", "year": "int",
        "status": "text", "attended_hours": "numeric", "class_hours": "numeric",
        "org_code": "text", "committee_code": "text", "sector": "text"}, {
        **_same("enrollment_id", "class_id", "member_no", "year", "status", "org_code",
                "committee_code", "sector"),
        "attended_ch": sql_centi("d.attended_hours"), "class_ch": sql_centi("d.class_hours"),
        "vkey": sql_key()}),
    Projection(models.rp_study_hours, ("study_hours_recorded",), _study_hours, {
        "entry_id": "text", "member_no": "text", "year": "int", "hours": "numeric",
        "source": "text", "title": "text", "on": "date", "withdrawn": "boolean"}, {
        **_same("entry_id", "member_no", "year", "source", "title"),
        "hours_ch": sql_centi("d.hours"), "on_date": 'd."on"',
        "withdrawn": "COALESCE(d.withdrawn, false)",
        "vkey": sql_key("(CASE WHEN COALESCE(d.withdrawn, false) THEN '1' ELSE '0' END)")}),
)

BY_TYPE = {event_type: projection for projection in PROJECTIONS
           for event_type in projection.types}


def upsert_sql(projection: Projection, source: str) -> str:
    """INSERT … SELECT from `source` (rows of one jsonb column `payload`): each envelope read
    once into typed records, the newest event per key (DISTINCT ON), written in key order,
    overwriting only rows with a lower vkey."""
    table = projection.table
    key = [c.name for c in table.primary_key.columns]
    columns = [c.name for c in table.columns]
    assert set(projection.sql) == set(columns), f"{table.name}: SQL and table disagree"
    select_list = ", ".join(f"{projection.sql[c]} AS {c}" for c in columns)
    record = ", ".join(f'"{name}" {kind}' for name, kind in projection.data.items())
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in key)
    return (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"SELECT DISTINCT ON ({', '.join(key)}) {', '.join(columns)} "
        f"FROM (SELECT {select_list} FROM ({source}) AS src, "
        "LATERAL jsonb_to_record(src.payload) "
        "AS e(id text, type text, occurred_at timestamptz, data jsonb), "
        f"LATERAL jsonb_to_record(e.data) AS d({record})) AS r "
        f"ORDER BY {', '.join(key)}, vkey DESC "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates} "
        f"WHERE EXCLUDED.vkey > {table.name}.vkey")


LIVE_SOURCE = "SELECT value AS payload FROM jsonb_array_elements(CAST(:payloads AS jsonb))"
_live_sql = {p.table.name: text(upsert_sql(p, LIVE_SOURCE)) for p in PROJECTIONS}


def replay_sql(projection: Projection) -> str:
    """The live statement, fed from the inbox: one consumer's events in a position range."""
    return upsert_sql(projection, "SELECT payload::jsonb AS payload FROM inbox "
                                  "WHERE consumer = :consumer "
                                  "AND position > :after AND position <= :upto")


# -- applying ------------------------------------------------------------------------------------

def _insert(session, table):
    if session.bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def upsert_latest(session, table, rows: list[dict]) -> None:
    """Python path: insert rows, or overwrite the stored row when the new one's vkey is higher.
    Rows of one key are reduced to the highest first (a statement may touch a row once), and
    written in key order so that concurrent batches lock rows in the same order."""
    if not rows:
        return
    key = [c.name for c in table.primary_key.columns]
    best: dict[tuple, dict] = {}
    for row in rows:
        k = tuple(row[name] for name in key)
        held = best.get(k)
        if held is None or row["vkey"] > held["vkey"]:
            best[k] = row
    statement = _insert(session, table)
    statement = statement.on_conflict_do_update(
        index_elements=key,
        set_={c.name: statement.excluded[c.name] for c in table.columns if c.name not in key},
        where=statement.excluded.vkey > table.c.vkey,
    )
    session.execute(statement, [best[k] for k in sorted(best)])


def apply(session, envelopes: list[dict], via: str | None = None) -> None:
    """Apply events of any types: each projection's events go in one statement. `via` forces
    the "python" or "sql" path (tests compare them); by default PostgreSQL runs SQL."""
    groups = defaultdict(list)
    for envelope in envelopes:
        groups[BY_TYPE[envelope["type"]]].append(envelope)
    sql = (via or ("sql" if session.bind.dialect.name == "postgresql" else "python")) == "sql"
    if any(projection.table is models.rp_org for projection in groups):
        # A fresh random value, not a count: two databases (tests make many) never share one.
        session.execute(models.rp_state.update().where(models.rp_state.c.id == 1)
                        .values(tree_version=secrets.randbits(62)))
    for projection, group in groups.items():
        if sql:
            session.execute(_live_sql[projection.table.name],
                            {"payloads": json.dumps(group, ensure_ascii=False)})
        else:
            upsert_latest(session, projection.table, [projection.row(e) for e in group])


def session_completed(session, event) -> None:
    """One session_completed event (the foundation's slice and its tests call this)."""
    apply(session, [event.payload])


# -- holding off while a replay runs ----------------------------------------------------------

def hold_off(session) -> None:
    """Wait while `peixun replay` rebuilds: the live handlers share the lock it holds
    exclusively, so nothing is applied to tables being rebuilt, and the replay starts only
    once the handlers in flight have committed (their events are then in its log).
    SQLite has one writer at a time: the replay's transaction holds the others off there."""
    if session.bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock_shared(hashtext(:k))"),
                        {"k": REPLAY_LOCK})


def check_not_replaying(session) -> None:
    """For report builds: refuse (rather than wait, or store a half-built file) mid-replay, or
    after a replay that did not finish."""
    if session.bind.dialect.name == "postgresql":
        got = session.execute(text("SELECT pg_try_advisory_xact_lock_shared(hashtext(:k))"),
                              {"k": REPLAY_LOCK}).scalar()
        if not got:
            raise Rebuilding("reporting is rebuilding its read models (peixun replay); "
                             "try again shortly")
    unfinished = session.execute(text("SELECT rebuilding FROM rp_state WHERE id = 1")).scalar()
    if unfinished:
        raise Rebuilding("the last replay did not finish: run `peixun replay` again")
