"""members by secretary_of: a partial index over the secretaries only"""

import sqlalchemy as sa
from alembic import op

revision = "enrollment_0004"
down_revision = "enrollment_0003"
branch_labels = None
depends_on = None

SECRETARIES = sa.text("secretary_of IS NOT NULL")


def upgrade():
    op.drop_index("ix_members_secretary_of", "members")
    op.create_index("ix_members_secretary_of", "members", ["secretary_of"],
                    postgresql_where=SECRETARIES, sqlite_where=SECRETARIES)


def downgrade():
    op.drop_index("ix_members_secretary_of", "members")
    op.create_index("ix_members_secretary_of", "members", ["secretary_of"])
