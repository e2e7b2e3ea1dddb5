"""the attachments a filing carries (a scanned signed 签到表, photos), final like the filing

Like `filing` and `filing_review`, the database refuses to update or delete them (PostgreSQL
reuses reporting_0002's trigger function).
"""

import sqlalchemy as sa
from alembic import op

revision = "reporting_0005"
down_revision = "reporting_0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "filing_attachment",
        sa.Column("attachment_id", sa.String(36), primary_key=True),
        sa.Column("filing_id", sa.String(36), sa.ForeignKey("filing.filing_id"),
                  nullable=False, index=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("file_name", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE TRIGGER filing_attachment_is_final BEFORE UPDATE OR DELETE ON "
                   "filing_attachment FOR EACH ROW EXECUTE FUNCTION reporting_filed_is_final()")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER filing_attachment_no_{action.lower()} BEFORE {action} "
                       "ON filing_attachment BEGIN SELECT RAISE(ABORT, 'a filed version never "
                       f"changes (filing_attachment: {action})'); END")


def downgrade():
    op.drop_table("filing_attachment")
