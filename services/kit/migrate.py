"""Alembic migrations per service, applied when the service starts."""

import os
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

from .models import metadata as kit_metadata

KIT_MIGRATIONS = Path(__file__).parent / "migrations"
SERVICES_DIR = Path(__file__).resolve().parents[1]

# Alembic keeps its running context in module globals: one migration per process at a time
# (several containers can share a process, as in tests).
_process_lock = threading.Lock()


def alembic_config(service: str, connection) -> Config:
    """The service's revisions, and the kit's (a branch of their own: they change the kit's
    tables in every service's database)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(KIT_MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(
        [str(SERVICES_DIR / service / "migrations"), str(KIT_MIGRATIONS / "versions")]))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, service: str) -> None:
    """Bring the service's database to the newest revision; replicas take turns."""
    with _process_lock, engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                               {"key": f"peixun.migrate.{service}"})
        command.upgrade(alembic_config(service, connection), "heads")


def create_kit_tables(op) -> None:
    """For a service's first revision: the outbox and the inbox, as kit/models.py defines them."""
    kit_metadata.create_all(op.get_bind())
