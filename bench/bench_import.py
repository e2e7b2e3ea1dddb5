"""Member import: 60,000 members (with some bad rows) from XLSX and from CSV through
`peixun import members` (read here, sent over RPC in chunks to the enrollment service running
in its own process, validated and upserted there, person_changed events written), against a
plain PostgreSQL COPY of the same rows in the same run: without the outbox relay publishing
(another replica holds its lock), and with it publishing the events meanwhile.

Run alone: `.venv/bin/python -m bench.bench_import` (its own vhost and databases).
"""

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet

eventlet.monkey_patch()

import csv
import os
import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg2
from openpyxl import Workbook
from sqlalchemy import text

from services.cli.importing import run_import
from services.cli.launch import popen_service
from services.contracts import imports
from services.enrollment import importers
from services.kit.database import make_engine

from . import baselines
from .harness import bench_line, timed

MEMBERS = 60_000
COMMITTEES = 30
ORGS_PER_COMMITTEE = 130          # ≈ 4,000 organisations
BAD_EVERY = 97                    # ≈ 620 bad rows of several kinds
GOAL = 0.2                        # × COPY of the same rows
RELAY_LOCK = "peixun.relay.enrollment"   # services.kit.outbox.Relay's advisory lock
HEADER = ["党员编号", "姓名", "党组织编码", "入党日期", "人员类别", "任书记的党组织编码"]
SECTORS = ["村", "居民区", "机关事业单位", "国有企业", "两新组织"]
EMPLOYMENTS = ["机关事业单位", "企业", "其他"]


def district() -> tuple[list[list], list[str]]:
    orgs = [["FX", "奉贤区委", "", "党(工)委", ""]]
    grassroots = []
    for c in range(COMMITTEES):
        committee = f"FX{c:02d}"
        orgs.append([committee, f"党委{c}", "FX", "党(工)委", ""])
        for g in range(ORGS_PER_COMMITTEE):
            code = f"{committee}{g:03d}"
            orgs.append([code, f"党支部{c}-{g}", committee, "基层党组织", SECTORS[g % 5]])
            grassroots.append(code)
    return orgs, grassroots


def members(grassroots: list[str]) -> tuple[list[list], int]:
    rng = random.Random(4)
    rows, bad = [], 0
    start = date(1960, 1, 1)
    for i in range(MEMBERS):
        org = grassroots[i % len(grassroots)]
        secretary = org if i < len(grassroots) else ""
        row = [f"M{i:07d}", f"党员{i}", org,
               (start + timedelta(days=rng.randrange(23000))).isoformat(),
               EMPLOYMENTS[i % 3], secretary]
        if i % BAD_EVERY == 50:
            kind = (i // BAD_EVERY) % 4
            if kind == 0:
                row[2] = "NOPE"
            elif kind == 1:
                row[3] = "1990/13/01"
            elif kind == 2:
                row[4] = "农民"
            else:
                row[0] = ""
            bad += 1
        rows.append(row)
    return rows, bad


def write_xlsx(path: Path, header, rows) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)


def write_csv(path: Path, header, rows) -> None:
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def members_copy_rate(url: str, rows: list[list]) -> float:
    """The same rows, COPYed into a plain table."""
    return baselines.copy_rate(url, "bench_members", "member_no text, name text, "
                               "org_code text, joined_on text, employment text, "
                               "secretary_of text", rows)


def members_table_copy_rate(url: str, rows: list[list], grassroots: list[str]) -> float:
    """What no import can beat: the rows it keeps, COPYed into a table like `members` (its
    primary key and two indexes), for reading the figures against."""
    orgs = dict.fromkeys(["FX", *grassroots])
    kept, _ = importers.check_members(
        [[n, *row] for n, row in enumerate(rows, start=2)], orgs, date.today(),
        ["row", *importers.KEPT_FIELDS])
    now = datetime.now(UTC).isoformat()
    return baselines.copy_rate(url, "bench_members_indexed", "LIKE members INCLUDING ALL", [
        (*row[:5], row[5] or "\\N", "t", now) for row in kept.rows()])


def read_seconds(path: Path) -> float:
    """Reading the file alone (CSV or XLSX), as the CLI does before it sends anything."""
    with timed() as elapsed:
        for _chunk in imports.column_chunks(imports.iter_rows(path), imports.MEMBER_HEADERS,
                                            imports.MEMBER_REQUIRED, 20000):
            pass
    return elapsed()


def import_rate(path: Path, expected_kept: int) -> float:
    lines = []
    with timed() as elapsed:
        status = run_import("members", str(path), echo=lambda line, **_: lines.append(line),
                            show_progress=False)
    kept = int(lines[-1].split()[0])
    assert status == 0 and kept == expected_kept, lines[-1]
    return MEMBERS / elapsed()


def forget_members(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE members, outbox"))
        connection.execute(text("UPDATE organisations SET secretary_member_no = NULL"))
    engine.dispose()


class RelayHeld:
    """Holds the enrollment relay's advisory lock, as another replica's relay would: while
    held, the service's relay publishes nothing (it looks again every two seconds)."""

    def __init__(self, url: str):
        self.connection = psycopg2.connect(url)
        self.connection.autocommit = True
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (RELAY_LOCK,))
            assert cursor.fetchone()[0], "the relay's lock is taken already"

    def release(self, timeout: float = 30.0) -> None:
        """Let the service's relay have it, and wait until it has."""
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", (RELAY_LOCK,))
            deadline = time.monotonic() + timeout
            while True:
                cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (RELAY_LOCK,))
                if not cursor.fetchone()[0]:
                    break                       # the relay holds it now
                cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", (RELAY_LOCK,))
                assert time.monotonic() < deadline, "the relay did not take its lock"
                time.sleep(0.2)
        self.connection.close()


def unsent(url: str) -> int:
    """Events not yet published (a page row counts its events, as health() does)."""
    connection = psycopg2.connect(url)
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(sum(coalesce(events, 1)), 0) FROM outbox "
                       "WHERE sent_at IS NULL")
        count = cursor.fetchone()[0]
    connection.close()
    return count


def start_enrollment(amqp_uri: str, url: str, var: Path):
    """The enrollment service in a process of its own, as `peixun run` starts it: the CLI
    and the service do not share an interpreter (nor its lock) in real use either."""
    from services.kit import processes

    log = (var / "enrollment.log").open("wb")
    process = popen_service("enrollment", env={
        "AMQP_URI": amqp_uri, "ENROLLMENT_DATABASE_URL": url, "PEIXUN_VAR_DIR": str(var)},
        stdout=log)
    try:
        processes.wait_healthy(["enrollment"], amqp_uri, {"enrollment": process})
    except Exception:
        processes.stop({"enrollment": process})
        raise
    return process


def run(ctx) -> None:
    from services.kit import processes

    orgs, grassroots = district()
    rows, bad = members(grassroots)
    url = ctx.urls["enrollment"]
    before = os.environ.get("AMQP_URI")
    os.environ["AMQP_URI"] = ctx.amqp_uri   # the CLI reaches the service through it
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        held = RelayHeld(url)   # taken before the service starts, so its relay waits
        service = start_enrollment(ctx.amqp_uri, url, tmp)
        try:
            write_csv(tmp / "orgs.csv", ["党组织编码", "名称", "上级党组织编码", "类型", "领域"],
                      orgs)
            assert run_import("orgs", str(tmp / "orgs.csv"), echo=lambda *a, **k: None,
                              show_progress=False) == 0
            write_xlsx(tmp / "members.xlsx", HEADER, rows)
            write_csv(tmp / "members.csv", HEADER, rows)
            baseline = members_copy_rate(url, rows)
            indexed = members_table_copy_rate(url, rows, grassroots)
            print(f"# member_import: COPY of the kept rows into a table like members (primary "
                  f"key and two indexes): {indexed:.0f} rows/s = {indexed / baseline:.3f} x "
                  f"COPY into a plain table", flush=True)
            for kind in ("csv", "xlsx"):
                read = read_seconds(tmp / f"members.{kind}")
                print(f"# member_import: reading the {kind.upper()} alone takes {read:.2f} s "
                      f"({MEMBERS / read:.0f} rows/s, {MEMBERS / read / baseline:.3f} x COPY)",
                      flush=True)

            # Without the relay: the import's own work.
            xlsx = import_rate(tmp / "members.xlsx", MEMBERS - bad)
            bench_line("member_import_xlsx", xlsx, "rows/s", baseline, str(GOAL),
                       xlsx >= GOAL * baseline)
            forget_members(url)
            alone = import_rate(tmp / "members.csv", MEMBERS - bad)
            bench_line("member_import_without_relay", alone, "rows/s", baseline, str(GOAL),
                       alone >= GOAL * baseline)
            again = import_rate(tmp / "members.csv", MEMBERS - bad)
            bench_line("member_reimport_unchanged", again, "rows/s", baseline, str(GOAL),
                       again >= GOAL * baseline)

            # With the relay publishing the events in the service's process meanwhile, as in
            # real use; then how long until the last event is out.
            forget_members(url)
            held.release()
            with timed() as elapsed:
                first = import_rate(tmp / "members.csv", MEMBERS - bad)
                while unsent(url):
                    time.sleep(0.1)
            bench_line("member_import", first, "rows/s", baseline, str(GOAL),
                       first >= GOAL * baseline)
            print(f"# member_import: the {MEMBERS - bad} person_changed (and the secretaries' "
                  f"organisation_changed) all published after {elapsed():.1f} s", flush=True)
        finally:
            processes.stop({"enrollment": service})
            if before is None:
                os.environ.pop("AMQP_URI", None)
            else:
                os.environ["AMQP_URI"] = before


def main() -> None:
    """Alone, in databases of its own (`peixun bench` shares the run's)."""
    from services.kit import config

    from .harness import PG, vhost
    from .run import Context

    prefix = os.environ.get("PEIXUN_BENCH_DB_PREFIX", "peixun_bench_import_")
    admin = psycopg2.connect(f"{PG}/postgres")
    admin.autocommit = True
    urls = {}
    with admin.cursor() as cursor:
        for service in config.SERVICES:
            cursor.execute(f'DROP DATABASE IF EXISTS "{prefix}{service}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{prefix}{service}"')
            urls[service] = f"{PG}/{prefix}{service}"
    try:
        with vhost() as amqp_uri:
            run(Context(amqp_uri, urls))
    finally:
        with admin.cursor() as cursor:
            for service in config.SERVICES:
                cursor.execute(f'DROP DATABASE IF EXISTS "{prefix}{service}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
