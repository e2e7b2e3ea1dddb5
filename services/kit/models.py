"""The kit's own tables, present in every service's database: the outbox and the inbox."""

from sqlalchemy import (
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
)

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
)

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
