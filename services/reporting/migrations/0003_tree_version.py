"""rp_state.tree_version: a new value with every batch of organisation changes, so that report
builds reuse the organisation tree until it moves"""

import sqlalchemy as sa
from alembic import op

revision = "reporting_0003"
down_revision = "reporting_0002"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("rp_state", sa.Column("tree_version", sa.BigInteger, nullable=False,
                                        server_default="0"))


def downgrade():
    op.drop_column("rp_state", "tree_version")
