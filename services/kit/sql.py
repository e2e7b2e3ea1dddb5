"""Set-based writes that PostgreSQL and SQLite both speak (INSERT … ON CONFLICT).

Many rows at once go to PostgreSQL as one JSON parameter per page, in the session's own
transaction: SQLAlchemy sends an ON CONFLICT executemany one row per round trip, which made an
import of 60,000 members take most of a minute.
"""

from datetime import UTC, datetime

import orjson
from sqlalchemy import and_
from sqlalchemy.orm import Session

from services.kit import clock

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
    # record set. JSON encoding is fast C; psycopg2's per-value quoting of 8 columns × 5,000
    # rows was not (COPY is refused under eventlet's green psycopg2).
    sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "
           f"SELECT {', '.join(columns)} FROM json_to_recordset(%s::json) "
           f"AS t({_record_types(table, columns)})")
    if key and update and others:
        sql += (f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
                + ", ".join(f"{c} = EXCLUDED.{c}" for c in others))
        if unless_newer:
            sql += f" WHERE {table.name}.{unless_newer} < EXCLUDED.{unless_newer}"
    elif key:
        sql += f" ON CONFLICT ({', '.join(key)}) DO NOTHING"
    _json_pages(session, sql, rows)


def insert_returning(session: Session, table, rows: list[dict], serial: str,
                     returning: tuple[str, ...] = ()) -> list[tuple]:
    """Insert the rows (all with the same columns) in one statement per page and answer, for
    each row in the rows' order, its `serial` (the table's autoincrement key) and then the
    `returning` columns. A serial key grows in the order rows are inserted, and they are
    inserted in the rows' order: the guarantee SQLAlchemy's `sort_by_parameter_order` rests on
    too."""
    if not rows:
        return []
    columns = list(rows[0])
    wanted = [serial, *returning]
    if session.get_bind().dialect.name != "postgresql":
        return _sqlite_insert_returning(session, table, rows, columns, wanted)
    sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "
           f"SELECT {', '.join(columns)} FROM ROWS FROM (json_to_recordset(%s::json) "
           f"AS ({_record_types(table, columns)})) WITH ORDINALITY AS t({', '.join(columns)}, "
           f"ordinal) ORDER BY ordinal RETURNING {', '.join(wanted)}")
    out: list[tuple] = []
    for result in _json_pages(session, sql, rows):
        out.extend(sorted((tuple(r) for r in result), key=lambda r: r[0]))
    return out


def _record_types(table, columns: list[str]) -> str:
    """`column type, …` of a json_to_recordset, in PostgreSQL's names for the columns' types."""
    from sqlalchemy.dialects import postgresql

    dialect = postgresql.dialect()
    return ", ".join(f"{c} {table.c[c].type.compile(dialect=dialect)}" for c in columns)


def _json_pages(session: Session, sql: str, rows: list[dict]) -> list:
    """Run `sql` once per page of rows, the page as its one JSON parameter; the results.
    Through SQLAlchemy's connection, so that a unique-key race surfaces as its IntegrityError
    (the event entrypoint acks a twin delivery on it)."""
    session.flush()   # ORM changes first, in order
    connection = session.connection()
    # orjson: a tenth of json's time a row (datetimes and dates in ISO 8601 as isoformat()
    # writes them), and json's encoding was a tenth of a busy consumer's time.
    return [connection.exec_driver_sql(sql, (orjson.dumps(
        rows[start:start + PAGE], option=orjson.OPT_NON_STR_KEYS).decode(),))
        for start in range(0, len(rows), PAGE)]


def _sqlite_insert_returning(session: Session, table, rows: list[dict], columns: list[str],
                             wanted: list[str]) -> list[tuple]:
    """SQLite: multi-row VALUES (SQLAlchemy's sort_by_parameter_order would send one row per
    statement there), within its limit of 32,766 parameters a statement. The SQL is written
    here and the values go through the columns' own bind processors: SQLAlchemy compiling a
    multi-row VALUES afresh for every batch was four fifths of a check-in's time."""
    dialect = session.get_bind().dialect
    processors = [table.c[c].type._cached_bind_processor(dialect) for c in columns]
    one_row = "(" + ", ".join("?" * len(columns)) + ")"
    head = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES "
    tail = f" RETURNING {', '.join(wanted)}"
    session.flush()
    connection = session.connection()
    page = max(1, 30000 // len(columns))
    out: list[tuple] = []
    for start in range(0, len(rows), page):
        chunk = rows[start:start + page]
        params = tuple(process(row[c]) if process else row[c]
                       for row in chunk
                       for c, process in zip(columns, processors, strict=True))
        result = connection.exec_driver_sql(head + ", ".join([one_row] * len(chunk)) + tail,
                                            params)
        out.extend(sorted(tuple(r) for r in result))
    return out


def pairs_in(first, second, pairs):
    """Rows whose (first, second) may be one of `pairs`: each column IN its own values, which
    the two-column index answers. A row-value `(a, b) IN (…)` made SQLite scan the table. The
    caller keeps only the pairs it asked for (a few extra rows may match)."""
    pairs = list(pairs)
    return and_(first.in_({a for a, _ in pairs}), second.in_({b for _, b in pairs}))


def upsert(session: Session, table, rows: list[dict], key: list[str]) -> None:
    """Insert the rows, or update every other column of the row with the same key."""
    insert_rows(session, table, rows, key, update=True)


def utcnow() -> datetime:
    return clock.now()


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were stored in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
