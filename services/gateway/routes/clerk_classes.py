"""The clerk's class pages (DESIGN §4 "The clerk's pages"): `/admin/classes/new`, and
`/admin/classes/{id}/edit` where a class is built from the catalogue (the two-thirds ratio
shown as each session is added), published, cancelled and completed.

Who may: a district_admin any class; a committee_admin or org_admin the classes organised by
its organisation or one below it, and programs of those (as the API's `may_organise`). The
pages call the RPCs the API routes call; a refusal is the page again with the rule in Chinese
and what was typed kept.
"""

from datetime import date, time

from services.contracts import vocabulary
from services.kit import clock
from services.kit.errors import DomainError, Forbidden, InvalidInput, NotFound

from ..http import http
from ..pages import classes as views
from .pages import Caller, PagesRoutes, html, page, redirect, year_of
from .scheduling import class_warnings, session_warnings

CATALOGUE_PAGE = 200
CATALOGUE_PAGES = 10         # at most 2,000 items of each kind in a select
SHANGHAI_OFFSET = "+08:00"   # the district's clock: times typed on a page are Shanghai's
REFUSED = (409, 422)         # a rule or the input: the page again, saying why


def refused(exc: DomainError) -> dict:
    """A refusal as its page shows it."""
    return {**exc.info, "status": exc.status, "detail": exc.message,
            "title": "未能保存：" if exc.status == 422 else "未能办理："}


def _date(fields: dict, name: str, errors: dict) -> date | None:
    try:
        return date.fromisoformat(fields.get(name, "").strip())
    except ValueError:
        errors[name] = ["请选择日期"]
        return None


def _time(fields: dict, name: str, errors: dict) -> time | None:
    try:
        return time.fromisoformat(fields.get(name, "").strip())
    except ValueError:
        errors[name] = ["请填写时间，如 09:00"]
        return None


def _whole(fields: dict, name: str, errors: dict, low: int = 0) -> int | None:
    try:
        value = int(fields.get(name, "").strip())
    except ValueError:
        errors[name] = ["请填写整数"]
        return None
    if value < low:
        errors[name] = [f"不能小于 {low}"]
    return value


def class_changes(fields: dict, track: str, fixed: bool) -> dict:
    """A class form as scheduling's fields; `fixed`: published, so the audience and the
    delivery are not sent (they no longer change). Checked here first, in Chinese."""
    errors = {}
    title = fields.get("title", "").strip()
    if not title:
        errors["title"] = ["请填写班次名称"]
    start, end = _date(fields, "start_date", errors), _date(fields, "end_date", errors)
    if start and end and end < start:
        errors["end_date"] = ["结束日期不能早于开始日期"]
    capacity = _whole(fields, "offline_capacity", errors)
    changes = {"title": title, "offline_capacity": capacity,
               "start_date": start.isoformat() if start else None,
               "end_date": end.isoformat() if end else None,
               "review_nominations": fields.get("review_nominations") == "true"}
    if fields.get("online_open") in ("true", "false"):
        changes["online_open"] = fields["online_open"] == "true"
    if not fixed:
        delivery = fields.get("delivery")
        if delivery not in vocabulary.DELIVERIES:
            errors["delivery"] = ["请选择培训方式"]
        changes["delivery"] = delivery
        kept = ("category",) if track == "members" else ("module", "sector")
        changes["audience"] = {key: fields.get(key) or None for key in kept}
    if errors:
        raise InvalidInput("the form has mistakes", errors=errors)
    return changes


def session_input(fields: dict) -> dict:
    """The add-session form as scheduling's SessionIn: a catalogue course, Shanghai times, a
    catalogue classroom or site, an instructor (else the course's own)."""
    errors = {}
    if not fields.get("course_id"):
        errors["course_id"] = ["请选择课程库中的课程"]
    day = _date(fields, "day", errors)
    starts, ends = _time(fields, "starts", errors), _time(fields, "ends", errors)
    if starts and ends and ends <= starts:
        errors["ends_at"] = ["结束时间须晚于开始时间"]
    session = {"course_id": fields.get("course_id")}
    kind, _, place_id = fields.get("place", "").partition(":")
    if kind in ("venue", "site") and place_id:
        session[f"{kind}_id"] = place_id
    elif fields.get("place"):
        errors["place"] = ["请从列表中选择地点"]
    if fields.get("instructor_id"):
        session["instructor_id"] = fields["instructor_id"]
    if fields.get("hours", "").strip():
        try:
            session["hours"] = float(fields["hours"])
        except ValueError:
            errors["hours"] = ["请填写数字，如 1.5"]
    if errors:
        raise InvalidInput("the form has mistakes", errors=errors)
    session["starts_at"] = f"{day.isoformat()}T{starts:%H:%M}:00{SHANGHAI_OFFSET}"
    session["ends_at"] = f"{day.isoformat()}T{ends:%H:%M}:00{SHANGHAI_OFFSET}"
    return session


def reschedule_input(fields: dict) -> dict:
    """The 调课 form as scheduling's RescheduleIn: the new day and Shanghai times; a place
    chosen replaces the old one, none keeps it."""
    errors = {}
    day = _date(fields, "day", errors)
    starts, ends = _time(fields, "starts", errors), _time(fields, "ends", errors)
    if starts and ends and ends <= starts:
        errors["ends_at"] = ["结束时间须晚于开始时间"]
    changes = {"reason": fields.get("reason", "").strip() or None}
    kind, _, place_id = fields.get("place", "").partition(":")
    if kind in ("venue", "site") and place_id:
        # The other kind of place goes: a session is held in a classroom or at a site.
        changes.update({"venue_id": None, "site_id": None, f"{kind}_id": place_id})
    elif fields.get("place"):
        errors["place"] = ["请从列表中选择地点"]
    if errors:
        raise InvalidInput("the form has mistakes", errors=errors)
    changes["starts_at"] = f"{day.isoformat()}T{starts:%H:%M}:00{SHANGHAI_OFFSET}"
    changes["ends_at"] = f"{day.isoformat()}T{ends:%H:%M}:00{SHANGHAI_OFFSET}"
    return changes


def a_reason(fields: dict) -> str:
    reason = fields.get("reason", "").strip()
    if not reason:
        raise InvalidInput("a reason is required", errors={"reason": ["请填写取消原因"]})
    return reason


def program_input(fields: dict) -> dict:
    errors = {}
    year = _whole(fields, "year", errors, low=2018)
    target = _whole(fields, "target_person_times", errors)
    if fields.get("track") not in vocabulary.TRACKS:
        errors["track"] = ["请选择培训类别"]
    if not fields.get("name", "").strip():
        errors["name"] = ["请填写项目名称"]
    if not fields.get("organiser_org_code", "").strip():
        errors["organiser_org_code"] = ["请填写主办单位的组织编码"]
    if errors:
        raise InvalidInput("the form has mistakes", errors=errors)
    return {"year": year, "track": fields["track"], "name": fields["name"].strip(),
            "organiser_org_code": fields["organiser_org_code"].strip(),
            "target_person_times": target}


class ClerkClassRoutes(PagesRoutes):
    # Helpers are named clerk_* so that none stands in for another mixin's method.

    def clerk_may_organise(self, caller: Caller, org_code: str) -> None:
        """A district_admin anything; a unit its own organisation and those below it."""
        if caller.within is None:
            return
        try:
            ancestors = self.enrollment.org_ancestors(org_code)
        except NotFound:
            ancestors = []   # an organisation nobody knows is in nobody's subtree
        if caller.within not in ancestors:
            raise Forbidden(f"{org_code} is outside the subtree of {caller.within}",
                            rule="subtree")

    def clerk_class(self, caller: Caller, class_id: str) -> dict:
        """The class (drafts too), once the caller is found to organise it."""
        klass = self.scheduling.get_class(class_id)
        self.clerk_may_organise(caller, klass["organiser_org_code"])
        return klass

    def clerk_programs(self, caller: Caller, year: int) -> tuple[list[dict], dict]:
        """The year's programs the caller may put classes in, and their organisers' names."""
        programs = []
        for number in range(1, CATALOGUE_PAGES + 1):
            answer = self.scheduling.list_programs(year=year, page=number,
                                                   per_page=CATALOGUE_PAGE)
            programs += answer["items"]
            if len(programs) >= answer["total"] or not answer["items"]:
                break
        orgs = self.page_organisations({p["organiser_org_code"] for p in programs})
        mine = [p for p in programs if caller.within is None or (
            orgs.get(p["organiser_org_code"]) and
            caller.within in orgs[p["organiser_org_code"]]["ancestors"])]
        return mine, {code: org["name"] for code, org in orgs.items() if org}

    def clerk_drafts(self, year: int, programs: list[dict]) -> list[dict]:
        """The year's unpublished classes of these programs, to go on building."""
        ids = {p["program_id"] for p in programs}
        answer = self.scheduling.list_classes(year=year, status="draft", include_drafts=True,
                                              per_page=CATALOGUE_PAGE)
        return [c for c in answer["items"] if c["program_id"] in ids]

    def clerk_catalogue(self) -> dict:
        def every(call):
            items = []
            for number in range(1, CATALOGUE_PAGES + 1):
                answer = call(page=number, per_page=CATALOGUE_PAGE)
                items += answer["items"]
                if len(items) >= answer["total"] or not answer["items"]:
                    break
            return items
        return {"courses": every(self.scheduling.list_courses),
                "venues": every(self.scheduling.list_venues),
                "sites": every(self.scheduling.list_sites),
                "instructors": every(self.scheduling.list_instructors)}

    # -- a new class ------------------------------------------------------------------------

    def clerk_new_page(self, caller: Caller, year: int, values: dict,
                       problem: dict | None = None, notice: str | None = None):
        programs, organisers = self.clerk_programs(caller, year)
        drafts = self.clerk_drafts(year, programs)
        # A unit's programs are its own organisation's; the district names the organiser.
        choices = self.page_org_choices(caller) if caller.within is None else []
        return html(views.new_class(caller.principal, caller.csrf, year, programs, organisers,
                                    drafts, values, problem, caller.within, notice, choices),
                    status=problem["status"] if problem else 200)

    @http("GET", "/admin/classes/new", document=False)
    @page
    def admin_new_class(self, request):
        caller = self.page_caller(request)
        caller.principal.require(*vocabulary.ADMIN_ROLES)
        values = {"program_id": request.args.get("program_id", "")}
        return self.clerk_new_page(caller, year_of(request.args), values,
                                   notice=views.DONE.get(request.args.get("done", "")))

    @http("POST", "/admin/classes/new", document=False)
    @page
    def admin_create_class(self, request):
        caller, fields = self.page_form(request)
        year = year_of(fields)
        try:
            program = self.scheduling.get_program(fields.get("program_id") or "")
        except NotFound:
            return self.clerk_new_page(caller, year, fields, {
                "status": 422, "title": "未能保存：",
                "errors": {"program_id": ["请选择培训项目"]}})
        self.clerk_may_organise(caller, program["organiser_org_code"])
        try:
            payload = class_changes(fields, program["track"], fixed=False)
            created = self.scheduling.create_class({**payload, "program_id":
                                                    program["program_id"]})
        except DomainError as exc:
            if exc.status not in REFUSED:
                raise
            return self.clerk_new_page(caller, program["year"], fields, refused(exc))
        return redirect(f"/admin/classes/{created['class_id']}/edit?done=created")

    @http("POST", "/admin/programs/new", document=False)
    @page
    def admin_create_program(self, request):
        caller, fields = self.page_form(request)
        if caller.within is not None:   # a unit's program is its own organisation's
            fields["organiser_org_code"] = caller.within
        year = year_of(fields)
        try:
            payload = program_input(fields)
            self.clerk_may_organise(caller, payload["organiser_org_code"])
            created = self.scheduling.create_program(payload)
        except DomainError as exc:
            if exc.status not in REFUSED:
                raise
            return self.clerk_new_page(caller, year, fields, refused(exc))
        return redirect(f"/admin/classes/new?year={created['year']}"
                        f"&program_id={created['program_id']}&done=program_created")

    # -- a class being built or run ------------------------------------------------------------

    def clerk_editor(self, caller: Caller, klass: dict, values: dict | None = None,
                     problem: dict | None = None, notice: str | None = None,
                     warnings: list[dict] | None = None):
        program = self.scheduling.get_program(klass["program_id"])
        organiser = self.page_organisations([klass["organiser_org_code"]]).get(
            klass["organiser_org_code"])
        shown = {**views.editor_values(klass), **(values or {})}
        return html(views.class_editor(
            caller.principal, caller.csrf, klass, program,
            organiser["name"] if organiser else klass["organiser_org_code"],
            self.clerk_catalogue(), shown, problem, notice,
            clock.local(clock.now()).isoformat(), warnings),
            status=problem["status"] if problem else 200)

    def clerk_act(self, request, class_id: str | None, act, done: str,
                  session_id: str | None = None, warned=None):
        """A form's change of the class (or of the class of `session_id`): the editor again on
        a refusal, else back to it. `warned`, for a completion: the warnings it gives, asked
        before the change; when there are any the editor says them at once, with the change
        done, instead of going back."""
        caller, fields = self.page_form(request)
        class_id = class_id or self.scheduling.get_session(session_id)["class_id"]
        klass = self.clerk_class(caller, class_id)
        try:
            warnings = warned(klass) if warned else []
            act(klass, fields)
        except DomainError as exc:
            if exc.status not in REFUSED:
                raise
            return self.clerk_editor(caller, self.scheduling.get_class(class_id), fields,
                                     refused(exc))
        if warnings:
            return self.clerk_editor(caller, self.scheduling.get_class(class_id),
                                     notice=views.DONE[done], warnings=warnings)
        return redirect(f"/admin/classes/{class_id}/edit?done={done}")

    @http("GET", "/admin/classes/<string:class_id>/edit", document=False)
    @page
    def admin_edit_class(self, request, class_id):
        caller = self.page_caller(request)
        return self.clerk_editor(caller, self.clerk_class(caller, class_id),
                                 notice=views.DONE.get(request.args.get("done", "")))

    @http("POST", "/admin/classes/<string:class_id>/edit", document=False)
    @page
    def admin_save_class(self, request, class_id):
        def save(klass, fields):
            changes = class_changes(fields, klass["track"], fixed=klass["status"] != "draft")
            self.scheduling.update_class(class_id, changes)
        return self.clerk_act(request, class_id, save, "saved")

    @http("POST", "/admin/classes/<string:class_id>/sessions", document=False)
    @page
    def admin_add_session(self, request, class_id):
        return self.clerk_act(request, class_id, lambda klass, fields: self.scheduling
                              .add_session(class_id, session_input(fields)), "session_added")

    @http("POST", "/admin/sessions/<string:session_id>/remove", document=False)
    @page
    def admin_remove_session(self, request, session_id):
        return self.clerk_act(request, None, lambda klass, fields: self.scheduling
                              .remove_session(session_id), "session_removed",
                              session_id=session_id)

    @http("POST", "/admin/classes/<string:class_id>/publish", document=False)
    @page
    def admin_publish_class(self, request, class_id):
        return self.clerk_act(request, class_id, lambda klass, fields: self.scheduling
                              .publish_class(class_id), "published")

    @http("POST", "/admin/classes/<string:class_id>/cancel", document=False)
    @page
    def admin_cancel_class(self, request, class_id):
        return self.clerk_act(request, class_id, lambda klass, fields: self.scheduling
                              .cancel_class(class_id, a_reason(fields)), "cancelled")

    @http("POST", "/admin/classes/<string:class_id>/complete", document=False)
    @page
    def admin_complete_class(self, request, class_id):
        def warned(klass):   # as the API's completion: from the held sessions' attendance
            held = [s["session_id"] for s in klass["sessions"] if s["status"] == "completed"]
            return class_warnings(self.attendance_sheets(held))
        return self.clerk_act(request, class_id, lambda klass, fields: self.scheduling
                              .complete_class(class_id), "completed", warned=warned)

    # -- a published class's sessions: moved, cancelled, held -----------------------------------

    @http("POST", "/admin/sessions/<string:session_id>/reschedule", document=False)
    @page
    def admin_reschedule_session(self, request, session_id):
        return self.clerk_act(request, None, lambda klass, fields: self.scheduling
                              .reschedule_session(session_id, reschedule_input(fields)),
                              "session_rescheduled", session_id=session_id)

    @http("POST", "/admin/sessions/<string:session_id>/cancel", document=False)
    @page
    def admin_cancel_session(self, request, session_id):
        return self.clerk_act(request, None, lambda klass, fields: self.scheduling
                              .cancel_session(session_id, a_reason(fields)),
                              "session_cancelled", session_id=session_id)

    @http("POST", "/admin/sessions/<string:session_id>/complete", document=False)
    @page
    def admin_complete_session(self, request, session_id):
        def warned(klass):   # as the API's completion: from the session's attendance
            sheets = self.attendance_sheets([session_id])
            return session_warnings(sheets[0] if sheets else None)
        return self.clerk_act(request, None, lambda klass, fields: self.scheduling
                              .complete_session(session_id), "session_completed",
                              session_id=session_id, warned=warned)
