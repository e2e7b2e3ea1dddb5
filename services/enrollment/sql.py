"""Set-based writes that PostgreSQL and SQLite both speak (INSERT … ON CONFLICT).

Many rows at once go to PostgreSQL as one JSON parameter per page, in the session's own
transaction: SQLAlchemy sends an ON CONFLICT executemany one row per round trip, which made an
import of 60,000 members take most of a minute.
"""

import json
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

PAGE = 5000


def dialect_insert(session: Session, table):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def insert_rows(session: Session, table, rows: list[dict], key: list[str] | None = None,
                update: bool = True, unless_newer: str | None = None) -> None:
    """Insert rows (all with the same columns). With `key`: a row whose key exists updates
    every other column (`update`) or is skipped. `unless_newer` names a column: the update is
    skipped where the stored value is not smaller (an older writer never wins)."""
    if not rows:
        return
    columns = list(rows[0])
    others = [c for c in columns if c not in (key or [])]
    if session.get_bind().dialect.name != "postgresql":
        statement = dialect_insert(session, table)
        if key and update and others:
            statement = statement.on_conflict_do_update(
                index_elements=key, set_={c: getattr(statement.excluded, c) for c in others},
                where=(table.c[unless_newer] < getattr(statement.excluded, unless_newer))
                if unless_newer else None)
        elif key:
            statement = statement.on_conflict_do_nothing(index_elements=key)
        session.execute(statement, rows)
        return
    # One parameter per page: the rows as a JSON array that PostgreSQL turns back into a
    # record set. Python's json is fast C; psycopg2's per-value quoting of 8 columns × 5,000
    # rows was not (COPY is refused under eventlet's green psycopg2).
    from sqlalchemy.dialects import postgresql

    dialect = postgresql.dialect()
    types = ", ".join(f"{c} {table.c[c].type.compile(dialect=dialect)}" for c in columns)
    sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "
           f"SELECT {', '.join(columns)} FROM json_to_recordset(%s::json) AS t({types})")
    if key and update and others:
        sql += (f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
                + ", ".join(f"{c} = EXCLUDED.{c}" for c in others))
        if unless_newer:
            sql += f" WHERE {table.name}.{unless_newer} < EXCLUDED.{unless_newer}"
    elif key:
        sql += f" ON CONFLICT ({', '.join(key)}) DO NOTHING"
    session.flush()   # ORM changes first, in order
    cursor = session.connection().connection.dbapi_connection.cursor()
    try:
        for start in range(0, len(rows), PAGE):
            cursor.execute(sql, (json.dumps(rows[start:start + PAGE], default=_json_value,
                                            ensure_ascii=False, separators=(",", ":")),))
    finally:
        cursor.close()


def _json_value(value):
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def upsert(session: Session, table, rows: list[dict], key: list[str]) -> None:
    """Insert the rows, or update every other column of the row with the same key."""
    insert_rows(session, table, rows, key, update=True)


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were stored in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
