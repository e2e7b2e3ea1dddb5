"""the catalogue (instructors, courses, venues, sites); sessions reference it; lifecycle columns;
one program per year, track and organiser"""

import sqlalchemy as sa
from alembic import op

revision = "scheduling_0002"
down_revision = "scheduling_0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "instructors",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("affiliation", sa.String(200)),
        sa.Column("kind", sa.String(30), nullable=False),
    )
    op.create_table(
        "courses",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False, unique=True),
        sa.Column("themes", sa.JSON, nullable=False),
        sa.Column("core_theory", sa.Boolean, nullable=False),
        sa.Column("default_kind", sa.String(10), nullable=False),
        sa.Column("default_hours", sa.Float, nullable=False),
        sa.Column("default_instructor_id", sa.String(36), sa.ForeignKey("instructors.id")),
        sa.Column("sectors", sa.JSON, nullable=False),
    )
    op.create_table(
        "venues",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("seats", sa.Integer, nullable=False),
        sa.Column("address", sa.String(200)),
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("audiences", sa.JSON, nullable=False),
        sa.Column("group_capacity", sa.Integer, nullable=False),
        sa.Column("address", sa.String(200)),
    )

    op.add_column("classes", sa.Column("published_at", sa.DateTime(timezone=True)))
    op.add_column("classes", sa.Column("cancel_reason", sa.String(500)))
    op.create_index("ix_classes_status", "classes", ["status"])
    op.create_index("ix_classes_start_date", "classes", ["start_date"])

    for column in ("course_id", "venue_id", "site_id", "instructor_id"):
        op.add_column("sessions", sa.Column(column, sa.String(36)))
    op.add_column("sessions", sa.Column("cancel_reason", sa.String(500)))
    op.add_column("sessions", sa.Column("updated_at", sa.DateTime(timezone=True)))
    # Conflict checks look up a resource's sessions around a time.
    op.create_index("ix_sessions_venue_time", "sessions", ["venue_id", "starts_at"])
    op.create_index("ix_sessions_site_time", "sessions", ["site_id", "starts_at"])
    op.create_index("ix_sessions_instructor_time", "sessions", ["instructor_id", "starts_at"])

    op.create_index("uq_programs_year_track_organiser", "programs",
                    ["year", "track", "organiser_org_code"], unique=True)


def downgrade():
    op.drop_index("uq_programs_year_track_organiser", "programs")
    for index in ("ix_sessions_venue_time", "ix_sessions_site_time",
                  "ix_sessions_instructor_time"):
        op.drop_index(index, "sessions")
    with op.batch_alter_table("sessions") as batch:
        for column in ("course_id", "venue_id", "site_id", "instructor_id", "cancel_reason",
                       "updated_at"):
            batch.drop_column(column)
    op.drop_index("ix_classes_status", "classes")
    op.drop_index("ix_classes_start_date", "classes")
    with op.batch_alter_table("classes") as batch:
        batch.drop_column("published_at")
        batch.drop_column("cancel_reason")
    for table in ("sites", "venues", "courses", "instructors"):
        op.drop_table(table)
