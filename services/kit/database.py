"""A SQLAlchemy session per worker, committed by the kit's entrypoints before they answer."""

import logging
from weakref import WeakKeyDictionary

from nameko.extensions import DependencyProvider
from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from . import config, migrate

log = logging.getLogger(__name__)


def make_engine(url: str):
    # SQLAlchemy 2.1 maps plain postgresql:// to psycopg 3, whose binary build blocks
    # eventlet's loop; psycopg2 cooperates with the monkey-patching (STACK.md).
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg2://" + url.split("://", 1)[1]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a commit is not flushed to the disk on its own (checkpoints are),
            # so a crashed process loses nothing and a power cut may lose the last commits.
            # SQLite is the laptop's and the demo's store; deployments use PostgreSQL. A flush
            # per commit was a sixth of enrollment's time in the demo year.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database(DependencyProvider):
    """`self.db` in a service: the worker's session. Migrations run when the container starts.

    `Database(service="reporting")` uses another service's database; only tests need that."""

    def __init__(self, service: str | None = None):
        self.service = service

    def setup(self):
        self.service = self.service or self.container.service_name
        self.url = self.container.config.get(f"{self.service.upper()}_DATABASE_URL") or \
            config.database_url(self.service)
        self.engine = make_engine(self.url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self.sessions: WeakKeyDictionary = WeakKeyDictionary()
        # In setup, not start: every setup ends before any consumer starts taking messages.
        migrate.upgrade(self.engine, self.service)

    def stop(self):
        self.engine.dispose()

    def get_dependency(self, worker_ctx) -> Session:
        session = self.sessions.get(worker_ctx)
        if session is None:
            session = self.sessions[worker_ctx] = self.sessionmaker()
        return session

    def session_for(self, worker_ctx) -> Session:
        return self.get_dependency(worker_ctx)

    def worker_teardown(self, worker_ctx):
        session = self.sessions.pop(worker_ctx, None)
        if session is not None:
            session.close()  # rolls back whatever was not committed


def find_database(container) -> Database | None:
    for dependency in container.dependencies:
        if isinstance(dependency, Database):
            return dependency
    return None


def commit_worker(worker_ctx) -> None:
    """Commit the worker's transaction, if its service has a database and it was used."""
    database = find_database(worker_ctx.container)
    if database is not None and worker_ctx in database.sessions:
        database.sessions[worker_ctx].commit()


def take_turns(session: Session, keys) -> None:
    """Transaction-scoped advisory locks on `keys` (strings), so that writers of the same keys
    take turns until their commit while others go on in parallel. Taken in one order, so two
    writers cannot deadlock. SQLite has one writer at a time anyway."""
    if session.get_bind().dialect.name != "postgresql" or not keys:
        return
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(k)) FROM "
                         "(SELECT unnest(CAST(:keys AS text[])) AS k ORDER BY 1) AS ordered"),
                    {"keys": sorted(set(keys))})
