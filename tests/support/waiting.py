"""Waiting for a condition instead of sleeping: a test that waits fails when the condition never
holds, where a sleep passes on a slow machine without the behaviour."""

from services.kit.processes import wait_until as _wait_until


def wait_until(predicate, timeout=10.0, interval=0.05, message="condition"):
    """The predicate's first truthy value, asked every `interval` seconds; fails the test after
    `timeout`."""
    try:
        return _wait_until(predicate, message, timeout, interval)
    except TimeoutError as exc:
        raise AssertionError(str(exc)) from None
