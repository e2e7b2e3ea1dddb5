"""Reporting's revision for issue 13 on a database that already holds read models and a filing
(SQLite and PostgreSQL): the class's ordering key gains its sequence, so a change told after the
upgrade wins over the row written before it, and the plan filed before it shows as changed."""

import hashlib
from datetime import UTC, date, datetime

import psycopg2
import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from services.kit import migrate
from services.kit.database import make_engine
from services.reporting import models, projections
from services.reporting.reports import filing_status
from tests.support.databases import BACKENDS, DB_PREFIX, PG_URL
from tests.support.districts import District, uid


@pytest.fixture
def empty_database(request, tmp_path):
    """An empty database of the backend asked for (PostgreSQL: one of this test's own)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'reporting.db'}")
        yield engine
        engine.dispose()
        return
    name = f"{DB_PREFIX}reporting_upgrade"
    admin = psycopg2.connect(f"{PG_URL}/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(f"{PG_URL}/{name}")
    yield engine
    engine.dispose()
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def k4(w: District, event_type: str, at: datetime, **extra):
    return w.klass(event_type, "K4", "PS", 2026, "secretaries", "FX", "2026-11-01",
                   "2026-11-02", {"sector": None, "module": "basic_theory"}, at=at, **extra)


@pytest.mark.parametrize("empty_database", BACKENDS, indirect=True)
def test_an_existing_database_upgrades_and_a_later_change_of_its_class_wins(empty_database):
    engine = empty_database
    with engine.begin() as connection:
        command.upgrade(migrate.alembic_config("reporting", connection), "reporting_0003")
    w = District()
    w.org("FX", "奉贤区委", None, "district")
    published = k4(w, "class_published", datetime(2026, 9, 1, 3, tzinfo=UTC))
    row = projections._class(published.payload)
    old = {k: v for k, v in row.items() if k not in ("online_open", "review_nominations",
                                                     "sequence")}
    old["vkey"] = projections.event_key(published.payload, 0)   # reporting_0003's key
    content = b'{"report": "class-plan"}'
    with engine.begin() as connection:
        connection.execute(text(f"INSERT INTO rp_class ({', '.join(old)}) VALUES "
                                f"({', '.join(':' + k for k in old)})"), old)
        connection.execute(text(
            "INSERT INTO filing (filing_id, class_id, kind, version, year, org_code, "
            "parent_code, report, file_name, sha256, content, deadline, filed_at, filed_by) "
            "VALUES ('f1', :class_id, 'plan', 1, 2026, 'FX', NULL, 'class-plan', 'p.json', "
            ":sha, :content, :deadline, :filed_at, 'district_admin')"),
            {"class_id": uid("K4"), "sha": hashlib.sha256(content).hexdigest(),
             "content": content, "deadline": date(2026, 10, 31),
             "filed_at": datetime(2026, 9, 1, 4, tzinfo=UTC)})

    migrate.upgrade(engine, "reporting")
    # A change stamped before the published event (a replica's clock behind) still wins: its
    # sequence is higher.
    changed = k4(w, "class_changed", datetime(2026, 9, 1, 2, tzinfo=UTC), sequence=1,
                 title="K4班（调整）", changed=["title"])
    with Session(engine) as session, session.begin():
        projections.apply(session, [w.events[0], changed.payload])
    with Session(engine) as session:
        title, sequence = session.execute(select(models.rp_class.c.title,
                                                 models.rp_class.c.sequence)).one()
        assert (title, sequence) == ("K4班（调整）", 1)
        status = filing_status.build(session, {"year": 2026, "as_of": date(2026, 9, 2)})
    plan = next(i for i in status["items"] if i["kind"] == "plan")
    assert plan["state"] == "changed"
