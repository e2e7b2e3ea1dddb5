"""the outbox and the inbox"""

from alembic import op

from services.kit.migrate import create_kit_tables

revision = "enrollment_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    create_kit_tables(op)


def downgrade():
    for table in ("inbox", "outbox"):
        op.drop_table(table)
