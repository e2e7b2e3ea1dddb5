"""Waiting for a condition instead of sleeping: a test that waits fails when the condition never
holds, where a sleep passes on a slow machine without the behaviour."""

import time


def wait_until(predicate, timeout=10.0, interval=0.05, message="condition"):
    """The predicate's first truthy value, asked every `interval` seconds; fails after
    `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)
