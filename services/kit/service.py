"""What every peixun service stands on: its database, its outbox, its log context, health()."""

from sqlalchemy import text

from .database import Database
from .logging import LogContext
from .outbox import Outbox
from .rpc import rpc


class ServiceBase:
    db = Database()
    log_context = LogContext()

    @rpc
    def health(self) -> dict:
        self.db.execute(text("SELECT 1"))
        return {"status": "ok", "service": self.name}


class PublishingService(ServiceBase):
    """A service that emits events: `self.outbox.add(event_type, data)`."""

    outbox = Outbox()
