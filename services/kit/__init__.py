"""The guarantees of DESIGN §3, written once, as nameko extensions every service stands on."""

from .database import Database
from .errors import DomainError, InvalidInput, NotFound, RetryLater
from .events import event_handler
from .outbox import Outbox
from .rpc import ServiceRpc, rpc
from .service import PublishingService, ServiceBase

__all__ = [
    "Database", "DomainError", "InvalidInput", "NotFound", "Outbox", "PublishingService",
    "RetryLater", "ServiceBase", "ServiceRpc", "event_handler", "rpc",
]
