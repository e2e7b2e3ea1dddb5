"""The services' clock. Real time, unless a demo runs the district's year faster than the year:
then `PEIXUN_CLOCK_FILE` names a file holding the simulated instant, and time moves on from
there at the normal pace until the simulator writes the next instant. Deadlines, correction
windows and anomaly checks then behave as they would on those days."""

import os
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

# The district's time: days, deadlines and printed times are Shanghai's; storage is UTC.
SHANGHAI = ZoneInfo("Asia/Shanghai")

_cache: tuple[tuple[int, int], datetime] | None = None


def now() -> datetime:
    path = os.environ.get("PEIXUN_CLOCK_FILE")
    if not path:
        return datetime.now(UTC)
    global _cache
    stat = Path(path).stat()
    version = (stat.st_ino, stat.st_mtime_ns)   # every write is a new file (os.replace)
    if _cache is None or _cache[0] != version:
        _cache = (version, datetime.fromisoformat(Path(path).read_text().strip()))
    written = datetime.fromtimestamp(stat.st_mtime_ns / 1e9, UTC)
    return (_cache[1] + (datetime.now(UTC) - written)).astimezone(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local(moment: datetime) -> datetime:
    """The instant on Shanghai's clock."""
    return as_utc(moment).astimezone(SHANGHAI)


def today(at: datetime | None = None) -> date:
    """The calendar day in Shanghai, now or at `at`."""
    return local(at or now()).date()


def set_simulated(path: Path, instant: datetime) -> None:
    """For the demo's simulator: every service reading `path` is now at `instant`."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(instant.isoformat())
    os.replace(tmp, path)   # atomic: readers see the old instant or the new one
