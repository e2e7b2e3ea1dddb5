"""the outbox carries pages of events: `events` (how many a row holds), bodies packed by lz4

The kit's revisions are a branch of their own beside each service's (a base, no parent): a
service's first revision creates the kit's tables as kit/models.py has them now, so here only
a table made before this revision changes, and a database without an outbox (the gateway's)
is left alone.
"""

import sqlalchemy as sa
from alembic import op

from services.kit.models import BODY_COMPRESSION

revision = "kit_0001"
down_revision = None
branch_labels = ("kit",)
depends_on = None


def _outbox_columns() -> set[str] | None:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table("outbox"):
        return None
    return {column["name"] for column in inspector.get_columns("outbox")}


def upgrade():
    columns = _outbox_columns()
    if columns is None or "events" in columns:
        return
    op.add_column("outbox", sa.Column("events", sa.Integer, nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(BODY_COMPRESSION)


def downgrade():
    columns = _outbox_columns()
    if columns is not None and "events" in columns:
        op.drop_column("outbox", "events")
