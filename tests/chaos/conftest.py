"""The fault runs at their short size: every scenario of `make chaos`, kept by `make test`."""

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.broker)
        item.add_marker(pytest.mark.postgres)
