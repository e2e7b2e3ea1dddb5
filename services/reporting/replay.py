"""`peixun replay`: empty the read models and rebuild them from the inbox, the append-only log of
every event reporting handled, in batches, with the live handlers held off. The projections do
not depend on the order of events, so each projection takes its own events a batch at a time.

On PostgreSQL the replay holds an advisory lock exclusively while the live handlers share it
(projections.hold_off): it starts once the handlers in flight have committed (their events are
then in the log) and they wait until it is done. The batches run on several connections at once
(each is one set-based statement; rows of one key are written in key order, so two batches
cannot deadlock, and the vkey rule makes their order irrelevant). Until the last step commits,
`rp_state.rebuilding` stays set and reports are refused — also after a replay that failed half
way, until one finishes. On SQLite (one writer) the rebuild is a single transaction.
"""

import argparse
import json
import secrets
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from services.kit import config, migrate
from services.kit.database import make_engine
from services.kit.models import inbox

from . import models, projections


@dataclass
class ReplayResult:
    events: int
    seconds: float
    generation: int

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def _reporting_events():
    consumers = [c for p in projections.PROJECTIONS for c in p.consumers()]
    return inbox.c.consumer.in_(consumers)


def count_events(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(
            select(func.count()).select_from(inbox).where(_reporting_events())).scalar_one()


def empty_read_models(session) -> None:
    if session.bind.dialect.name == "postgresql":
        names = ", ".join(t.name for t in models.READ_MODELS)
        session.execute(text(f"TRUNCATE {names}"))
    else:
        for table in models.READ_MODELS:
            session.execute(table.delete())


def generation(session) -> int:
    value = session.execute(select(models.rp_state.c.generation)
                            .where(models.rp_state.c.id == 1)).scalar()
    return value or 0


def set_state(session, **values) -> None:
    updated = session.execute(models.rp_state.update().where(models.rp_state.c.id == 1)
                              .values(**values)).rowcount
    if not updated:
        session.execute(models.rp_state.insert().values(
            **{"id": 1, "generation": 0, "rebuilding": False, **values}))


def bump_generation(session, events: int) -> int:
    current = generation(session) + 1
    set_state(session, generation=current, replayed_at=datetime.now(UTC),
              replayed_events=events, rebuilding=False, tree_version=secrets.randbits(62))
    return current


class _Lock:
    """The replay's exclusive hold on the lock the live handlers share (PostgreSQL)."""

    def __init__(self, engine):
        self.engine = engine
        self.connection = None

    def __enter__(self):
        if self.engine.dialect.name == "postgresql":
            self.connection = self.engine.connect()
            self.connection.execute(text("SELECT pg_advisory_lock(hashtext(:k))"),
                                    {"k": projections.REPLAY_LOCK})
            self.connection.commit()
        return self

    def __exit__(self, *exc):
        if self.connection is not None:
            self.connection.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"),
                                    {"k": projections.REPLAY_LOCK})
            self.connection.commit()
            self.connection.close()


def replay(engine, batch: int = 50_000, jobs: int = 2, on_progress=None) -> ReplayResult:
    """Rebuild every read model from the log. `on_progress(n)` hears of each batch applied."""
    started = time.perf_counter()
    # Building a secondary index once over the rebuilt rows beats maintaining it per row.
    indexes = [index for table in models.READ_MODELS for index in table.indexes]
    with _Lock(engine):
        if engine.dialect.name != "postgresql":
            with Session(engine) as session, session.begin():
                empty_read_models(session)
                done = _replay_python(session, batch, on_progress)
                current = bump_generation(session, done)
            return ReplayResult(done, time.perf_counter() - started, current)
        with Session(engine) as session, session.begin():
            set_state(session, rebuilding=True)
            empty_read_models(session)
            for index in indexes:
                index.drop(session.connection(), checkfirst=True)   # gone if one failed
        done = _replay_sql(engine, batch, jobs, on_progress)
        with Session(engine) as session, session.begin():
            for index in indexes:
                index.create(session.connection(), checkfirst=True)
            # Statistics of the rebuilt rows now, not whenever autovacuum comes round: the
            # first reports after a replay are planned on what the tables hold.
            session.execute(text("ANALYZE " + ", ".join(t.name for t in models.READ_MODELS)))
            current = bump_generation(session, done)
    return ReplayResult(done, time.perf_counter() - started, current)


def _batches(engine, batch: int) -> list[tuple]:
    """(projection, consumer, after, upto, events) for every batch, the largest work first."""
    tasks = []
    with engine.connect() as connection:
        # Fresh statistics, so that each consumer's range is read through its index.
        connection.execute(text("ANALYZE inbox"))
        for projection in projections.PROJECTIONS:
            for consumer in projection.consumers():
                bounds = connection.execute(text(
                    "SELECT position, n FROM (SELECT position, "
                    "row_number() OVER (ORDER BY position) AS n, count(*) OVER () AS total "
                    "FROM inbox WHERE consumer = :consumer) AS numbered "
                    "WHERE n % :batch = 0 OR n = total ORDER BY position"),
                    {"consumer": consumer, "batch": batch}).all()
                after, seen = 0, 0
                for upto, n in bounds:
                    tasks.append((projection, consumer, after, upto, n - seen))
                    after, seen = upto, n
        connection.commit()
    return sorted(tasks, key=lambda task: -task[4])


def _apply_batch(engine, task) -> int:
    projection, consumer, after, upto, events = task
    with engine.connect() as connection:
        # Large set-based statements: compiling them (JIT) costs more than it saves.
        connection.execute(text("SET LOCAL jit = off"))
        connection.execute(text("SET LOCAL work_mem = '64MB'"))
        connection.execute(text(projections.replay_sql(projection)),
                           {"consumer": consumer, "after": after, "upto": upto})
        connection.commit()
    return events


def _replay_sql(engine, batch: int, jobs: int, on_progress) -> int:
    """Each projection's own statement, fed from its consumers' rows of the inbox a position
    range at a time: the events never leave the database."""
    done = 0
    with ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
        for future in as_completed([pool.submit(_apply_batch, engine, task)
                                    for task in _batches(engine, batch)]):
            n = future.result()
            done += n
            if on_progress is not None:
                on_progress(n)
    return done


def _replay_python(session, batch: int, on_progress) -> int:
    done, last = 0, 0
    while True:
        rows = session.execute(
            select(inbox.c.position, inbox.c.payload)
            .where(_reporting_events(), inbox.c.position > last)
            .order_by(inbox.c.position).limit(batch)
        ).all()
        if not rows:
            return done
        projections.apply(session, [row.payload for row in rows])
        last = rows[-1].position
        done += len(rows)
        if on_progress is not None:
            on_progress(len(rows))


def main(argv: list[str] | None = None) -> int:
    """`python -m services.reporting.replay [--batch N] [--jobs N]`, which `peixun replay` runs:
    the rebuild against reporting's database, told as JSON lines on standard output — the
    events to apply, each batch applied, then the result."""
    parser = argparse.ArgumentParser(prog="python -m services.reporting.replay")
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)

    def tell(**line):
        print(json.dumps(line), flush=True)

    engine = make_engine(config.database_url("reporting"))
    migrate.upgrade(engine, "reporting")
    tell(events=count_events(engine))
    result = replay(engine, batch=args.batch, jobs=args.jobs,
                    on_progress=lambda n: tell(applied=n))
    engine.dispose()
    tell(events=result.events, seconds=result.seconds, rate=result.rate,
         generation=result.generation)
    return 0


if __name__ == "__main__":
    sys.exit(main())
