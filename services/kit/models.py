"""The kit's own tables, present in every service's database: the outbox and the inbox."""

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy import event as sa_event

metadata = MetaData()

# SQLite only autoincrements an INTEGER PRIMARY KEY.
Position = BigInteger().with_variant(Integer(), "sqlite")

outbox = Table(
    "outbox", metadata,
    Column("position", Position, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("exchange", String(100), nullable=False),
    Column("routing_key", String(100), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True, index=True),
    # NULL: the row is one event, `body` its envelope. N: the row carries N events of one
    # type (a bulk write's page of them), `body` their envelopes one per line, in order, and
    # `event_id` the first one's id; the relay publishes each as its own message.
    Column("events", Integer, nullable=True),
)

# A page of events is a few hundred kilobytes: lz4 packs it several times faster than
# PostgreSQL's default compression, which took longer than writing the rows. A server without
# lz4 (or older than PostgreSQL 14) keeps its default.
BODY_COMPRESSION = """
DO $$ BEGIN
  EXECUTE 'ALTER TABLE outbox ALTER COLUMN body SET COMPRESSION lz4';
EXCEPTION WHEN OTHERS THEN NULL;
END $$"""
sa_event.listen(outbox, "after_create", DDL(BODY_COMPRESSION).execute_if(dialect="postgresql"))

# One row per event a consumer handled, written in the handler's own transaction. With the
# payload kept it is also the service's append-only log of what it was told.
inbox = Table(
    "inbox", metadata,
    Column("position", Position, primary_key=True, autoincrement=True),
    Column("consumer", String(200), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("source", String(100), nullable=False),
    Column("type", String(100), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("consumer", "event_id", name="uq_inbox_consumer_event"),
)


def outbox_waiting():
    """What waits in the outbox to be published: (events, when the oldest was written). A page
    row (a bulk write's) counts its events. Health, `peixun status` and the metrics read it."""
    return select(func.coalesce(func.sum(func.coalesce(outbox.c.events, 1)), 0),
                  func.min(outbox.c.created_at)).where(outbox.c.sent_at.is_(None))
