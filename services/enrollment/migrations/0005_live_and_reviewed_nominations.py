"""enrolments: how a person came in (origin), and nominations waiting for review"""

revision = "enrollment_0005"
down_revision = "enrollment_0004"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
