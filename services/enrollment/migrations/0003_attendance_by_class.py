"""attendance_current by class: deciding a class's completion reads its attended hours"""

from alembic import op

revision = "enrollment_0003"
down_revision = "enrollment_0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_attendance_current_class", "attendance_current", ["class_id", "status"])


def downgrade():
    op.drop_index("ix_attendance_current_class", "attendance_current")
