"""scheduling_0003 on a database made before it, on SQLite and PostgreSQL: every class gains
its columns, a live or hybrid secretaries' class is open online as a new one would be."""

import pytest
from alembic import command
from sqlalchemy import text

from services.kit import migrate
from tests.support.databases import BACKENDS, fresh_engine

PROGRAMS = [("00000000-0000-4000-8000-00000000000a", "secretaries"),
            ("00000000-0000-4000-8000-00000000000b", "members")]
CLASSES = [("00000000-0000-4000-8000-000000000001", 0, "hybrid"),
           ("00000000-0000-4000-8000-000000000002", 0, "live"),
           ("00000000-0000-4000-8000-000000000003", 0, "offline"),
           ("00000000-0000-4000-8000-000000000004", 1, "hybrid")]


@pytest.mark.parametrize("backend", BACKENDS)
def test_classes_made_before_the_revision_are_open_as_new_ones_would_be(backend, tmp_path,
                                                                       request):
    with fresh_engine(backend, "scheduling", tmp_path, request) as engine:
        with engine.begin() as connection:
            command.downgrade(migrate.alembic_config("scheduling", connection),
                              "scheduling_0002")
            for program_id, track in PROGRAMS:
                connection.execute(text(
                    "INSERT INTO programs (id, year, track, organiser_org_code, name, "
                    "target_person_times) VALUES (:id, 2026, :track, 'FX', 'p', 1)"),
                    {"id": program_id, "track": track})
            for class_id, program, delivery in CLASSES:
                connection.execute(text(
                    "INSERT INTO classes (id, program_id, title, offline_capacity, delivery, "
                    "start_date, end_date, status) VALUES (:id, :program, '班', 10, "
                    ":delivery, '2026-04-01', '2026-04-01', 'published')"),
                    {"id": class_id, "program": PROGRAMS[program][0], "delivery": delivery})
        migrate.upgrade(engine, "scheduling")
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT id, online_open, review_nominations, sequence FROM classes ORDER BY id"
            )).all()
    assert [(bool(o), bool(r), s) for _, o, r, s in rows] == [
        (True, False, 0), (True, False, 0), (False, False, 0), (False, False, 0)]
