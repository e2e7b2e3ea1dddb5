"""what issue 13's events bring: a class's sequence and openness, a person's name, how an
enrolment came about, study hours from elsewhere, and the class sequence a filing was built at

rp_class's ordering key takes the class's sequence after its rank (a class_changed with a higher
sequence wins whatever its time): the rows already there are rewritten to sequence 0, which is
what their events carried. The new columns of rows already there stay empty (names, origins)
until `peixun replay` rebuilds them from the inbox.
"""

import sqlalchemy as sa
from alembic import op

revision = "reporting_0004"
down_revision = "reporting_0003"
branch_labels = None
depends_on = None

VKEY = 120


def upgrade():
    with op.batch_alter_table("rp_class") as batch:
        batch.add_column(sa.Column("online_open", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("review_nominations", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("sequence", sa.Integer, nullable=False, server_default="0"))
    # rank|stamp|id becomes rank|sequence|stamp|id (projections.CLASS_KEY).
    op.execute("UPDATE rp_class SET vkey = substr(vkey, 1, 2) || '000000|' || substr(vkey, 3)")
    op.add_column("rp_person", sa.Column("name", sa.String(100)))
    with op.batch_alter_table("rp_enrollment") as batch:
        batch.add_column(sa.Column("origin", sa.String(20), nullable=False,
                                   server_default="nomination"))
    op.create_table(
        "rp_study_hours",
        sa.Column("entry_id", sa.String(36), primary_key=True),
        sa.Column("member_no", sa.String(64), nullable=False, index=True),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("hours_ch", sa.Integer, nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("on_date", sa.Date, nullable=False),
        sa.Column("withdrawn", sa.Boolean, nullable=False),
        sa.Column("vkey", sa.String(VKEY), nullable=False),
    )
    # A plain ADD COLUMN (no table copy): the triggers that keep filings final stay in place.
    op.add_column("filing", sa.Column("class_sequence", sa.Integer))


def downgrade():
    op.drop_column("filing", "class_sequence")
    op.drop_table("rp_study_hours")
    with op.batch_alter_table("rp_enrollment") as batch:
        batch.drop_column("origin")
    op.drop_column("rp_person", "name")
    op.execute("UPDATE rp_class SET vkey = substr(vkey, 1, 2) || substr(vkey, 10)")
    with op.batch_alter_table("rp_class") as batch:
        batch.drop_column("sequence")
        batch.drop_column("review_nominations")
        batch.drop_column("online_open")
