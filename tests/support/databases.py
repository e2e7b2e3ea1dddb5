"""Databases for tests: a SQLite file at a service's newest migration, and PostgreSQL databases
of the run's own (`<PEIXUN_TEST_DB_PREFIX><service>`). A test that touches PostgreSQL is marked
`postgres`; integration and end-to-end tests all are (tests/conftest.py)."""

import os
from contextlib import contextmanager

import psycopg2
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from services.kit import config, migrate
from services.kit.database import make_engine

PG_URL = os.environ.get("PEIXUN_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
# Two test runs at once on one server (parallel work) each set a prefix of their own.
DB_PREFIX = os.environ.get("PEIXUN_TEST_DB_PREFIX", "peixun_test_")

# A rule with a PostgreSQL way of its own (set-based SQL) is tested on both databases.
BACKENDS = [pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def database_urls():
    """A fresh database per service for this run."""
    try:
        admin = psycopg2.connect(f"{PG_URL}/postgres")
    except psycopg2.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {PG_URL} did not answer: {exc}", pytrace=False)
    admin.autocommit = True
    urls = {}
    with admin.cursor() as cursor:
        for service in config.SERVICES:
            name = f"{DB_PREFIX}{service}"
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')
            urls[service] = f"{PG_URL}/{name}"
    admin.close()
    return urls


def truncate_all(url):
    """Every table of a PostgreSQL database emptied, its migrations kept."""
    engine = make_engine(url)
    with engine.begin() as connection:
        tables = connection.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version'")).scalars().all()
        if tables:
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


def sqlite_engine(path, service: str):
    """A SQLite file at `path`, at the service's newest migration."""
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine, service)
    return engine


@pytest.fixture
def sqlite_db(tmp_path):
    """`sqlite_db(service)`: a session on a fresh SQLite database of the service, at its newest
    migration; closed after the test."""
    engines, sessions = [], []

    def open_session(service: str) -> Session:
        engine = sqlite_engine(tmp_path / f"{service}-{len(engines)}.db", service)
        engines.append(engine)
        sessions.append(Session(engine))
        return sessions[-1]

    yield open_session
    for session in sessions:
        session.close()
    for engine in engines:
        engine.dispose()


@contextmanager
def fresh_engine(backend: str, service: str, directory, request):
    """An empty database of the service at its newest migration: a SQLite file in `directory`,
    or the run's PostgreSQL database of the service, emptied (the test must be marked
    `postgres`)."""
    if backend == "sqlite":
        directory.mkdir(parents=True, exist_ok=True)
        engine = sqlite_engine(directory / f"{service}.db", service)
    else:
        assert request.node.get_closest_marker("postgres"), \
            f"{request.node.nodeid} uses PostgreSQL: mark it `postgres`"
        url = request.getfixturevalue("database_urls")[service]
        engine = make_engine(url)
        migrate.upgrade(engine, service)
        truncate_all(url)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def fresh_session(backend: str, service: str, directory, request):
    """A session on `fresh_engine`."""
    with fresh_engine(backend, service, directory, request) as engine, Session(engine) as db:
        yield db


def blocked_by(engine, pid: int) -> int:
    """How many PostgreSQL backends wait for a lock that backend `pid` holds. A test of taking
    turns waits for this instead of sleeping and hoping the other writer got there. A
    connection of its own per call: a transaction sees pg_stat_activity as it first read it."""
    with engine.connect() as connection:
        return connection.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
            (pid,)).scalar()
