"""The kit's SQL on both databases it speaks: set-based inserts (services/kit/sql.py), the inbox's
check for events seen before, and the outbox's rows. `KitSqlCase` holds the assertions; each
subclass gives an empty database of reporting at its newest migration (pyeventsourcing's
pattern: one abstract case, a subclass per backend). PostgreSQL runs its own statements here
(a JSON record set per page, a lookup per id), so both must give the same answers."""

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import eventlet
import pytest
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    select,
    text,
)
from sqlalchemy.orm import Session

from services.contracts import parse_event
from services.kit import migrate
from services.kit import outbox as kit_outbox
from services.kit import sql as kit_sql
from services.kit.database import make_engine, take_turns
from services.kit.events import SEEN_ON_POSTGRESQL, seen_ids
from services.kit.models import inbox, outbox
from services.kit.outbox import OutboxWriter, next_rows, page_rows
from services.kit.sql import aware, insert_returning, insert_rows, pairs_in, upsert
from tests.support.databases import blocked_by, sqlite_engine, truncate_all
from tests.support.outbox_events import FILING, filing_bodies
from tests.support.waiting import wait_until

# A table of the test's own: a serial key, a unique key, and a value of each kind the JSON
# record set must carry across (text, date, time with zone, float).
PROBE = Table("kit_sql_probe", MetaData(),
              Column("position", Integer, primary_key=True, autoincrement=True),
              Column("key", String(40), nullable=False, unique=True),
              Column("label", String(40)),
              Column("on_day", Date),
              Column("seen_at", DateTime(timezone=True)),
              Column("hours", Float))

T0 = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)


def probe_row(n, **changes):
    return {"key": f"k{n}", "label": f"第{n}行", "on_day": date(2026, 4, 1 + n),
            "seen_at": T0 + timedelta(hours=n), "hours": 1.5 * n, **changes}


def stored(db) -> list[dict]:
    """The probe's rows as written (without the serial), in the order they were inserted."""
    return [{"key": r.key, "label": r.label, "on_day": r.on_day, "seen_at": aware(r.seen_at),
             "hours": r.hours}
            for r in db.execute(select(PROBE).order_by(PROBE.c.position))]


class KitSqlCase:
    """The assertions, for any backend; a subclass gives the `engine` fixture."""

    @pytest.fixture
    def db(self, engine):
        PROBE.create(engine, checkfirst=True)
        try:
            with Session(engine) as db:
                yield db
        finally:
            PROBE.drop(engine)

    # -- set-based inserts -----------------------------------------------------------------------

    def test_rows_are_inserted_page_by_page_and_read_back_as_written(self, db, monkeypatch):
        monkeypatch.setattr(kit_sql, "PAGE", 2)
        rows = [probe_row(n) for n in range(5)]
        insert_rows(db, PROBE, rows)
        assert stored(db) == rows

    def test_a_row_whose_key_exists_updates_every_other_column(self, db):
        insert_rows(db, PROBE, [probe_row(0), probe_row(1)])
        upsert(db, PROBE, [probe_row(1, label="改过", hours=9.0), probe_row(2)], key=["key"])
        assert [(r["key"], r["label"], r["hours"]) for r in stored(db)] == [
            ("k0", "第0行", 0.0), ("k1", "改过", 9.0), ("k2", "第2行", 3.0)]

    def test_a_row_whose_key_exists_is_skipped_when_not_updating(self, db):
        insert_rows(db, PROBE, [probe_row(0)])
        insert_rows(db, PROBE, [probe_row(0, label="不该写入"), probe_row(1)], key=["key"],
                    update=False)
        assert [(r["key"], r["label"]) for r in stored(db)] == [("k0", "第0行"), ("k1", "第1行")]

    def test_an_older_write_never_overwrites_a_newer_one(self, db):
        insert_rows(db, PROBE, [probe_row(0), probe_row(1)])
        insert_rows(db, PROBE, [
            probe_row(0, label="旧的", seen_at=T0 - timedelta(minutes=1)),
            probe_row(1, label="新的", seen_at=T0 + timedelta(days=1))],
            key=["key"], unless_newer="seen_at")
        assert [r["label"] for r in stored(db)] == ["第0行", "新的"]

    def test_insert_returning_answers_each_rows_serial_and_columns_in_the_rows_order(
            self, db, monkeypatch):
        monkeypatch.setattr(kit_sql, "PAGE", 2)
        insert_rows(db, PROBE, [probe_row(0)])   # the serials of the rest start after it
        rows = [probe_row(n) for n in (5, 3, 4, 1, 2)]
        answered = insert_returning(db, PROBE, rows, "position", ("key",))
        assert [key for _, key in answered] == ["k5", "k3", "k4", "k1", "k2"]
        serials = [serial for serial, _ in answered]
        assert serials == sorted(serials) and len(set(serials)) == 5 and serials[0] > 1
        assert insert_returning(db, PROBE, [], "position") == []

    def test_pairs_in_finds_the_rows_of_the_pairs_asked_for(self, db):
        insert_rows(db, PROBE, [probe_row(n, label=label) for n, label in
                                enumerate(["甲", "乙", "甲", "丙"])])
        asked = {("k0", "甲"), ("k1", "乙"), ("k3", "甲")}
        found = {(r.key, r.label) for r in db.execute(select(PROBE).where(
            pairs_in(PROBE.c.key, PROBE.c.label, asked)))}
        assert {("k0", "甲"), ("k1", "乙")} <= found <= {("k0", "甲"), ("k1", "乙"), ("k2", "甲"),
                                                      ("k3", "丙")}

    # -- the inbox ---------------------------------------------------------------------------------

    def test_the_inbox_check_finds_exactly_the_consumers_own_seen_ids(self, db):
        mine, other, ids = self.two_consumers_inboxes(db)
        asked = ids[1500:2500]   # half seen by this consumer; all of them by the other
        assert seen_ids(db.connection(), mine, asked) == set(ids[1500:2000])
        assert seen_ids(db.connection(), mine, []) == set()
        assert seen_ids(db.connection(), other, ids[:1000]) == set()

    @staticmethod
    def two_consumers_inboxes(db):
        mine, other = f"evt-probe-{uuid.uuid4().hex[:8]}", f"evt-other-{uuid.uuid4().hex[:8]}"
        ids = [str(uuid.uuid4()) for _ in range(3000)]
        row = {"source": "scheduling", "type": "session_completed", "payload": {},
               "received_at": datetime.now(UTC)}
        db.execute(insert(inbox), [
            {**row, "consumer": mine, "event_id": event_id} for event_id in ids[:2000]])
        db.execute(insert(inbox), [
            {**row, "consumer": other, "event_id": event_id} for event_id in ids[1000:]])
        db.commit()
        return mine, other, ids

    # -- the outbox --------------------------------------------------------------------------------

    def test_the_outbox_row_is_the_contract_checked_event_in_the_callers_transaction(self, db):
        writer = OutboxWriter(db, "reporting")
        event = writer.add("filing_acknowledged", FILING)
        db.rollback()   # not committed: nothing to publish
        assert db.execute(select(outbox)).all() == []

        event = writer.add("filing_acknowledged", event.data)
        db.commit()
        [row] = db.execute(select(outbox)).all()
        assert (row.exchange, row.routing_key, row.sent_at) == ("reporting.events",
                                                                "filing_acknowledged", None)
        assert parse_event(row.body).id == event.id

    def test_the_relay_takes_whole_rows_in_order_until_a_batch_and_health_counts_events(
            self, db, monkeypatch):
        monkeypatch.setattr(kit_outbox, "BATCH", 5)
        now = datetime.now(UTC)
        single = filing_bodies(1)[0]
        db.execute(insert(outbox), [
            {"event_id": json.loads(single)["id"], "exchange": "reporting.events",
             "routing_key": "filing_acknowledged", "body": single, "events": None,
             "created_at": now},
            *page_rows("reporting.events", "filing_acknowledged", filing_bodies(3), now),
            *page_rows("reporting.events", "filing_acknowledged", filing_bodies(4), now),
            *page_rows("reporting.events", "filing_acknowledged", filing_bodies(2), now)])
        assert db.execute(kit_outbox.pending_events()).scalar_one() == 10
        # 1 + 3 before the third row: fewer than five, so it comes too; the fourth waits.
        assert [r.events for r in db.execute(next_rows())] == [None, 3, 4]
        db.execute(text("UPDATE outbox SET sent_at = created_at WHERE position <= 3"))
        assert [r.events for r in db.execute(next_rows())] == [2]
        assert db.execute(kit_outbox.pending_events()).scalar_one() == 2


class TestOnSQLite(KitSqlCase):
    @pytest.fixture
    def engine(self, tmp_path):
        engine = sqlite_engine(tmp_path / "reporting.db", "reporting")
        yield engine
        engine.dispose()


@pytest.mark.postgres
class TestOnPostgreSQL(KitSqlCase):
    @pytest.fixture
    def engine(self, database_urls):
        url = database_urls["reporting"]
        engine = make_engine(url)
        migrate.upgrade(engine, "reporting")
        truncate_all(url)
        yield engine
        engine.dispose()

    def test_the_inbox_check_looks_each_id_up_by_the_inboxs_unique_key(self, db):
        """As one `IN` list, the lookup read every row of the consumer through reporting's
        (consumer, position) index. Planned on the statistics a live inbox has (autovacuum
        analyses it as it grows): stale ones left behind by earlier tests would make either
        index look as cheap, and the plan a coin toss."""
        mine, _, ids = self.two_consumers_inboxes(db)
        db.connection().exec_driver_sql("ANALYZE inbox")
        plan = "\n".join(db.connection().exec_driver_sql(
            "EXPLAIN " + SEEN_ON_POSTGRESQL, (ids[1500:2500], mine)).scalars())
        assert "uq_inbox_consumer_event" in plan
        assert "ix_inbox_consumer_position" not in plan

    def test_writers_of_the_same_key_take_turns_and_the_others_go_on(self, engine):
        with Session(engine) as first, Session(engine) as second, Session(engine) as third:
            take_turns(first, ["peixun.test.a", "peixun.test.b"])
            holder = first.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
            take_turns(third, ["peixun.test.c"])   # another key: not held up
            waiting = eventlet.spawn(take_turns, second, ["peixun.test.b"])
            wait_until(lambda: blocked_by(engine, holder),
                       message="the second writer to wait for the first")
            first.commit()
            waiting.wait()
