"""enrolments: how a person came in (origin), and nominations waiting for review; classes: open
online, reviewed, and the sequence of the newest change seen"""

import sqlalchemy as sa
from alembic import op

revision = "enrollment_0005"
down_revision = "enrollment_0004"
branch_labels = None
depends_on = None


def upgrade():
    # Rows already there were nominated, and their classes neither open nor reviewed.
    with op.batch_alter_table("enrollments") as batch:
        batch.add_column(sa.Column("origin", sa.String(20), nullable=False,
                                   server_default="nomination"))
        batch.add_column(sa.Column("reviewed_by", sa.String(100), nullable=True))
    with op.batch_alter_table("classes") as batch:
        batch.add_column(sa.Column("online_open", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("review_nominations", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("sequence", sa.Integer(), nullable=False,
                                   server_default="0"))
    # As scheduling opens them (DESIGN §1): a live or hybrid secretaries' class reaches every
    # secretary its audience admits.
    op.execute(sa.text("UPDATE classes SET online_open = :yes WHERE track = 'secretaries' "
                       "AND delivery IN ('live', 'hybrid')").bindparams(yes=True))


def downgrade():
    with op.batch_alter_table("classes") as batch:
        batch.drop_column("sequence")
        batch.drop_column("review_nominations")
        batch.drop_column("online_open")
    with op.batch_alter_table("enrollments") as batch:
        batch.drop_column("reviewed_by")
        batch.drop_column("origin")
