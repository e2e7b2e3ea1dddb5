"""xAPI 1.0.3 statements drawn from the read models: "attended" per session a person was
present at (or watched online) and "completed" per class a person completed.

A statement says no more of a person than the member number, as an account on the district's
home page (`PEIXUN_XAPI_HOMEPAGE`, by default the public URL people reach peixun at). Its id is a
UUIDv5 over the fact (verb, person, activity, enrolment, hours), so exporting again gives the
same id, and a corrected fact (other hours) a new one.

Statements come in the order reporting stored the facts: the inbox position of the event that
wrote each read-model row as it stands now. That is the cursor, and `stored` is when the event
arrived, so a fact whose event arrives late (events of different queues travel apart) still
comes after every cursor handed out before it. A position is taken when its row is inserted and
only visible at commit, so rows younger than a few seconds (`XAPI_SETTLE_SECONDS`) wait for the
next page: a cursor never passes a position that could still appear behind it.
"""

import hashlib
import json
import os
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, literal, select

from services.contracts.topology import queue_name
from services.kit import config
from services.kit.clock import local
from services.kit.errors import InvalidInput
from services.kit.models import inbox

from .domain import Scope
from .models import rp_attendance, rp_class, rp_completion, rp_enrollment, rp_session
from .projections import check_not_replaying
from .reports.common import load_tree

VERSION = "1.0.3"
DEFAULT_LIMIT, MAX_LIMIT = 100, 500
DEFAULT_SETTLE_SECONDS = 10
ATTENDED = ("present", "online")   # statuses that earn hours: the person was there

VERBS = {
    "attended": {"id": "http://adlnet.gov/expapi/verbs/attended",
                 "display": {"zh-CN": "出席", "en-US": "attended"}},
    "completed": {"id": "http://adlnet.gov/expapi/verbs/completed",
                  "display": {"zh-CN": "完成", "en-US": "completed"}},
}
MEETING = "http://adlnet.gov/expapi/activities/meeting"
COURSE = "http://adlnet.gov/expapi/activities/course"
# Ids are UUIDv5 in a namespace of our own, so that no other system's names collide with them.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://peixun/xapi/statements")


def homepage() -> str:
    return (os.environ.get("PEIXUN_XAPI_HOMEPAGE") or config.public_url()).rstrip("/")


def settle() -> timedelta:
    return timedelta(seconds=float(os.environ.get("XAPI_SETTLE_SECONDS",
                                                  DEFAULT_SETTLE_SECONDS)))


# -- the parts of a statement ----------------------------------------------------------------

def duration(hours_ch: int) -> str:
    """Hundredths of an hour as an ISO 8601 duration: 200 → PT2H, 150 → PT1H30M."""
    seconds = max(int(hours_ch or 0), 0) * 36
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n]
    return "PT" + ("".join(parts) or "0S")


def timestamp(moment: datetime) -> str:
    """An instant on Shanghai's clock, with its offset: 2026-04-01T09:00:00+08:00."""
    return local(moment).isoformat(timespec="seconds")


def activity(home: str, kind: str, entity_id: str, name: str | None, type_iri: str) -> dict:
    definition = {"type": type_iri}
    if name:
        definition["name"] = {"zh-CN": name}
    return {"objectType": "Activity", "id": f"{home}/xapi/activities/{kind}/{entity_id}",
            "definition": definition}


def actor(home: str, member_no: str) -> dict:
    return {"objectType": "Agent", "account": {"homePage": home, "name": member_no}}


def statement_id(verb: str, member_no: str, activity_id: str, registration: str,
                 result: dict) -> str:
    fact = json.dumps([verb, member_no, activity_id, registration, result], sort_keys=True,
                      ensure_ascii=False)
    return str(uuid.uuid5(NAMESPACE, hashlib.sha256(fact.encode()).hexdigest()))


def statement(home: str, verb: str, member_no: str, obj: dict, registration: str,
              result: dict, at: datetime, stored: datetime, parent: dict | None = None) -> dict:
    context = {"registration": registration, "language": "zh-CN", "platform": "peixun"}
    if parent is not None:
        context["contextActivities"] = {"parent": [parent]}
    return {"id": statement_id(verb, member_no, obj["id"], registration, result),
            "actor": actor(home, member_no), "verb": VERBS[verb], "object": obj,
            "result": result, "context": context, "timestamp": timestamp(at),
            "stored": timestamp(stored)}


def attended(home: str, row) -> dict:
    """A person at a session: how long (the hours it earned them) and whether that was the
    whole session. The timestamp is the session's start (when it is known yet)."""
    result = {"duration": duration(row["hours_ch"])}
    if row["session_ch"] is not None:
        result["completion"] = row["hours_ch"] >= row["session_ch"]
    klass = activity(home, "class", row["class_id"], row["class_title"], COURSE)
    session = activity(home, "session", row["session_id"], row["course_title"], MEETING)
    return statement(home, "attended", row["member_no"], session, row["enrollment_id"],
                     result, row["starts_at"] or row["recorded_at"], row["received_at"],
                     parent=klass)


def completed(home: str, row) -> dict:
    """A person completed a class: the hours they attended. The timestamp is when enrollment
    decided it."""
    result = {"duration": duration(row["attended_ch"]), "completion": True}
    klass = activity(home, "class", row["class_id"], row["class_title"], COURSE)
    return statement(home, "completed", row["member_no"], klass, row["enrollment_id"],
                     result, datetime.fromisoformat(row["occurred_at"]), row["received_at"])


# -- input -------------------------------------------------------------------------------------

def parse_since(value) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value))
        if moment.tzinfo is None:
            raise InvalidInput("since needs an offset", errors={"since": [
                "give the offset, e.g. 2026-03-01T00:00:00+08:00"]})
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):   # not a timestamp, or one outside years 1-9999
        raise InvalidInput("since is not a timestamp", errors={"since": [
            "not an ISO 8601 timestamp, e.g. 2026-03-01T00:00:00+08:00"]}) from None


def parse_limit(value) -> int:
    if value in (None, ""):
        return DEFAULT_LIMIT
    try:
        limit = int(value)
    except (TypeError, ValueError):
        limit = 0
    if not 1 <= limit <= MAX_LIMIT or str(value).strip() != str(limit):
        raise InvalidInput("limit is out of range", errors={"limit": [
            f"a whole number from 1 to {MAX_LIMIT}"]})
    return limit


def parse_cursor(value) -> int:
    text = "" if value is None else str(value)
    if text == "":
        return 0
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise InvalidInput("cursor is not one this service handed out", errors={"cursor": [
            "use the `more` link of the previous page as it is"]})
    return int(text)


# -- the statements ------------------------------------------------------------------------------

def page(db, since=None, limit=None, cursor=None, within: str | None = None,
         until: datetime | None = None) -> dict:
    """One page of statements after `cursor`, stored after `since`, at most `limit`, of the
    people in `within`'s subtree (None: the district): {statements, cursor, more,
    consistent_through}. `cursor` is where the next page starts (the last statement's)."""
    since, limit, after = parse_since(since), parse_limit(limit), parse_cursor(cursor)
    check_not_replaying(db)
    until = until or datetime.now(UTC) - settle()
    codes = None if within is None else Scope(load_tree(db), None, within).codes
    window = {"after": after, "since": since, "until": until, "codes": codes,
              "limit": limit + 1}
    rows = sorted([("attended", r) for r in _attended(db, **window)]
                  + [("completed", r) for r in _completed(db, **window)],
                  key=lambda item: item[1]["position"])
    home = homepage()
    build = {"attended": attended, "completed": completed}
    chosen = rows[:limit]
    return {"statements": [build[verb](home, row) for verb, row in chosen],
            "cursor": str(chosen[-1][1]["position"]) if chosen else (cursor or None),
            "more": len(rows) > limit, "consistent_through": timestamp(until)}


def _window(query, consumer: str, after: int, since, until, limit: int):
    query = query.where(inbox.c.consumer == consumer, inbox.c.position > after,
                        inbox.c.received_at <= until)
    if since is not None:
        query = query.where(inbox.c.received_at > since)
    return query.order_by(inbox.c.position).limit(limit)


def _written_by_this_event(table):
    """The row as it stands was written by this inbox entry (its vkey ends with the event's
    id): a fact shows once, at the position of its latest word."""
    return table.c.vkey.endswith(literal("|") + inbox.c.event_id)


def _attended(db, after, since, until, codes, limit):
    data = inbox.c.payload
    query = (
        select(inbox.c.position, inbox.c.received_at, rp_attendance.c.enrollment_id,
               rp_attendance.c.session_id, rp_attendance.c.class_id,
               rp_attendance.c.member_no, rp_attendance.c.hours_ch,
               rp_attendance.c.recorded_at, rp_session.c.course_title,
               rp_session.c.starts_at, rp_session.c.hours_ch.label("session_ch"),
               rp_class.c.title.label("class_title"))
        .select_from(inbox)
        .join(rp_attendance, and_(
            rp_attendance.c.enrollment_id == data[("data", "enrollment_id")].as_string(),
            rp_attendance.c.session_id == data[("data", "session_id")].as_string(),
            _written_by_this_event(rp_attendance)))
        .outerjoin(rp_session, rp_session.c.session_id == rp_attendance.c.session_id)
        .outerjoin(rp_class, rp_class.c.class_id == rp_attendance.c.class_id)
        .where(rp_attendance.c.status.in_(ATTENDED)))
    if codes is not None:
        query = query.join(
            rp_enrollment, rp_enrollment.c.enrollment_id == rp_attendance.c.enrollment_id
        ).where(rp_enrollment.c.org_code.in_(sorted(codes)))
    consumer = queue_name("reporting", "enrollment", "attendance_recorded")
    return db.execute(_window(query, consumer, after, since, until, limit)).mappings().all()


def _completed(db, after, since, until, codes, limit):
    data = inbox.c.payload
    query = (
        select(inbox.c.position, inbox.c.received_at,
               data["occurred_at"].as_string().label("occurred_at"),
               rp_completion.c.enrollment_id, rp_completion.c.class_id,
               rp_completion.c.member_no, rp_completion.c.attended_ch,
               rp_class.c.title.label("class_title"))
        .select_from(inbox)
        .join(rp_completion, and_(
            rp_completion.c.enrollment_id == data[("data", "enrollment_id")].as_string(),
            _written_by_this_event(rp_completion)))
        .outerjoin(rp_class, rp_class.c.class_id == rp_completion.c.class_id)
        .where(rp_completion.c.status == "completed"))
    if codes is not None:
        query = query.outerjoin(
            rp_enrollment, rp_enrollment.c.enrollment_id == rp_completion.c.enrollment_id
        ).where(func.coalesce(rp_completion.c.org_code, rp_enrollment.c.org_code)
                .in_(sorted(codes)))
    consumer = queue_name("reporting", "enrollment", "completion_recorded")
    return db.execute(_window(query, consumer, after, since, until, limit)).mappings().all()
