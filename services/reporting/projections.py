"""Read models from events: each function applies one event to the session's tables."""

from services.contracts import Event

from .models import ClassProgress


def session_completed(session, event: Event) -> None:
    data = event.data
    progress = session.get(ClassProgress, data["class_id"])
    if progress is None:
        progress = ClassProgress(class_id=data["class_id"], completed_sessions=0,
                                 completed_hours=0.0)
        session.add(progress)
    progress.completed_sessions += 1
    progress.completed_hours += data["hours"]
