"""Programs, the catalogue, classes, sessions and calendars over HTTP.

Every role may read them (people need them to nominate); drafts are shown only to the roles
that can write. Programs, classes and sessions are written by a district_admin, or by a
committee_admin or org_admin for what its organisation or one below it organises (units run
their own training, DESIGN §1); the catalogue, shared by everyone, by a district_admin.
"""

from nameko.exceptions import UnknownService
from werkzeug.wrappers import Response

from services.contracts.commands import scheduling as S
from services.contracts.vocabulary import ROLES_WITH_ORG
from services.kit import ServiceRpc
from services.kit.errors import Forbidden, NotFound
from services.kit.rpc import RpcTimeout
from services.kit.validation import load

from ..http import http, json_body, json_response, optional_json_body
from ..schemas import ClassListQuery
from .base import WRITERS, RoutesBase

DRAFT_READERS = WRITERS + ROLES_WITH_ORG
CALENDAR = "text/calendar; charset=utf-8"
ICS = {"text/calendar": {"type": "string"}}
# What may change of a class: any of its fields, each optional (scheduling loads it partial).
ClassChanges = S.ClassChanges(partial=True)
# Seconds a completion waits for enrollment to say whose attendance is recorded.
ATTENDANCE_TIMEOUT = 5.0
RECORDED = ("present", "online", "leave")   # what completing a session leaves as it is
ATTENDED = ("present", "online")            # what counts toward completing a class


def session_warnings(sheet: dict | None) -> list[dict]:
    """What completing a session will do that its organiser may not expect, from enrollment's
    attendance sheet of it (None: enrollment did not answer)."""
    if sheet is None:
        return [{"code": "attendance_unchecked",
                 "message": "未能向报名服务核对考勤：课次结束后，"
                            "没有考勤记录的已报名人员将记为缺勤。"}]
    enrolled = sheet["total"]
    if enrolled and not any(sheet["counts"].get(status) for status in RECORDED):
        return [{"code": "no_attendance_recorded", "enrolled": enrolled,
                 "message": f"本课次尚无任何出席、线上学习或请假记录：课次结束后，"
                            f"已报名的 {enrolled} 人将全部记为缺勤。"}]
    return []


def class_warnings(sheets: list[dict] | None) -> list[dict]:
    """The same for closing a class, from the sheets of its held sessions."""
    if sheets is None:
        return [{"code": "attendance_unchecked",
                 "message": "未能向报名服务核对考勤：结业时，"
                            "学时不足的已报名人员将记为未达结业要求。"}]
    enrolled = max((sheet["total"] for sheet in sheets), default=0)
    if enrolled and not any(sheet["counts"].get(status)
                            for sheet in sheets for status in ATTENDED):
        return [{"code": "no_attendance_recorded", "enrolled": enrolled,
                 "message": f"本班次没有任何人出席或线上学习的记录：结业后，"
                            f"已报名的 {enrolled} 人将全部记为未达结业要求。"}]
    return []


def calendar_response(text: str, filename: str) -> Response:
    return Response(text, status=200, content_type=CALENDAR,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


class SchedulingRoutes(RoutesBase):
    enrollment_brief = ServiceRpc("enrollment", timeout=ATTENDANCE_TIMEOUT)

    def may_organise(self, request, org_code: str | None = None, **owner) -> None:
        """A district_admin; a committee_admin or org_admin when the organiser organisation
        (given, or looked up from `program_id`, `class_id` or `session_id`) is its own or one
        below it."""
        principal = self.principal(request)
        if principal.role in WRITERS:
            return
        if principal.role not in ROLES_WITH_ORG or not principal.org_code:
            raise Forbidden(f"the {principal.role} role does not organise training",
                            rule="role")
        if org_code is None:
            org_code = self.scheduling.organiser_of(**owner)["organiser_org_code"]
        if org_code == principal.org_code or principal.org_code in self.ancestors(org_code):
            return
        raise Forbidden(f"{org_code} is outside the subtree of {principal.org_code}: a "
                        f"{principal.role} organises training there only", rule="subtree")

    def ancestors(self, org_code: str) -> list[str]:
        try:
            return self.enrollment.org_ancestors(org_code)
        except NotFound:
            return []   # an organisation nobody knows is in nobody's subtree

    def reads_drafts(self, request) -> bool:
        return self.principal(request).role in DRAFT_READERS

    # -- programs ----------------------------------------------------------------------------

    @http("GET", "/api/v1/programs", query=S.ProgramQuery, page=True, tag="programs")
    def list_programs(self, request):
        """The programs."""
        self.principal(request)
        return self.scheduling.list_programs(**request.args.to_dict())

    @http("POST", "/api/v1/programs", body=S.ProgramIn, created=True, tag="programs")
    def create_program(self, request):
        """Create a program: an organiser's training of one track in one year."""
        body = json_body(request)
        load(S.ProgramIn(), body)   # bad input is a 422 whoever asks, before whose it is
        self.may_organise(request, org_code=str(body.get("organiser_org_code")))
        created = self.scheduling.create_program(body)
        return json_response(created, status=201,
                             headers={"Location": f"/api/v1/programs/{created['program_id']}"})

    @http("GET", "/api/v1/programs/<string:program_id>", tag="programs")
    def get_program(self, request, program_id):
        """A program."""
        self.principal(request)
        return self.scheduling.get_program(program_id)

    @http("PATCH", "/api/v1/programs/<string:program_id>", body=S.ProgramChanges,
          tag="programs")
    def update_program(self, request, program_id):
        """Change a program's name or target."""
        body = json_body(request)
        self.may_organise(request, program_id=program_id)
        return self.scheduling.update_program(program_id, body)

    # -- the catalogue ------------------------------------------------------------------------

    @http("POST", "/api/v1/catalogue/seed", tag="catalogue")
    def seed_catalogue(self, request):
        """Load the standard catalogue of courses, instructors, venues and sites."""
        self.principal(request).require(*WRITERS)
        return self.scheduling.seed_catalogue()

    @http("PATCH", "/api/v1/courses/<string:course_id>", body=S.CourseChanges, tag="catalogue")
    def update_course(self, request, course_id):
        """Sessions already scheduled keep the copy they were scheduled with."""
        self.principal(request).require(*WRITERS)
        return self.scheduling.update_course(course_id, json_body(request))

    @http("GET", "/api/v1/courses", query=S.CourseQuery, page=True, tag="catalogue")
    def list_courses(self, request):
        """The catalogue's courses."""
        self.principal(request)
        return self.scheduling.list_courses(**request.args.to_dict())

    @http("POST", "/api/v1/courses", body=S.CourseIn, created=True, tag="catalogue")
    def create_course(self, request):
        """Add a course to the catalogue."""
        self.principal(request).require(*WRITERS)
        return json_response(self.scheduling.create_course(json_body(request)), status=201)

    @http("PATCH", "/api/v1/instructors/<string:instructor_id>", body=S.InstructorChanges,
          tag="catalogue")
    def update_instructor(self, request, instructor_id):
        """Sessions already scheduled keep the copy they were scheduled with."""
        self.principal(request).require(*WRITERS)
        return self.scheduling.update_instructor(instructor_id, json_body(request))

    @http("GET", "/api/v1/instructors", query=S.InstructorQuery, page=True,
          tag="catalogue")
    def list_instructors(self, request):
        """The catalogue's instructors."""
        self.principal(request)
        return self.scheduling.list_instructors(**request.args.to_dict())

    @http("POST", "/api/v1/instructors", body=S.InstructorIn, created=True,
          tag="catalogue")
    def create_instructor(self, request):
        """Add an instructor to the catalogue."""
        self.principal(request).require(*WRITERS)
        return json_response(self.scheduling.create_instructor(json_body(request)), status=201)

    @http("PATCH", "/api/v1/venues/<string:venue_id>", body=S.VenueChanges, tag="catalogue")
    def update_venue(self, request, venue_id):
        """Sessions already scheduled keep the copy they were scheduled with."""
        self.principal(request).require(*WRITERS)
        return self.scheduling.update_venue(venue_id, json_body(request))

    @http("GET", "/api/v1/venues", query=S.PageIn, page=True, tag="catalogue")
    def list_venues(self, request):
        """The catalogue's venues."""
        self.principal(request)
        return self.scheduling.list_venues(**request.args.to_dict())

    @http("POST", "/api/v1/venues", body=S.VenueIn, created=True, tag="catalogue")
    def create_venue(self, request):
        """Add a venue to the catalogue."""
        self.principal(request).require(*WRITERS)
        return json_response(self.scheduling.create_venue(json_body(request)), status=201)

    @http("PATCH", "/api/v1/sites/<string:site_id>", body=S.SiteChanges, tag="catalogue")
    def update_site(self, request, site_id):
        """Sessions already scheduled keep the copy they were scheduled with."""
        self.principal(request).require(*WRITERS)
        return self.scheduling.update_site(site_id, json_body(request))

    @http("GET", "/api/v1/sites", query=S.SiteQuery, page=True, tag="catalogue")
    def list_sites(self, request):
        """The catalogue's sites."""
        self.principal(request)
        return self.scheduling.list_sites(**request.args.to_dict())

    @http("POST", "/api/v1/sites", body=S.SiteIn, created=True, tag="catalogue")
    def create_site(self, request):
        """Add a site for onsite teaching to the catalogue."""
        self.principal(request).require(*WRITERS)
        return json_response(self.scheduling.create_site(json_body(request)), status=201)

    # -- classes ------------------------------------------------------------------------------

    @http("GET", "/api/v1/classes", query=ClassListQuery, page=True, tag="classes")
    def list_classes(self, request):
        """Filters `year`, `track`, `status`, `organiser_org_code`, `program_id`; `page`,
        `per_page`."""
        query = {**request.args.to_dict(), "include_drafts": self.reads_drafts(request)}
        return self.scheduling.list_classes(**query)

    @http("POST", "/api/v1/classes", body=S.ClassIn, created=True, tag="classes")
    def create_class(self, request):
        """Create a class of a program, with its sessions (`publish`: publish it too)."""
        body = json_body(request)
        load(S.ClassIn(), body)
        self.may_organise(request, program_id=str(body.get("program_id") or ""))
        created = self.scheduling.create_class(body)
        return json_response(created, status=201,
                             headers={"Location": f"/api/v1/classes/{created['class_id']}"})

    @http("GET", "/api/v1/classes/<string:class_id>", tag="classes")
    def get_class(self, request, class_id):
        """A class with its sessions."""
        return self.scheduling.get_class(class_id, include_drafts=self.reads_drafts(request))

    @http("PATCH", "/api/v1/classes/<string:class_id>", body=ClassChanges, tag="classes")
    def update_class(self, request, class_id):
        """Change a class."""
        body = json_body(request)
        self.may_organise(request, class_id=class_id)
        return self.scheduling.update_class(class_id, body)

    @http("POST", "/api/v1/classes/<string:class_id>/publish", tag="classes")
    def publish_class(self, request, class_id):
        """Publish a draft class: it then takes nominations."""
        self.may_organise(request, class_id=class_id)
        return self.scheduling.publish_class(class_id)

    @http("POST", "/api/v1/classes/<string:class_id>/cancel", body=S.ReasonIn,
          body_required=False, tag="classes")
    def cancel_class(self, request, class_id):
        """Cancel a class, with a reason."""
        body = optional_json_body(request)
        self.may_organise(request, class_id=class_id)
        return self.scheduling.cancel_class(class_id, body.get("reason"))

    @http("POST", "/api/v1/classes/<string:class_id>/complete", tag="classes")
    def complete_class(self, request, class_id):
        """Closes the class once every session is held or cancelled. `warnings` says when
        nobody attended: everyone enrolled will then be 未达结业要求."""
        self.may_organise(request, class_id=class_id)
        held = [s["session_id"] for s in self.scheduling.get_class(class_id)["sessions"]
                if s["status"] == "completed"]
        warnings = class_warnings(self.attendance_sheets(held))
        return {**self.scheduling.complete_class(class_id), "warnings": warnings}

    @http("POST", "/api/v1/classes/<string:class_id>/sessions", body=S.SessionIn,
          created=True, tag="sessions")
    def add_session(self, request, class_id):
        """Add a session to a class."""
        body = json_body(request)
        self.may_organise(request, class_id=class_id)
        return json_response(self.scheduling.add_session(class_id, body), status=201)

    # -- sessions -----------------------------------------------------------------------------

    @http("GET", "/api/v1/sessions/<string:session_id>", tag="sessions")
    def get_session(self, request, session_id):
        """A session."""
        self.principal(request)
        return self.scheduling.get_session(session_id)

    @http("PUT", "/api/v1/sessions/<string:session_id>", body=S.SessionIn, tag="sessions")
    def replace_session(self, request, session_id):
        """Replace a session of a draft class."""
        body = json_body(request)
        self.may_organise(request, session_id=session_id)
        return self.scheduling.replace_session(session_id, body)

    @http("DELETE", "/api/v1/sessions/<string:session_id>", tag="sessions")
    def remove_session(self, request, session_id):
        """Remove a session from a draft class."""
        self.may_organise(request, session_id=session_id)
        return self.scheduling.remove_session(session_id)

    @http("POST", "/api/v1/sessions/<string:session_id>/reschedule", body=S.RescheduleIn,
          tag="sessions")
    def reschedule_session(self, request, session_id):
        """Move a session to new times (and a new place or instructor)."""
        body = json_body(request)
        self.may_organise(request, session_id=session_id)
        return self.scheduling.reschedule_session(session_id, body)

    @http("POST", "/api/v1/sessions/<string:session_id>/cancel", body=S.ReasonIn,
          body_required=False, tag="sessions")
    def cancel_session(self, request, session_id):
        """Cancel a session of a published class, with a reason."""
        body = optional_json_body(request)
        self.may_organise(request, session_id=session_id)
        return self.scheduling.cancel_session(session_id, body.get("reason"))

    @http("POST", "/api/v1/sessions/<string:session_id>/complete", tag="sessions")
    def complete_session(self, request, session_id):
        """Marks the session held, once it has ended (`session_not_ended` before). `warnings`
        says when nobody's attendance is recorded: everyone enrolled will then be absent."""
        self.may_organise(request, session_id=session_id)
        sheets = self.attendance_sheets([session_id])
        warnings = session_warnings(sheets[0] if sheets else None)
        return {**self.scheduling.complete_session(session_id), "warnings": warnings}

    def attendance_sheets(self, session_ids: list[str]) -> list[dict] | None:
        """Enrollment's attendance counts of the sessions (a session it has not heard of has
        nobody enrolled), or None when it does not answer in time."""
        sheets = []
        try:
            for session_id in session_ids:
                try:
                    sheets.append(self.enrollment_brief.session_attendance(
                        session_id, {"per_page": 1}))
                except NotFound:
                    sheets.append({"total": 0, "counts": {}})
        except (RpcTimeout, UnknownService):
            return None
        return sheets

    # -- calendars ----------------------------------------------------------------------------

    @http("GET", "/api/v1/calendars/classes/<string:class_id>.ics", produces=ICS,
          tag="calendars")
    def class_calendar(self, request, class_id):
        """The class's sessions as an iCalendar file."""
        text = self.scheduling.class_calendar(class_id, include_drafts=self.reads_drafts(request))
        return calendar_response(text, f"class-{class_id}.ics")

    @http("GET", "/api/v1/calendars/venues/<string:venue_id>.ics", produces=ICS,
          tag="calendars")
    def venue_calendar(self, request, venue_id):
        """A venue's sessions as an iCalendar file."""
        self.principal(request)
        return calendar_response(self.scheduling.venue_calendar(venue_id),
                                 f"venue-{venue_id}.ics")

    @http("GET", "/api/v1/calendars/sites/<string:site_id>.ics", produces=ICS,
          tag="calendars")
    def site_calendar(self, request, site_id):
        """A site's visits as an iCalendar file."""
        self.principal(request)
        return calendar_response(self.scheduling.site_calendar(site_id), f"site-{site_id}.ics")

    @http("GET", "/api/v1/calendars/instructors/<string:instructor_id>.ics",
          produces=ICS, tag="calendars")
    def instructor_calendar(self, request, instructor_id):
        """An instructor's sessions as an iCalendar file."""
        self.principal(request)
        return calendar_response(self.scheduling.instructor_calendar(instructor_id),
                                 f"instructor-{instructor_id}.ics")
