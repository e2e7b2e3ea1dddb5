"""Reporting: read models built only from events, the six reports drawn from them, and filing.

Handlers hand the events' wire form to the projections (the same code `peixun replay` runs);
the high-volume types come in batches. RPC is what the gateway and the CLI call.
"""

import base64
import json

from sqlalchemy import select

from services.kit import NotFound, PublishingService, event_handler
from services.kit.rpc import rpc

from . import filing, projections, store, xapi
from .models import ClassProgress, rp_state
from .render.remote import renderer
from .reports import REPORTS


class ReportingService(PublishingService):
    name = "reporting"

    def _apply(self, events) -> None:
        projections.hold_off(self.db)
        projections.apply(self.db, [event.payload for event in events])

    # -- what scheduling tells -------------------------------------------------------------

    @event_handler("scheduling", "program_changed")
    def on_program_changed(self, event):
        self._apply([event])

    @event_handler("scheduling", "class_published")
    def on_class_published(self, event):
        self._apply([event])

    @event_handler("scheduling", "class_changed", batch=50)
    def on_class_changed(self, events):
        # The highest sequence wins; a plan filed before it shows as changed since filed.
        self._apply(events)

    @event_handler("scheduling", "class_cancelled")
    def on_class_cancelled(self, event):
        self._apply([event])

    @event_handler("scheduling", "class_completed")
    def on_class_completed(self, event):
        # The class's record is now due for filing: filing status reads it from here.
        self._apply([event])

    @event_handler("scheduling", "session_scheduled", batch=50)
    def on_session_scheduled(self, events):
        self._apply(events)

    @event_handler("scheduling", "session_rescheduled", batch=50)
    def on_session_rescheduled(self, events):
        self._apply(events)

    @event_handler("scheduling", "session_cancelled", batch=50)
    def on_session_cancelled(self, events):
        self._apply(events)

    @event_handler("scheduling", "session_completed", batch=200)
    def on_session_completed(self, events):
        self._apply(events)

    # -- what enrollment tells --------------------------------------------------------------

    @event_handler("enrollment", "organisation_changed", batch=200)
    def on_organisation_changed(self, events):
        self._apply(events)

    @event_handler("enrollment", "person_changed", batch=500)
    def on_person_changed(self, events):
        self._apply(events)

    @event_handler("enrollment", "enrollment_nominated", batch=200)
    def on_enrollment_nominated(self, events):
        # Waiting for the organiser's review: not an enrolment in any figure yet.
        self._apply(events)

    @event_handler("enrollment", "enrollment_rejected", batch=200)
    def on_enrollment_rejected(self, events):
        self._apply(events)

    @event_handler("enrollment", "enrollment_confirmed", batch=200)
    def on_enrollment_confirmed(self, events):
        self._apply(events)

    @event_handler("enrollment", "enrollment_waitlisted", batch=200)
    def on_enrollment_waitlisted(self, events):
        self._apply(events)

    @event_handler("enrollment", "enrollment_withdrawn", batch=200)
    def on_enrollment_withdrawn(self, events):
        self._apply(events)

    @event_handler("enrollment", "attendance_recorded", batch=500)
    def on_attendance_recorded(self, events):
        self._apply(events)

    @event_handler("enrollment", "completion_recorded", batch=200)
    def on_completion_recorded(self, events):
        self._apply(events)

    @event_handler("enrollment", "study_hours_recorded", batch=200)
    def on_study_hours_recorded(self, events):
        # 其他学时: an entry, or its withdrawal (which removes it from every figure).
        self._apply(events)

    @rpc
    def health(self) -> dict:
        """Also the renderer process (PDF, PNG): its pid while one runs, and the highest peak
        memory of the renderers this process has run, which the demo and bench count."""
        return {**PublishingService.health(self), "renderer_pid": renderer.pid,
                "renderer_peak_rss_mb": round(renderer.peak_rss_mb(), 1)}

    # -- reports ------------------------------------------------------------------------------

    @rpc
    def report(self, name: str, params: dict | None = None, format: str = "json",
               within: str | None = None) -> dict:
        """A report file: {file_name, content_type, sha256, size, position, created_at, cached,
        content_b64}. `within`: the org subtree the caller is limited to (None: everything)."""
        return store.pull(self.db, self.outbox, name, params, format, within)

    @rpc
    def report_page(self, name: str, params: dict | None = None,
                    within: str | None = None) -> dict:
        """A report as the admin pages draw it: {data, document}, the report's JSON (the file
        `report` answers, stored alike) and its layout (a contracts Document, `to_dict`)."""
        answer = store.pull(self.db, self.outbox, name, params, "json", within)
        data = json.loads(base64.b64decode(answer["content_b64"]))
        return {"data": data, "document": REPORTS[name].layout(data).to_dict()}

    @rpc
    def class_progress(self, class_id: str) -> dict:
        progress = self.db.get(ClassProgress, class_id)
        if progress is None:
            raise NotFound(f"class {class_id}: no completed session reported yet",
                           entity="class_progress")
        return {"class_id": class_id, "completed_sessions": progress.completed_sessions,
                "completed_hours": progress.completed_hours}

    @rpc
    def xapi_statements(self, since: str | None = None, limit: int | None = None,
                        cursor: str | None = None, within: str | None = None) -> dict:
        """xAPI statements (attended, completed) after `cursor`, stored after `since`:
        {statements, cursor, more, consistent_through}. `within`: as for reports."""
        return xapi.page(self.db, since, limit, cursor, within)

    @rpc
    def replay_state(self) -> dict:
        """The read models' generation, when they were last rebuilt, and the log's size."""
        row = self.db.execute(select(rp_state).where(rp_state.c.id == 1)).mappings().first()
        position, events = store.log_size(self.db)
        return {"generation": row["generation"] if row else 0,
                "replayed_at": row["replayed_at"].isoformat() if row and row["replayed_at"]
                else None, "position": position, "events": events}

    # -- filing (备案) ---------------------------------------------------------------------------

    @rpc
    def file_report(self, class_id: str, kind: str, acting_org: str | None = None,
                    filed_by: str = "district_admin", attachments: list | None = None) -> dict:
        """File the class's plan or record (kind) as the organiser (acting_org; None: a
        district_admin), with its attachments ([{file_name, content_b64}]: PDF, JPEG, PNG)."""
        return filing.file(self.db, self.outbox, class_id, kind, acting_org, filed_by,
                           attachments=attachments)

    @rpc
    def acknowledge_filing(self, filing_id: str, acting_org: str | None = None,
                           reviewed_by: str = "district_admin") -> dict:
        return filing.review(self.db, self.outbox, filing_id, "acknowledged", None,
                             acting_org, reviewed_by)

    @rpc
    def return_filing(self, filing_id: str, reason: str, acting_org: str | None = None,
                      reviewed_by: str = "district_admin") -> dict:
        return filing.review(self.db, self.outbox, filing_id, "returned", reason, acting_org,
                             reviewed_by)

    @rpc
    def filing_inbox(self, org_code: str | None = None, status: str | None = "filed",
                     page: int = 1, per_page: int = 50) -> dict:
        return filing.inbox(self.db, org_code, status, page, per_page)

    @rpc
    def class_filings(self, class_id: str, within: str | None = None) -> dict:
        return filing.of_class(self.db, class_id, within)

    @rpc
    def get_filing(self, filing_id: str, within: str | None = None) -> dict:
        return filing.show(self.db, filing_id, within)

    @rpc
    def filing_document(self, filing_id: str, format: str = "json",
                        within: str | None = None) -> dict:
        return filing.document(self.db, filing_id, format, within)

    @rpc
    def filing_attachment(self, filing_id: str, attachment_id: str,
                          within: str | None = None) -> dict:
        """One attachment of a filed version: {file_name, content_type, sha256, content_b64}."""
        return filing.attachment(self.db, filing_id, attachment_id, within)
