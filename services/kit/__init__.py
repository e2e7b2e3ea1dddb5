"""The guarantees of DESIGN §3, written once, as nameko extensions every service stands on.

The names below load on first use (PEP 562), so that a process needing only a light module of
the kit (config, clock: reporting's renderer process) does not load nameko, eventlet,
SQLAlchemy and kombu with it."""

import importlib

_HOMES = {
    "Database": ".database", "DomainError": ".errors", "InvalidInput": ".errors",
    "NotFound": ".errors", "RetryLater": ".errors", "event_handler": ".events",
    "Outbox": ".outbox", "ServiceRpc": ".rpc", "PublishingService": ".service",
    "ServiceBase": ".service",
}
# The `rpc` decorator is imported from services.kit.rpc: as a name here it would be the
# submodule or the decorator depending on what was imported first.

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name], __name__), name)
