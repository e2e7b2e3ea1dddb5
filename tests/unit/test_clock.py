"""The services' clock: real time, or a simulated instant that moves on at the normal pace."""

import time
from datetime import UTC, datetime, timedelta

from services.kit import clock


def test_without_a_clock_file_it_is_real_time(monkeypatch):
    monkeypatch.delenv("PEIXUN_CLOCK_FILE", raising=False)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=1)


def test_a_simulated_instant_moves_on_from_where_it_was_set(monkeypatch, tmp_path):
    path = tmp_path / "clock"
    monkeypatch.setenv("PEIXUN_CLOCK_FILE", str(path))
    clock.set_simulated(path, datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    first = clock.now()
    time.sleep(0.05)
    second = clock.now()
    assert datetime(2026, 3, 2, 9, 0, tzinfo=UTC) <= first < second
    assert second - first < timedelta(seconds=1)
    time.sleep(0.01)   # a new mtime
    clock.set_simulated(path, datetime(2026, 9, 1, 14, 0, tzinfo=UTC))
    assert clock.now().date().isoformat() == "2026-09-01"
