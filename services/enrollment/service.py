"""Enrollment: organisations, members, nominations, seats, attendance, completion and study
hours. Each entrypoint validates, calls the rules, and hands its events to the outbox; the kit
commits. The rules live in tree, enrolment, attendance, completion and domain."""

import gc
from contextlib import contextmanager

from nameko.extensions import DependencyProvider

from services.contracts.commands import enrollment as schemas
from services.contracts.imports import SEP
from services.kit import InvalidInput, PublishingService, event_handler
from services.kit.rpc import rpc
from services.kit.validation import load

from . import attendance, certificates, completion, enrolment, rosters, tree, views
from . import study_hours as other_hours
from .events import Emitter
from .models import Organisation

BULK = 100   # past this many events, the outbox gets them in checked batches per type


class FrozenHeap(DependencyProvider):
    """Once the service has started, everything alive (modules, classes, the libraries' own
    objects: several hundred thousand) moves out of the garbage collector's sight, once per
    process. Each full collection walked all of it again, many times over a large import.
    Objects made later are collected as ever."""

    frozen = False

    def start(self):
        if not FrozenHeap.frozen:
            FrozenHeap.frozen = True
            gc.collect()
            gc.freeze()

    def get_dependency(self, worker_ctx):
        return None


class EnrollmentService(PublishingService):
    name = "enrollment"
    frozen_heap = FrozenHeap()

    @contextmanager
    def emitting(self):
        emit = Emitter()
        yield emit
        if len(emit.events) > BULK:
            for event_type in dict.fromkeys(kind for kind, _ in emit.events):
                self.outbox.add_many(event_type, emit.of_type(event_type))
        else:
            for event_type, data in emit.events:
                self.outbox.add(event_type, data)

    # -- what scheduling says ----------------------------------------------------------------

    @event_handler("scheduling", "class_published")
    def on_class_published(self, event):
        with self.emitting() as emit:
            enrolment.class_published(self.db, event.data, emit)

    @event_handler("scheduling", "class_changed")
    def on_class_changed(self, event):
        with self.emitting() as emit:
            enrolment.class_changed(self.db, event.data, emit)

    @event_handler("scheduling", "class_cancelled")
    def on_class_cancelled(self, event):
        with self.emitting() as emit:
            enrolment.class_cancelled(self.db, event.data, emit)

    @event_handler("scheduling", "class_completed")
    def on_class_completed(self, event):
        with self.emitting() as emit:
            completion.class_completed(self.db, event.data, emit)

    @event_handler("scheduling", "session_scheduled")
    def on_session_scheduled(self, event):
        enrolment.apply_session(self.db, event.data, event.type)

    @event_handler("scheduling", "session_rescheduled")
    def on_session_rescheduled(self, event):
        enrolment.apply_session(self.db, event.data, event.type)

    @event_handler("scheduling", "session_cancelled")
    def on_session_cancelled(self, event):
        enrolment.apply_session(self.db, event.data, event.type)

    @event_handler("scheduling", "session_completed")
    def on_session_completed(self, event):
        training_session, _completed_now = enrolment.apply_session(
            self.db, event.data, event.type)
        with self.emitting() as emit:
            attendance.mark_absent(self.db, training_session, emit)

    # -- the outside world -------------------------------------------------------------------

    @event_handler("live_platform", "viewer_attended", batch=500)
    def on_viewer_attended(self, batch):
        reports = [{"event_id": event.id, **event.data} for event in batch]
        with self.emitting() as emit:
            attendance.record_viewing(self.db, reports, emit)

    @event_handler("member_registry", "member_changed", batch=100)
    def on_member_changed(self, batch):
        with self.emitting() as emit:
            for event in sorted(batch, key=lambda e: e.occurred_at):
                tree.apply_member_change(self.db, event.data, event.occurred_at, emit)

    # -- organisations and members -----------------------------------------------------------

    @rpc
    def import_orgs(self, rows: list) -> dict:
        """Rows of an organisation file: `{"row": N, "org_code": …, "name": …,
        "parent_code": …, "kind": …, "sector": …}` (text). Send the whole file at once: a
        row's parent may be anywhere in it."""
        with self.emitting() as emit:
            return tree.import_orgs(self.db, _rows(rows), emit)

    @rpc
    def import_members(self, rows: list, columns: list | None = None) -> dict:
        """A chunk (≤ 100,000) of member-file rows: `{"row": N, "member_no": …, "name": …,
        "org_code": …, "joined_on": …, "employment": …, "secretary_of": …}` (text), or, with
        `columns` naming those fields, each row a list of values in that order (what
        `peixun import members` sends when a cell holds import_member_columns' separator).
        → `{"kept": n, "bad": [{"row", "field", "reason"}, …], "changed": n}`."""
        _check_rows(rows, columns)
        with self.emitting() as emit:
            return tree.import_members(self.db, rows, emit, columns=columns)

    @rpc
    def import_member_columns(self, rows: list, columns: dict, separator: str = SEP) -> dict:
        """A chunk (≤ 100,000 rows) of a member file column by column, as `peixun import
        members` sends it: `rows` the row numbers, `columns` {field: that field's text in
        those rows, joined by `separator`}. A few long strings cost next to nothing to send
        and to take apart, where an object (or a list) per row did. Answers as
        import_members."""
        table = _split_columns(rows, columns, separator)
        with self.emitting() as emit:
            return tree.import_members(self.db, table, emit, columns=["row", *columns])

    @rpc
    def org_ancestors(self, org_code: str) -> list[str]:
        """[org_code, parent, …, root]."""
        return tree.ancestors(self.db, org_code)

    @rpc
    def org_subtree(self, org_code: str) -> list[str]:
        return tree.subtree(self.db, org_code)

    @rpc
    def members_outside(self, org_code: str, member_nos: list) -> list[str]:
        """Of these member numbers, the known people outside `org_code`'s subtree (for the
        gateway's access check of a batch)."""
        if not isinstance(member_nos, list):
            raise InvalidInput("member_nos must be a list", errors={"member_nos": ["not a list"]})
        return tree.members_outside(self.db, org_code, [str(m) for m in member_nos])

    @rpc
    def get_organisation(self, org_code: str) -> dict:
        org = tree.get_org(self.db, org_code)
        return {**views.org_view(org), "ancestors": tree.ancestors(self.db, org_code)}

    @rpc
    def list_organisations(self, query: dict | None = None) -> dict:
        q = load(schemas.OrgListIn(), query or {})
        rows, total = tree.list_orgs(self.db, q["parent_code"], q["within"], q["kind"],
                                     q["page"], q["per_page"])
        return views.page([views.org_view(o) for o in rows], total, q["page"], q["per_page"])

    @rpc
    def get_member(self, member_no: str) -> dict:
        member = tree.get_member(self.db, member_no)
        return views.member_view(member, self.db.get(Organisation, member.org_code))

    @rpc
    def list_members(self, org_code: str, query: dict | None = None) -> dict:
        q = load(schemas.MemberListIn(), query or {})
        rows, total = tree.list_members(self.db, org_code, q["subtree"], q["page"],
                                        q["per_page"], active_only=not q["include_left"])
        return views.page([views.member_view(m, o) for m, o in rows], total, q["page"],
                          q["per_page"])

    # -- classes, nominations, places ----------------------------------------------------------

    @rpc
    def get_class(self, class_id: str) -> dict:
        klass = enrolment.get_class(self.db, class_id)
        return views.class_view(klass, enrolment.places(self.db, klass))

    @rpc
    def class_places(self, class_id: str) -> dict:
        """`{"class_id", "known", "offline_confirmed", "waitlisted", "nominated", …}`: the
        people seated, waiting and awaiting review (none for a class not heard of yet)."""
        return enrolment.class_places(self.db, class_id)

    @rpc
    def get_session(self, session_id: str) -> dict:
        return views.session_view(enrolment.session_or_404(self.db, session_id))

    @rpc
    def set_quota(self, class_id: str, committee_code: str, payload: dict) -> dict:
        seats = load(schemas.QuotaIn(), payload)["seats"]
        return enrolment.set_quota(self.db, class_id, committee_code, seats)

    @rpc
    def list_quotas(self, class_id: str) -> list[dict]:
        enrolment.get_class(self.db, class_id)
        return enrolment.quotas(self.db, class_id)

    @rpc
    def nominate(self, class_id: str, payload: dict) -> dict:
        """`{"member_nos": [...], "mode": "offline"|"online"|null, "by_org_code": …}` →
        `{"enrolled": [enrolment, …], "refused": [{"member_no", "rule", "reason"}, …]}`."""
        data = load(schemas.NominationIn(), payload)
        with self.emitting() as emit:
            result = enrolment.nominate(self.db, class_id, data["member_nos"], emit,
                                        by_org_code=data["by_org_code"], mode=data["mode"])
        return {"enrolled": [views.enrolment_view(e) for e in result["enrolled"]],
                "refused": result["refused"]}

    @rpc
    def withdraw(self, enrollment_id: str, payload: dict | None = None) -> dict:
        data = load(schemas.WithdrawalIn(), payload or {})
        with self.emitting() as emit:
            withdrawn = enrolment.withdraw(self.db, enrollment_id, emit, data["reason"])
        return views.enrolment_view(withdrawn)

    @rpc
    def accept_nomination(self, enrollment_id: str, by: str | None = None) -> dict:
        """A nomination waiting for review gets a seat, a place on the waitlist or online;
        `by` names who accepted it."""
        with self.emitting() as emit:
            accepted = enrolment.accept(self.db, enrollment_id, emit, by=by)
        return views.enrolment_view(accepted)

    @rpc
    def reject_nomination(self, enrollment_id: str, payload: dict,
                          by: str | None = None) -> dict:
        """`{"reason": …}` (required): a nomination waiting for review is turned down."""
        data = load(schemas.RejectionIn(), payload)
        with self.emitting() as emit:
            rejected = enrolment.reject(self.db, enrollment_id, data["reason"], emit, by=by)
        return views.enrolment_view(rejected)

    @rpc
    def get_enrolment(self, enrollment_id: str) -> dict:
        return views.enrolment_view(enrolment.get_enrolment(self.db, enrollment_id))

    @rpc
    def list_enrolments(self, class_id: str, query: dict | None = None) -> dict:
        q = load(schemas.EnrolmentListIn(), query or {})
        enrolment.get_class(self.db, class_id)
        within = tree.get_org(self.db, q["within"]).path if q["within"] else None
        rows, total = enrolment.list_enrolments(self.db, class_id, q["status"], within,
                                                q["page"], q["per_page"])
        return views.page([views.enrolment_view(e, name) for e, name in rows], total,
                          q["page"], q["per_page"])

    # -- attendance ------------------------------------------------------------------------------

    @rpc
    def check_in(self, session_id: str, payload: dict, by: str | None = None,
                 device: str | None = None) -> dict:
        """`{"member_no", "status": "present"|"leave", "at": ISO time or null}`. `by` (the
        person or token) and `device` (where from) are kept on the entry."""
        data = load(schemas.CheckInIn(), payload)
        with self.emitting() as emit:
            entry, flags = attendance.record(self.db, session_id, data["member_no"],
                                             data["status"], emit, source="checkin",
                                             at=data["at"], by=by, device=device)
        return _recorded(entry, flags)

    @rpc
    def check_in_batch(self, session_id: str, payload: dict, by: str | None = None,
                       device: str | None = None) -> dict:
        """`{"entries": [{"member_no", "status": "present"|"leave", "at": ISO time or null},
        …]}` (at most 5,000, applied in order) → `{"recorded": n, "unchanged": n, "refused":
        [{"index", "member_no", "rule", "reason"}, …], "flags": [flag, …]}`. The rules of
        check_in, set-based; a refused entry does not stop the rest."""
        data = load(schemas.CheckInBatchIn(), payload)
        with self.emitting() as emit:
            done = attendance.record_many(self.db, session_id, data["entries"], emit,
                                          source="checkin", by=by, device=device)
        return views.batch_view(done)

    @rpc
    def correct_attendance(self, session_id: str, payload: dict, by: str | None = None,
                           device: str | None = None) -> dict:
        """`{"member_no", "status": present|online|leave|absent, "reason"}`; until 23:59
        (Asia/Shanghai) of the 7th day after the session."""
        data = load(schemas.CorrectionIn(), payload)
        with self.emitting() as emit:
            entry, flags = attendance.record(self.db, session_id, data["member_no"],
                                             data["status"], emit, source="correction",
                                             reason=data["reason"], by=by, device=device)
        return _recorded(entry, flags)

    @rpc
    def verify_attendance(self, class_id: str | None = None) -> dict:
        """`peixun verify attendance`: every class's chain (or one class's) checked; the first
        entry that does not hold, or None (attendance.verify)."""
        if class_id is not None:
            enrolment.get_class(self.db, class_id)   # an unknown class is a 404, not "fine"
        return attendance.verify(self.db, class_id)

    @rpc
    def session_attendance(self, session_id: str, query: dict | None = None) -> dict:
        q = load(schemas.SheetIn(), query or {})
        within = tree.get_org(self.db, q["within"]).path if q["within"] else None
        row, rows, total, counts = attendance.session_sheet(self.db, session_id, within,
                                                            q["page"], q["per_page"])
        items = [{**views.enrolment_view(e, name), "attendance": status}
                 for e, name, status in rows]
        return {**views.page(items, total, q["page"], q["per_page"]),
                "session": views.session_view(row), "counts": counts}

    @rpc
    def attendance_history(self, session_id: str, member_no: str) -> list[dict]:
        return [views.entry_view(e) for e in attendance.history(self.db, session_id, member_no)]

    @rpc
    def list_anomalies(self, query: dict | None = None) -> dict:
        q = load(schemas.FlagListIn(), query or {})
        within = tree.get_org(self.db, q["within"]).path if q["within"] else None
        rows, total = attendance.list_flags(
            self.db, class_id=q["class_id"], session_id=q["session_id"], kind=q["kind"],
            member_no=q["member_no"], within_path=within, page=q["page"],
            per_page=q["per_page"])
        return views.page([views.flag_view(f) for f in rows], total, q["page"], q["per_page"])

    @rpc
    def session_roster(self, session_id: str, within: str | None = None) -> dict:
        """The session and everyone taking part in its class (within `within`'s subtree when
        given), by organisation then name, each with name, organisation and attendance: what
        the sign-in sheet prints and the check-in page lists."""
        training_session, people = rosters.roster(self.db, session_id, self._path(within))
        return {"session": views.session_view(training_session), "people": people}

    @rpc
    def checkin_standing(self, session_id: str, member_no: str, within: str | None = None
                         ) -> dict:
        """Where one scanned person stands for the session: known, name, inside `within`'s
        subtree, their enrolment's status and mode, their attendance so far."""
        return rosters.standing(self.db, session_id, str(member_no), self._path(within))

    def _path(self, within: str | None) -> str | None:
        return tree.get_org(self.db, within).path if within else None

    # -- certificates (结业证书) ------------------------------------------------------------------

    @rpc
    def certificate(self, enrollment_id: str) -> dict:
        """A completed enrolment's certificate: name, organisation, class, dates, hours
        credited, organiser, and its verification code (issued once, stable). 409 (rule
        `not_completed`) for any other enrolment."""
        return certificates.certificate(self.db, enrollment_id)

    @rpc
    def class_certificates(self, class_id: str, within: str | None = None) -> list[dict]:
        """Every completed enrolment's certificate in the class (within `within`'s subtree)."""
        return certificates.class_certificates(self.db, class_id, self._path(within))

    @rpc
    def verify_certificate(self, code: str) -> dict:
        """What a verification code vouches for, the name masked; `genuine` false otherwise."""
        return certificates.verify(self.db, str(code))

    # -- study hours -----------------------------------------------------------------------------

    @rpc
    def study_hours(self, member_no: str, year: int | None = None) -> dict:
        """A person's study hours by year: 集中培训学时, 其他学时 and 合计 against their
        role's quota, with the class lines and the entries from elsewhere."""
        return other_hours.summary(self.db, member_no, year)

    @rpc
    def record_study_hours(self, member_no: str, payload: dict, by: str | None = None) -> dict:
        """`{"year", "hours", "source", "title", "on"}`: study hours from elsewhere → the
        entry, `created` false when the very same entry was recorded already."""
        data = load(schemas.StudyHoursIn(), payload)
        with self.emitting() as emit:
            entry, created = other_hours.record(self.db, member_no, data, emit, by=by)
        return {**other_hours.entry_view(entry), "created": created}

    @rpc
    def withdraw_study_hours(self, member_no: str, entry_id: str, by: str | None = None
                             ) -> dict:
        with self.emitting() as emit:
            entry = other_hours.withdraw(self.db, member_no, entry_id, emit, by=by)
        return other_hours.entry_view(entry)

    @rpc
    def import_study_hours(self, rows: list, by: str | None = None) -> dict:
        """A chunk of study-hour file rows: `{"row": N, "member_no", "year", "hours",
        "source", "title", "on"}` (text) → `{"kept", "bad": [{"row", "field", "reason"}],
        "changed"}`."""
        with self.emitting() as emit:
            return other_hours.import_entries(self.db, _rows(rows), emit, by=by)


def _rows(rows) -> list[dict]:
    _check_rows(rows)
    return [{k: ("" if v is None else str(v).strip()) if k != "row" else v
             for k, v in r.items()} for r in rows]


def _check_rows(rows, columns=None) -> None:
    """The shape of an import's rows (the rules check the values)."""
    shape = list if columns is not None else dict
    if columns is not None and (not isinstance(columns, list) or not all(
            isinstance(c, str) for c in columns)):
        raise InvalidInput("columns must be a list of field names",
                           errors={"columns": ["not a list of names"]})
    if not isinstance(rows, list) or not all(isinstance(r, shape) for r in rows):
        raise InvalidInput(f"rows must be a list of {'lists' if columns else 'objects'}",
                           errors={"rows": ["not a list"]})
    if len(rows) > schemas.MAX_IMPORT_ROWS:
        raise InvalidInput("too many rows in one call", errors={"rows": [
            f"at most {schemas.MAX_IMPORT_ROWS}; send the file in chunks"]})


def _split_columns(rows, columns, separator) -> list[tuple]:
    """The rows of a column-wise chunk, each a tuple (row number, field, …)."""
    if not isinstance(rows, list) or not all(isinstance(n, int) for n in rows):
        raise InvalidInput("rows must be the row numbers", errors={"rows": ["not a list of "
                                                                            "numbers"]})
    if len(rows) > schemas.MAX_IMPORT_ROWS:
        raise InvalidInput("too many rows in one call", errors={"rows": [
            f"at most {schemas.MAX_IMPORT_ROWS}; send the file in chunks"]})
    if not isinstance(separator, str) or len(separator) != 1:
        raise InvalidInput("the separator is one character", errors={"separator": ["not one "
                                                                                   "character"]})
    if not isinstance(columns, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in columns.items()):
        raise InvalidInput("columns must map field names to text",
                           errors={"columns": ["not an object of texts"]})
    if not rows:
        return []
    split = []
    for field, text in columns.items():
        values = text.split(separator)
        if len(values) != len(rows):
            raise InvalidInput("a column does not have a value for every row", errors={
                f"columns.{field}": [f"{len(values)} values for {len(rows)} rows"]})
        split.append(values)
    return list(zip(rows, *split, strict=True))


def _recorded(entry, flags) -> dict:
    return {"recorded": entry is not None,
            "entry": views.entry_view(entry) if entry is not None else None,
            "flags": [views.flag_view(f) for f in flags]}
