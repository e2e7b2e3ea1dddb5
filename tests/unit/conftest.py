"""Unit tests: rules driven in-process, on fakes or a SQLite database of the service, without a
broker. A test that also runs its rule on PostgreSQL (a set-based statement of its own there) is
marked `postgres`; `pytest tests/unit -m "not postgres"` needs no server at all."""

from tests.support.databases import sqlite_db  # noqa: F401 - fixtures of this layer
from tests.support.worlds import world  # noqa: F401
