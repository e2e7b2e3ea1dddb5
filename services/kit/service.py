"""What every peixun service stands on: its database, its outbox, its log context, health()."""

from nameko.extensions import DependencyProvider
from sqlalchemy import text

from . import config
from .amqp import declare_topology
from .database import Database
from .logging import LogContext
from .metrics import WorkerMetrics, age_seconds
from .models import outbox_waiting
from .outbox import Outbox
from .rpc import rpc


class Topology(DependencyProvider):
    """Declares every exchange and consumer queue when the service starts, whichever service
    it is: an event published before its consumer first ran is kept, not returned."""

    def setup(self):
        declare_topology(self.container.config.get("AMQP_URI") or config.amqp_uri())

    def get_dependency(self, worker_ctx):
        return None


class ServiceBase:
    topology = Topology()
    db = Database()
    log_context = LogContext()
    metrics = WorkerMetrics()

    @rpc
    def health(self) -> dict:
        """Also the port this replica serves /metrics on (None: none), since `0` picks one."""
        self.db.execute(text("SELECT 1"))
        return {"status": "ok", "service": self.name, "metrics_port": self.metrics.port}


class PublishingService(ServiceBase):
    """A service that emits events: `self.outbox.add(event_type, data)`."""

    outbox = Outbox()

    @rpc
    def health(self) -> dict:
        """Also how many events wait in the outbox, and how long the oldest has: operators
        (`peixun status`) and the demo watch it drain."""
        pending, oldest = self.db.execute(outbox_waiting()).one()
        return {**ServiceBase.health(self), "outbox_pending": int(pending),
                "outbox_oldest_age_seconds": round(age_seconds(oldest), 3)}
