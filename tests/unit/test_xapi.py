"""xAPI statements from reporting's read models (services/reporting/xapi.py), on the small
district with issue 13's flows (tests/support/districts.py), told to reporting as its handlers
are: each event in the inbox (the log, with its position and arrival time) and in the read
models. By hand: 14 attended (K1: S11 ×3, S12 A and C — B was absent, then excused —, S21
×3; K2: M1 ×2, M2 ×2; K5: M1; K6: S12 online) and 7 completed (S11, S21 of K1; M1, M2 of K2;
S12 of K0 in 2025; M1 of K5; S12 of K6), none for the incomplete ones. Committee C1's subtree
holds S11, S12, M1, M2: 17 of them; C2's S21: 4.

Every statement is read by ADL's `tincan` library (the xAPI 1.0.3 reference for Python) and
checked against the statement rules it does not check itself.
"""

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import pytest
import tincan
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.contracts import new_event
from services.contracts.topology import queue_name
from services.gateway import xapi_push
from services.kit.errors import InvalidInput
from services.kit.models import inbox
from services.reporting import projections, replay, xapi
from tests.support.databases import BACKENDS, fresh_engine
from tests.support.districts import NAMES, uid, unit_district

HOME = "https://peixun.fengxian.example.cn"
RECEIVED = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)   # the first event's arrival; 1 s apart
LATER = datetime(2030, 1, 1, tzinfo=UTC)            # past the settling window of every row
ISO_DURATION = re.compile(r"^P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$")
WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+08:00$")
ATTENDED = xapi.VERBS["attended"]["id"]
COMPLETED = xapi.VERBS["completed"]["id"]


def tell(db, envelopes, first: int = 0) -> None:
    """The events as reporting's handlers take them: into the inbox, then the read models."""
    db.execute(inbox.insert(), [
        {"consumer": queue_name("reporting", e["source"], e["type"]), "event_id": e["id"],
         "source": e["source"], "type": e["type"], "payload": e,
         "received_at": RECEIVED + timedelta(seconds=first + n)}
        for n, e in enumerate(envelopes)])
    projections.apply(db, envelopes)
    db.commit()


@pytest.fixture(params=BACKENDS)
def told(request, tmp_path, monkeypatch):
    """(engine, session) on the district told to reporting, on SQLite and PostgreSQL."""
    monkeypatch.setenv("PEIXUN_XAPI_HOMEPAGE", HOME + "/")
    with fresh_engine(request.param, "reporting", tmp_path, request) as engine:
        with Session(engine) as db:
            tell(db, unit_district().events)
            yield engine, db


def everything(db, **kw) -> list[dict]:
    return xapi.page(db, limit=500, until=LATER, **kw)["statements"]


def by_fact(statements) -> dict:
    return {(s["verb"]["id"].rsplit("/", 1)[1], s["actor"]["account"]["name"],
             s["object"]["id"].rsplit("/", 1)[1]): s for s in statements}


# -- the statements are xAPI 1.0.3 --------------------------------------------------------------

def test_every_statement_parses_as_xapi_1_0_3(told):
    _, db = told
    statements = everything(db)
    assert len(statements) == 21
    parsed = tincan.StatementList.from_json(json.dumps(statements))
    assert len(parsed) == 21
    for raw in statements:
        statement = tincan.Statement.from_json(json.dumps(raw))
        assert str(statement.id) == raw["id"]
        assert statement.actor.account.home_page == HOME
        assert statement.verb.display["zh-CN"] and statement.verb.display["en-US"]
        assert statement.result.duration >= timedelta(0)
        assert statement.timestamp.utcoffset() == timedelta(hours=8)


def test_statements_carry_the_required_fields_with_absolute_iris(told):
    _, db = told
    for s in everything(db):
        assert {"id", "actor", "verb", "object", "timestamp"} <= set(s)
        assert uuid.UUID(s["id"]).version == 5
        assert s["actor"] == {"objectType": "Agent", "account": {
            "homePage": HOME, "name": s["actor"]["account"]["name"]}}
        assert s["verb"]["id"] in (ATTENDED, COMPLETED)
        assert set(s["verb"]["display"]) == {"zh-CN", "en-US"}
        iris = [s["verb"]["id"], s["object"]["id"], s["object"]["definition"]["type"],
                s["actor"]["account"]["homePage"],
                *[a["id"] for a in s["context"].get("contextActivities", {}).get("parent", [])]]
        for iri in iris:
            parts = urlparse(iri)
            assert parts.scheme in ("http", "https") and parts.netloc, iri
        assert s["object"]["objectType"] == "Activity"
        assert s["object"]["id"].startswith(f"{HOME}/xapi/activities/")
        assert s["object"]["definition"]["name"]["zh-CN"]
        assert ISO_DURATION.match(s["result"]["duration"]), s["result"]["duration"]
        assert isinstance(s["result"]["completion"], bool)
        assert WITH_OFFSET.match(s["timestamp"]) and WITH_OFFSET.match(s["stored"])
        assert uuid.UUID(s["context"]["registration"])


def test_a_person_is_a_member_number_on_the_home_page_and_nothing_more(told):
    _, db = told
    text = json.dumps(everything(db), ensure_ascii=False)
    assert not [name for name in NAMES.values() if name in text]
    assert {s["actor"]["account"]["name"] for s in everything(db)} == {
        "S11", "S12", "S21", "M1", "M2"}


def test_attended_per_session_and_completed_per_class(told):
    _, db = told
    facts = by_fact(everything(db))
    attended = {k for k in facts if k[0] == "attended"}
    sessions = {name: uid(name) for name in "ABCDEFG"}
    assert attended == {("attended", m, sessions[s]) for m, s in (
        ("S11", "A"), ("S11", "B"), ("S11", "C"), ("S12", "A"), ("S12", "C"),
        ("S21", "A"), ("S21", "B"), ("S21", "C"), ("M1", "D"), ("M1", "E"), ("M2", "D"),
        ("M2", "E"), ("M1", "F"), ("S12", "G"))}
    completed = {k for k in facts if k[0] == "completed"}
    assert completed == {("completed", m, uid(k)) for m, k in (
        ("S11", "K1"), ("S21", "K1"), ("M1", "K2"), ("M2", "K2"), ("S12", "K0"),
        ("M1", "K5"), ("S12", "K6"))}

    a = facts[("attended", "S11", sessions["A"])]
    assert a["object"]["definition"] == {
        "type": "http://adlnet.gov/expapi/activities/meeting",
        "name": {"zh-CN": "学习贯彻习近平新时代党建思想"}}
    assert a["timestamp"] == "2026-04-01T09:00:00+08:00"   # when the session began
    assert a["result"] == {"duration": "PT3H", "completion": True}
    assert a["context"]["registration"] == uid("E1")
    assert a["context"]["contextActivities"]["parent"] == [{
        "objectType": "Activity", "id": f"{HOME}/xapi/activities/class/{uid('K1')}",
        "definition": {"type": "http://adlnet.gov/expapi/activities/course",
                       "name": {"zh-CN": "K1班"}}}]
    k2 = facts[("completed", "M2", uid("K2"))]
    assert k2["object"]["definition"]["name"] == {"zh-CN": "K2班"}
    assert k2["result"] == {"duration": "PT8H", "completion": True}
    assert k2["timestamp"].endswith("+08:00") and "context" in k2


@pytest.mark.parametrize("hours_ch,iso", [(300, "PT3H"), (150, "PT1H30M"),
                                          (133, "PT1H19M48S"), (1, "PT36S"), (0, "PT0S")])
def test_hours_become_iso_8601_durations(hours_ch, iso):
    assert xapi.duration(hours_ch) == iso


# -- stable ids, pages, late facts -------------------------------------------------------------

def test_ids_are_unique_and_the_same_on_every_export_and_after_a_replay(told):
    engine, db = told
    first = everything(db)
    ids = [s["id"] for s in first]
    assert len(set(ids)) == len(ids)
    assert [s["id"] for s in everything(db)] == ids
    db.rollback()
    replay.replay(engine)
    db.expire_all()
    assert everything(db) == first


def test_pages_follow_the_cursor_without_gaps_or_repeats(told):
    _, db = told
    seen, cursor, pages = [], None, 0
    while True:
        answer = xapi.page(db, limit=4, cursor=cursor, until=LATER)
        seen += answer["statements"]
        cursor, pages = answer["cursor"], pages + 1
        if not answer["more"]:
            break
    assert pages == 6 and len(seen) == 21
    assert [s["id"] for s in seen] == [s["id"] for s in everything(db)]
    assert xapi.page(db, cursor=cursor, until=LATER) == {
        "statements": [], "cursor": cursor, "more": False,
        "consistent_through": "2030-01-01T08:00:00+08:00"}


def test_a_fact_told_late_comes_after_the_cursor_and_a_correction_under_a_new_id(told):
    _, db = told
    end = xapi.page(db, limit=500, until=LATER)["cursor"]
    # An attendance recorded in April arrives now (its queue was behind); S21's online A is
    # corrected to the whole session (other hours: another fact, another id).
    late = new_event("enrollment", "attendance_recorded", {
        "enrollment_id": uid("E2"), "session_id": uid("B"), "class_id": uid("K1"),
        "member_no": "S12", "status": "present", "hours_earned": 3,
        "recorded_at": datetime.fromisoformat("2026-04-03T11:00:00+08:00"), "correction": True},
        occurred_at=datetime.fromisoformat("2026-04-03T11:00:00+08:00")).payload
    corrected = new_event("enrollment", "attendance_recorded", {
        "enrollment_id": uid("E3"), "session_id": uid("A"), "class_id": uid("K1"),
        "member_no": "S21", "status": "online", "hours_earned": 1.5,
        "recorded_at": datetime.fromisoformat("2026-04-03T12:00:00+08:00"), "correction": True},
        occurred_at=datetime.fromisoformat("2026-04-03T12:00:00+08:00")).payload
    before = by_fact(everything(db))[("attended", "S21", uid("A"))]
    tell(db, [late, corrected], first=1000)
    news = xapi.page(db, cursor=end, until=LATER)["statements"]
    assert [(s["actor"]["account"]["name"], s["result"]) for s in news] == [
        ("S12", {"duration": "PT3H", "completion": True}),
        ("S21", {"duration": "PT1H30M", "completion": False})]
    assert news[1]["id"] != before["id"]
    assert len(everything(db)) == 22   # the corrected fact shows once, as it stands now


def test_rows_younger_than_the_settling_window_wait_for_the_next_page(told):
    _, db = told
    # Positions are taken at insert and seen at commit: the newest rows could still have an
    # uncommitted neighbour before them, so a page stops short of them.
    middle = RECEIVED + timedelta(seconds=len(unit_district().events) // 2)
    early = xapi.page(db, limit=500, until=middle)
    assert 0 < len(early["statements"]) < 21
    assert all(s["stored"] <= xapi.timestamp(middle) for s in early["statements"])
    rest = xapi.page(db, limit=500, cursor=early["cursor"], until=LATER)["statements"]
    assert len(early["statements"]) + len(rest) == 21


def test_since_takes_what_was_stored_after_it(told):
    _, db = told
    statements = everything(db)
    cut = statements[9]["stored"]
    after = everything(db, since=cut)
    assert after == [s for s in statements if s["stored"] > cut] and 0 < len(after) < 21


def test_a_committee_sees_its_own_subtree(told):
    _, db = told
    c1 = everything(db, within="C1")
    assert len(c1) == 17
    assert {s["actor"]["account"]["name"] for s in c1} == {"S11", "S12", "M1", "M2"}
    assert {s["actor"]["account"]["name"] for s in everything(db, within="C2")} == {"S21"}
    assert len(everything(db, within="C2")) == 4


# -- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("field,value", [
    ("since", "2026-03-01T00:00:00"), ("since", "yesterday"), ("since", "2026-13-01T00:00Z"),
    ("since", "0001-01-01T00:00:00+08:00"),
    ("limit", "0"), ("limit", "501"), ("limit", "ten"), ("limit", "1.5"),
    ("cursor", "abc"), ("cursor", "-1"), ("cursor", "1" * 19)])
def test_bad_input_names_its_field(sqlite_db, field, value):
    with pytest.raises(InvalidInput) as refused:
        xapi.page(sqlite_db("reporting"), **{field: value})
    assert set(refused.value.errors) == {field}


# -- the push to an LRS (services/gateway/xapi_push.py), against the stand-in LRS ---------------

T0 = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


def some_statements(n: int) -> list[dict]:
    return [xapi.statement(HOME, "attended", f"M{i}", xapi.activity(
        HOME, "session", uid(f"S{i}"), "课程", xapi.MEETING), uid(f"E{i}"),
        {"duration": "PT2H", "completion": True}, T0, T0) for i in range(n)]


def pages_of(statements):
    """reporting's answer, over a list: the cursor is how many were handed out."""
    def fetch(cursor, limit):
        start = int(cursor or 0)
        chosen = statements[start:start + limit]
        return {"statements": chosen, "cursor": str(start + len(chosen)),
                "more": start + len(chosen) < len(statements)}
    return fetch


@pytest.fixture
def lrs():
    from tests.support.lrs import StandInLrs

    stand_in = StandInLrs(user="lrs", password="secret").start()
    yield stand_in
    stand_in.stop()


def push_settings(lrs, **kw):
    return xapi_push.Settings(url=lrs.url, user="lrs", password="secret", batch=5,
                              interval=30, timeout=2, **kw)


def push_state(db, lrs):
    return db.execute(select(xapi_push.xapi_push).where(
        xapi_push.xapi_push.c.lrs_url == lrs.url)).mappings().one()


def test_the_push_waits_out_an_outage_with_backoff_and_sends_each_statement_once(sqlite_db,
                                                                                lrs):
    db, statements = sqlite_db("gateway"), some_statements(12)
    settings, fetch = push_settings(lrs), pages_of(statements)

    def tick(at):
        outcome = xapi_push.tick(db, settings, fetch, xapi_push.send, T0 + timedelta(seconds=at))
        db.commit()
        return outcome

    lrs.answer_503(2)
    assert tick(0) == "failed"                       # 503: again in 1 s
    assert tick(0.5) == "waiting"
    assert tick(1) == "failed"                       # 503: again in 2 s
    lrs.stop()
    assert tick(2.9) == "waiting"
    assert tick(3) == "failed"                       # refused: again in 4 s
    state = push_state(db, lrs)
    assert (state["cursor"], state["pushed"], state["failures"]) == (None, 0, 3)
    assert "did not answer" in state["last_error"]
    lrs.start()
    assert tick(6.9) == "waiting"
    assert [tick(7), tick(7), tick(7)] == ["pushed"] * 3   # 5 + 5 + 2: no waiting between
    assert tick(8) == "waiting"                      # caught up: look again in 30 s
    assert lrs.taken == [s["id"] for s in statements]   # each once, in order
    assert all("stored" not in s for s in lrs.statements.values())
    assert lrs.answers.count(503) == 2
    state = push_state(db, lrs)
    assert (state["cursor"], state["pushed"], state["failures"], state["last_error"]) == (
        "12", 12, 0, None)


def test_a_batch_partly_held_already_goes_one_by_one_and_moves_on(sqlite_db, lrs):
    db, statements = sqlite_db("gateway"), some_statements(3)
    # The LRS holds the first (taken before the cursor was stored) and, under the second's
    # id, other content: both are left as they are, the third is taken.
    lrs.statements[statements[0]["id"]] = {k: v for k, v in statements[0].items()
                                           if k != "stored"}
    lrs.statements[statements[1]["id"]] = {**statements[1], "result": {"duration": "PT1H"}}
    assert xapi_push.tick(db, push_settings(lrs), pages_of(statements), xapi_push.send,
                          T0) == "pushed"
    assert lrs.answers == [409, 204, 409, 204]
    assert lrs.taken == [statements[0]["id"], statements[2]["id"]]
    assert push_state(db, lrs)["cursor"] == "3"


def test_a_refusal_keeps_the_cursor_where_it_was(sqlite_db, lrs):
    db = sqlite_db("gateway")
    wrong = xapi_push.Settings(url=lrs.url, user="lrs", password="wrong", batch=5, timeout=2)
    assert xapi_push.tick(db, wrong, pages_of(some_statements(3)), xapi_push.send,
                          T0) == "failed"
    state = push_state(db, lrs)
    assert (state["cursor"], state["failures"]) == (None, 1)
    assert "401" in state["last_error"] and lrs.taken == []


def test_how_the_push_stands_shows_the_lrs_without_its_password(sqlite_db):
    db = sqlite_db("gateway")
    assert xapi_push.standing(db, None) is None
    settings = xapi_push.Settings(url="https://district:pw@lrs.example.cn/xapi")
    fresh = xapi_push.standing(db, settings)
    assert fresh == {"lrs_url": "https://lrs.example.cn/xapi", "pushed": 0, "failures": 0,
                     "last_error": None, "last_pushed_at": None, "next_attempt_at": None}
    xapi_push.tick(db, settings, pages_of(some_statements(3)), lambda *_: None, T0)
    pushed = xapi_push.standing(db, settings)
    assert (pushed["pushed"], pushed["last_pushed_at"]) == (3, T0.isoformat())


def test_nothing_is_pushed_unless_an_lrs_is_configured(monkeypatch):
    monkeypatch.delenv("XAPI_LRS_URL", raising=False)
    assert xapi_push.settings() is None
    monkeypatch.setenv("XAPI_LRS_URL", "https://lrs.example.cn/xapi/")
    monkeypatch.setenv("XAPI_LRS_USER", "district")
    monkeypatch.setenv("XAPI_LRS_PASSWORD", "pw")
    assert xapi_push.settings() == xapi_push.Settings(
        url="https://lrs.example.cn/xapi", user="district", password="pw")


def test_backoff_doubles_up_to_five_minutes():
    assert [xapi_push.backoff(n).total_seconds() for n in (1, 2, 3, 9, 10, 30)] == [
        1, 2, 4, 256, 300, 300]
