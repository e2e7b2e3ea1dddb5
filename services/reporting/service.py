"""Reporting: read models built from events, and the reports drawn from them."""

from services.kit import NotFound, PublishingService, event_handler, rpc

from . import projections
from .models import ClassProgress


class ReportingService(PublishingService):
    name = "reporting"

    @event_handler("scheduling", "session_completed")
    def on_session_completed(self, event):
        projections.session_completed(self.db, event)

    @rpc
    def class_progress(self, class_id: str) -> dict:
        progress = self.db.get(ClassProgress, class_id)
        if progress is None:
            raise NotFound(f"class {class_id}: no completed session reported yet",
                           entity="class_progress")
        return {"class_id": class_id, "completed_sessions": progress.completed_sessions,
                "completed_hours": progress.completed_hours}
