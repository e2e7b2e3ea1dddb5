"""the attendance chain head: per attendance entry as its event carries it, and on a filed record

A filed training record keeps the head of its class's attendance chain it summarised, so that a
later change to attendance shows against it. Rows already in rp_attendance came from events that
carry no head (nor would a replay give them one): their classes have none until their next
attendance. Filings already made keep none, and are never marked.
"""

import sqlalchemy as sa
from alembic import op

revision = "reporting_0006"
down_revision = "reporting_0005"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("rp_attendance", sa.Column("chain_head", sa.String(64)))
    op.add_column("rp_attendance", sa.Column("chain_sequence", sa.BigInteger))
    # Plain ADD COLUMNs (no table copy): the triggers that keep filings final stay in place.
    op.add_column("filing", sa.Column("attendance_chain_sequence", sa.BigInteger))
    op.add_column("filing", sa.Column("attendance_chain_head", sa.String(64)))


def downgrade():
    # Dropping a column rewrites no row on PostgreSQL; SQLite (≥ 3.35) drops it in place too.
    op.drop_column("filing", "attendance_chain_head")
    op.drop_column("filing", "attendance_chain_sequence")
    op.drop_column("rp_attendance", "chain_sequence")
    op.drop_column("rp_attendance", "chain_head")
