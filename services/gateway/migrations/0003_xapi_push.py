"""xAPI push: how far statements reached each LRS (a cursor into reporting's statements)"""

import sqlalchemy as sa
from alembic import op

revision = "gateway_0003"
down_revision = "gateway_0002"
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "xapi_push",
        # One row per LRS: pointing XAPI_LRS_URL at another LRS starts it from the beginning.
        sa.Column("lrs_url", sa.String(500), primary_key=True),
        sa.Column("cursor", sa.String(20)),
        sa.Column("pushed", sa.BigInteger, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", MOMENT),
        sa.Column("last_error", sa.Text),
        sa.Column("last_pushed_at", MOMENT),
        sa.Column("updated_at", MOMENT, nullable=False),
    )


def downgrade():
    op.drop_table("xapi_push")
