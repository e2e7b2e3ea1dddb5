"""enrollment_0005 on a database made before it, on SQLite and PostgreSQL: every enrolment so
far was a nomination, and a live or hybrid secretaries' class is open online as scheduling
opens it."""

import pytest
from alembic import command
from sqlalchemy import text

from services.kit import migrate
from tests.support.databases import BACKENDS, fresh_engine

CLASSES = [("00000000-0000-4000-8000-000000000001", "secretaries", "hybrid"),
           ("00000000-0000-4000-8000-000000000002", "secretaries", "live"),
           ("00000000-0000-4000-8000-000000000003", "secretaries", "offline"),
           ("00000000-0000-4000-8000-000000000004", "members", "live")]


@pytest.mark.parametrize("backend", BACKENDS)
def test_rows_made_before_the_revision_read_as_new_ones_would(backend, tmp_path, request):
    with fresh_engine(backend, "enrollment", tmp_path, request) as engine:
        with engine.begin() as connection:
            command.downgrade(migrate.alembic_config("enrollment", connection),
                              "enrollment_0004")
            for class_id, track, delivery in CLASSES:
                connection.execute(text(
                    "INSERT INTO classes (class_id, program_id, year, track, organiser_org_code,"
                    " title, offline_capacity, delivery, start_date, end_date, status, "
                    "next_queue_no) VALUES (:id, :id, 2026, :track, 'FX', '班', 10, :delivery, "
                    "'2026-04-01', '2026-04-01', 'published', 2)"),
                    {"id": class_id, "track": track, "delivery": delivery})
            connection.execute(text(
                "INSERT INTO enrollments (enrollment_id, class_id, member_no, org_code, mode, "
                "status, queue_no, created_at, updated_at) VALUES ("
                "'00000000-0000-4000-8000-0000000000e1', :class_id, 'E1', 'FX0102', "
                "'offline', 'confirmed', 1, '2026-03-01 00:00:00', '2026-03-01 00:00:00')"),
                {"class_id": CLASSES[0][0]})
        migrate.upgrade(engine, "enrollment")
        with engine.connect() as connection:
            classes = connection.execute(text(
                "SELECT online_open, review_nominations, sequence FROM classes "
                "ORDER BY class_id")).all()
            origins = connection.execute(text(
                "SELECT origin, reviewed_by FROM enrollments")).all()
    assert [(bool(o), bool(r), s) for o, r, s in classes] == [
        (True, False, 0), (True, False, 0), (False, False, 0), (False, False, 0)]
    assert [tuple(row) for row in origins] == [("nomination", None)]
