"""classes: open online (online_open), nominations reviewed (review_nominations), and the
sequence that rises with every change of a published class"""

import sqlalchemy as sa
from alembic import op

revision = "scheduling_0003"
down_revision = "scheduling_0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("classes") as batch:
        batch.add_column(sa.Column("online_open", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("review_nominations", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("sequence", sa.Integer, nullable=False,
                                   server_default="0"))
    # What a class created before this revision would have been given: a live or hybrid
    # secretaries' class is open online.
    op.execute(
        "UPDATE classes SET online_open = true WHERE delivery IN ('live', 'hybrid') AND "
        "program_id IN (SELECT id FROM programs WHERE track = 'secretaries')")


def downgrade():
    with op.batch_alter_table("classes") as batch:
        batch.drop_column("sequence")
        batch.drop_column("review_nominations")
        batch.drop_column("online_open")
