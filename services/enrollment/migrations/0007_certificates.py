"""结业证书: the verification code of each enrolment's certificate, one per enrolment."""

import sqlalchemy as sa
from alembic import op

revision = "enrollment_0007"
down_revision = "enrollment_0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "certificates",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("enrollment_id", sa.String(36), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("enrollment_id", name="uq_certificates_enrollment"),
    )


def downgrade():
    op.drop_table("certificates")
