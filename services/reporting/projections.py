"""Read models from events: each function applies one event to the session's tables."""

from services.contracts import Event
from services.kit.database import add_or_increment

from .models import ClassProgress


def session_completed(session, event: Event) -> None:
    data = event.data
    add_or_increment(session, ClassProgress.__table__, {"class_id": data["class_id"]},
                     {"completed_sessions": 1, "completed_hours": data["hours"]})
