"""a tamper-evident attendance log: who made each entry, and a hash chain per class

Every entry gets `recorded_by` and `device` (empty for the entries made before: nobody kept
them), its place in its class's chain (`chain_seq`) and its sha256 chained to the entry before
it (`prev_hash`, `entry_hash`; attendance.entry_hash). The entries already there are chained
here, class by class in the order they were written (their position). Then the database refuses
UPDATE and DELETE on the log, as reporting's filings do.
"""

import sqlalchemy as sa
from alembic import op

from services.enrollment.attendance import GENESIS, entry_hash
from services.enrollment.models import Instant

revision = "enrollment_0008"
down_revision = "enrollment_0007"
branch_labels = None
depends_on = None

PG_FORBID = """
CREATE FUNCTION enrollment_attendance_is_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the attendance log is append-only (%: %)', TG_TABLE_NAME, TG_OP;
END $$ LANGUAGE plpgsql
"""
PG_TRIGGER = ("CREATE TRIGGER attendance_is_append_only BEFORE UPDATE OR DELETE ON attendance "
              "FOR EACH ROW EXECUTE FUNCTION enrollment_attendance_is_append_only()")
BATCH = 5000

# The log as this revision knows it (the models may move on).
log = sa.table(
    "attendance", sa.column("position", sa.BigInteger), sa.column("enrollment_id", sa.String),
    sa.column("session_id", sa.String), sa.column("class_id", sa.String),
    sa.column("member_no", sa.String), sa.column("status", sa.String),
    sa.column("hours_earned", sa.Float), sa.column("source", sa.String),
    sa.column("correction", sa.Boolean), sa.column("checked_in_at", Instant()),
    sa.column("reason", sa.Text), sa.column("recorded_at", Instant()),
    sa.column("recorded_by", sa.String), sa.column("device", sa.String),
    sa.column("chain_seq", sa.BigInteger), sa.column("prev_hash", sa.String),
    sa.column("entry_hash", sa.String))


def _chain_existing(connection) -> None:
    rows = connection.execute(sa.select(log).order_by(log.c.class_id, log.c.position)).all()
    heads: dict[str, tuple[int, str]] = {}
    updates = []
    for row in rows:
        seq, prev = heads.get(row.class_id, (0, GENESIS))
        entry = {**row._mapping, "chain_seq": seq + 1}
        digest = entry_hash(entry, prev)
        heads[row.class_id] = (seq + 1, digest)
        updates.append({"at": row.position, "seq": seq + 1, "prev": prev, "digest": digest})
    statement = (log.update().where(log.c.position == sa.bindparam("at"))
                 .values(chain_seq=sa.bindparam("seq"), prev_hash=sa.bindparam("prev"),
                         entry_hash=sa.bindparam("digest")))
    for start in range(0, len(updates), BATCH):
        connection.execute(statement, updates[start:start + BATCH])


def upgrade():
    connection = op.get_bind()
    with op.batch_alter_table("attendance") as batch:
        batch.add_column(sa.Column("recorded_by", sa.String(100)))
        batch.add_column(sa.Column("device", sa.String(200)))
        batch.add_column(sa.Column("chain_seq", sa.BigInteger().with_variant(sa.Integer(),
                                                                             "sqlite")))
        batch.add_column(sa.Column("prev_hash", sa.String(64)))
        batch.add_column(sa.Column("entry_hash", sa.String(64)))
    _chain_existing(connection)
    with op.batch_alter_table("attendance") as batch:
        for name in ("chain_seq", "prev_hash", "entry_hash"):
            batch.alter_column(name, nullable=False)
        batch.create_unique_constraint("uq_attendance_chain", ["class_id", "chain_seq"])
    if connection.dialect.name == "postgresql":
        op.execute(PG_FORBID)
        op.execute(PG_TRIGGER)
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER attendance_no_{action.lower()} BEFORE {action} ON "
                       f"attendance BEGIN SELECT RAISE(ABORT, 'the attendance log is "
                       f"append-only (attendance: {action})'); END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER attendance_is_append_only ON attendance")
        op.execute("DROP FUNCTION enrollment_attendance_is_append_only()")
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER attendance_no_{action}")
    with op.batch_alter_table("attendance") as batch:
        batch.drop_constraint("uq_attendance_chain", type_="unique")
        for name in ("entry_hash", "prev_hash", "chain_seq", "device", "recorded_by"):
            batch.drop_column(name)
