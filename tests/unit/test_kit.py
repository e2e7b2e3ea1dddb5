"""The kit's pieces without a broker: retry policy, failure reasons, logging, the outbox's pages,
database URLs, the kit's migration, input validation. Its SQL, on SQLite and PostgreSQL, is in
test_kit_sql.py."""

import json
import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from services.contracts import new_event
from services.kit import events, migrate
from services.kit import logging as kit_logging
from services.kit import outbox as kit_outbox
from services.kit.database import make_engine
from services.kit.errors import DomainError, RetryLater
from services.kit.outbox import bodies_of, outgoing, page_rows
from tests.support.outbox_events import FILING, filing_bodies


def test_retry_delay_doubles_from_half_a_second_and_is_capped_at_a_minute():
    assert [events.retry_delay(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert events.retry_delay(30) == 60.0


def test_a_partial_batch_waits_while_messages_stream_in_and_goes_after_a_quiet_spell():
    linger, most = events.LINGER, events.MAX_LINGER
    # A message came just now: wait a whole quiet spell more.
    assert events.linger_left(now=10.05, first=10.0, last=10.05) == pytest.approx(linger)
    # Half a quiet spell without one: wait the other half.
    assert events.linger_left(now=10.0 + linger / 2, first=10.0, last=10.0) == \
        pytest.approx(linger / 2)
    # Quiet for a whole spell: go.
    assert events.linger_left(now=10.0 + linger + 1e-9, first=10.0, last=10.0) == 0
    # Messages keep coming, but the first has waited long enough: go.
    assert events.linger_left(now=10.0 + most + 1e-9, first=10.0, last=10.0 + most) == 0
    assert events.linger_left(now=10.0 + most - 0.005, first=10.0, last=10.0 + most - 0.005) \
        == pytest.approx(0.005)


@pytest.mark.parametrize("exc,retryable", [
    (RetryLater("class not seen yet"), True),
    (sa_exc.OperationalError("SELECT 1", {}, Exception("server closed the connection")), True),
    (sa_exc.IntegrityError("INSERT", {}, Exception("duplicate key")), True),
    (ConnectionError("broker away"), True),
    (DomainError("a rule said no"), False),
    (ZeroDivisionError("a bug"), False),
    (KeyError("a bug"), False),
])
def test_only_failures_that_a_retry_can_fix_are_retried(exc, retryable):
    assert events.is_retryable(exc) is retryable


def test_unknown_references_and_lost_races_give_up_after_the_deadline_but_outages_do_not():
    assert events.has_deadline(RetryLater("x"))
    assert events.has_deadline(sa_exc.IntegrityError("INSERT", {}, Exception("dup")))
    assert not events.has_deadline(sa_exc.OperationalError("SELECT", {}, Exception("down")))
    assert events.RETRY_DEADLINE == 600


def test_a_domain_error_reason_says_it_is_the_domain():
    assert events.failure_reason(DomainError("class is cancelled")) == \
        "domain: class is cancelled"
    assert events.failure_reason(ValueError("x")) == "ValueError: x"


def test_log_lines_are_json_with_the_call_id_and_event_id():
    kit_logging._context.call_id = "reporting.on_session_completed.42"
    kit_logging._context.event_id = "e-1"
    try:
        record = logging.getLogRecordFactory()("peixun", logging.INFO, __file__, 1,
                                               "handled %s", ("it",), None)
        line = json.loads(kit_logging.JsonFormatter().format(record))
    finally:
        kit_logging._context.call_id = kit_logging._context.event_id = None
    assert line["message"] == "handled it"
    assert line["call_id"] == "reporting.on_session_completed.42"
    assert line["event_id"] == "e-1"
    assert line["level"] == "info"


def test_a_page_row_comes_out_as_one_message_per_event_with_its_own_id_in_order(monkeypatch):
    monkeypatch.setattr(kit_outbox, "EVENTS_PER_ROW", 4)
    bodies = filing_bodies(10)
    rows = page_rows("reporting.events", "filing_acknowledged", bodies, datetime.now(UTC))
    assert [r["events"] for r in rows] == [4, 4, 2]
    messages = [m for r in rows for m in outgoing(_Row(r))]
    assert [m.body.decode() for m in messages] == bodies
    ids = [json.loads(body)["id"] for body in bodies]
    assert [m.message_id for m in messages] == ids and len(set(ids)) == 10
    assert [r["event_id"] for r in rows] == [ids[0], ids[4], ids[8]]
    assert {(m.exchange, m.routing_key, m.type) for m in messages} == {
        ("reporting.events", "filing_acknowledged", "filing_acknowledged")}


def test_an_envelope_that_does_not_begin_with_its_id_still_gives_it():
    event = new_event("reporting", "filing_acknowledged", FILING)
    body = json.dumps({"type": event.type, **event.payload}, separators=(",", ":"))
    [message] = outgoing(_Row(page_rows("x", "filing_acknowledged", [body], None)[0]))
    assert message.message_id == event.id


def test_a_page_that_does_not_hold_what_it_says_is_refused():
    with pytest.raises(ValueError, match="says 3 events and holds 2"):
        bodies_of("{}\n{}", 3)


class _Row:
    def __init__(self, values):
        self.__dict__.update(values)


def test_the_kit_revision_gives_an_outbox_made_before_it_its_page_counts(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/scheduling.db")
    migrate.upgrade(engine, "scheduling")
    with engine.begin() as connection:   # as a database made before the kit's revision was
        connection.execute(text("ALTER TABLE outbox DROP COLUMN events"))
        connection.execute(text("DELETE FROM alembic_version WHERE version_num = 'kit_0001'"))
    migrate.upgrade(engine, "scheduling")
    with engine.connect() as connection:
        columns = {c[1] for c in connection.execute(text("PRAGMA table_info(outbox)"))}
        versions = set(connection.execute(text("SELECT * FROM alembic_version")).scalars())
    assert "events" in columns
    assert versions == {"scheduling_0003", "kit_0001"}
    engine.dispose()


def test_migrations_apply_twice_without_harm(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/scheduling.db")
    migrate.upgrade(engine, "scheduling")
    migrate.upgrade(engine, "scheduling")
    engine.dispose()


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_plain_postgresql_urls_use_psycopg2(scheme):
    engine = make_engine(f"{scheme}://u@127.0.0.1:5433/db")
    assert engine.dialect.driver == "psycopg2"
    assert (engine.url.username, engine.url.host, engine.url.port, engine.url.database) == (
        "u", "127.0.0.1", 5433, "db")


def test_text_with_a_nul_character_is_refused_naming_the_field():
    from marshmallow import Schema, fields

    from services.kit.errors import InvalidInput
    from services.kit.validation import load

    class Named(Schema):
        name = fields.String()
        tags = fields.List(fields.String())

    with pytest.raises(InvalidInput) as refused:
        load(Named(), {"name": "班\x00次", "tags": ["ok", "\x00"]})
    assert set(refused.value.errors) == {"name", "tags.1"}
    assert load(Named(), {"name": "班次"}) == {"name": "班次"}


def test_the_public_url_falls_back_when_unset_or_empty_and_drops_a_trailing_slash(monkeypatch):
    from services.kit import config

    monkeypatch.setenv("PEIXUN_PUBLIC_URL", "")
    assert config.public_url() == "http://localhost:8000"
    monkeypatch.setenv("PEIXUN_PUBLIC_URL", "https://peixun.example.org/")
    assert config.public_url() == "https://peixun.example.org"
