"""Programs, the catalogue, classes, sessions and calendars over HTTP.

Every role may read them (people need them to nominate); drafts are shown only to the roles
that can write. Writes need a district_admin, or a committee_admin acting for a program or a
class that their own organisation organises.
"""

from werkzeug.wrappers import Response

from services.contracts.commands import scheduling as S
from services.kit.errors import Forbidden

from ..http import http, json_body, json_response, optional_json_body
from ..schemas import ClassListQuery
from .base import WRITERS, RoutesBase

DRAFT_READERS = WRITERS + ("committee_admin",)
CALENDAR = "text/calendar; charset=utf-8"
ICS = {"text/calendar": {"type": "string"}}
# What may change of a class: any of its fields, each optional (scheduling loads it partial).
ClassChanges = S.ClassFields(partial=True)


def calendar_response(text: str, filename: str) -> Response:
    return Response(text, status=200, content_type=CALENDAR,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


class SchedulingRoutes(RoutesBase):
    def may_organise(self, request, org_code: str | None = None, **owner) -> None:
        """A district_admin, or a committee_admin of the organiser organisation (given, or
        looked up from `program_id`, `class_id` or `session_id`)."""
        principal = self.principal(request)
        if principal.role in WRITERS:
            return
        if principal.role == "committee_admin" and principal.org_code:
            if org_code is None:
                org_code = self.scheduling.organiser_of(**owner)["organiser_org_code"]
            if org_code == principal.org_code:
                return
        raise Forbidden(f"the {principal.role} role may not change what "
                        f"{org_code or 'another organisation'} organises", rule="role")

    def reads_drafts(self, request) -> bool:
        return self.principal(request).role in DRAFT_READERS

    # -- programs ----------------------------------------------------------------------------

    @http("GET", "/api/v1/programs", query=S.ProgramQuery, page=True, tag="programs")
    def list_programs(self, request):
        self.principal(request)
        return self.scheduling.list_programs(**request.args.to_dict())

    @http("POST", "/api/v1/programs", body=S.ProgramIn, created=True, tag="programs")
    def create_program(self, request):
        body = json_body(request)
        self.may_organise(request, org_code=str(body.get("organiser_org_code")))
        created = self.scheduling.create_program(body)
        return json_response(created, status=201,
                             headers={"Location": f"/api/v1/programs/{created['program_id']}"})

    @http("GET", "/api/v1/programs/<string:program_id>", tag="programs")
    def get_program(self, request, program_id):
        self.principal(request)
        return self.scheduling.get_program(program_id)

    @http("PATCH", "/api/v1/programs/<string:program_id>", body=S.ProgramChanges,
          tag="programs")
    def update_program(self, request, program_id):
        body = json_body(request)
        self.may_organise(request, program_id=program_id)
        return self.scheduling.update_program(program_id, body)

    # -- the catalogue ------------------------------------------------------------------------

    @http("POST", "/api/v1/catalogue/seed", tag="catalogue")
    def seed_catalogue(self, request):
        self.principal(request).require(*WRITERS)
        return self.scheduling.seed_catalogue()

    @http("GET", "/api/v1/courses", query=S.CourseQuery, page=True, tag="catalogue")
    def list_courses(self, request):
        self.principal(request)
        return self.scheduling.list_courses(**request.args.to_dict())

    @http("POST", "/api/v1/courses", body=S.CourseIn, created=True, tag="catalogue")
    def create_course(self, request):
        self.principal(request).require(*WRITERS)
        return json_response(self.scheduling.create_course(json_body(request)), status=201)

    @http("GET", "/api/v1/instructors", query=S.InstructorQuery, page=True,
          tag="catalogue")
    def list_instructors(self, request):
        self.principal(request)
        return self.scheduling.list_instructors(**request.args.to_dict())

    @http("POST", "/api/v1/instructors", body=S.InstructorIn, created=True,
          tag="catalogue")
    def create_instructor(self, request):
        self.principal(request).require(*WRITERS)
        return json_response(self.scheduling.create_instructor(json_body(request)), status=201)

    @http("GET", "/api/v1/venues", query=S.PageIn, page=True, tag="catalogue")
    def list_venues(self, request):
        self.principal(request)
        return self.scheduling.list_venues(**request.args.to_dict())

    @http("POST", "/api/v1/venues", body=S.VenueIn, created=True, tag="catalogue")
    def create_venue(self, request):
        self.principal(request).require(*WRITERS)
        return json_response(self.scheduling.create_venue(json_body(request)), status=201)

    @http("GET", "/api/v1/sites", query=S.SiteQuery, page=True, tag="catalogue")
    def list_sites(self, request):
        self.principal(request)
        return self.scheduling.list_sites(**request.args.to_dict())

    @http("POST", "/api/v1/sites", body=S.SiteIn, created=True, tag="catalogue")
    def create_site(self, request):
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
        body = json_body(request)
        self.may_organise(request, program_id=str(body.get("program_id") or ""))
        created = self.scheduling.create_class(body)
        return json_response(created, status=201,
                             headers={"Location": f"/api/v1/classes/{created['class_id']}"})

    @http("GET", "/api/v1/classes/<string:class_id>", tag="classes")
    def get_class(self, request, class_id):
        return self.scheduling.get_class(class_id, include_drafts=self.reads_drafts(request))

    @http("PATCH", "/api/v1/classes/<string:class_id>", body=ClassChanges, tag="classes")
    def update_class(self, request, class_id):
        body = json_body(request)
        self.may_organise(request, class_id=class_id)
        return self.scheduling.update_class(class_id, body)

    @http("POST", "/api/v1/classes/<string:class_id>/publish", tag="classes")
    def publish_class(self, request, class_id):
        self.may_organise(request, class_id=class_id)
        return self.scheduling.publish_class(class_id)

    @http("POST", "/api/v1/classes/<string:class_id>/cancel", body=S.ReasonIn,
          body_required=False, tag="classes")
    def cancel_class(self, request, class_id):
        body = optional_json_body(request)
        self.may_organise(request, class_id=class_id)
        return self.scheduling.cancel_class(class_id, body.get("reason"))

    @http("POST", "/api/v1/classes/<string:class_id>/complete", tag="classes")
    def complete_class(self, request, class_id):
        self.may_organise(request, class_id=class_id)
        return self.scheduling.complete_class(class_id)

    @http("POST", "/api/v1/classes/<string:class_id>/sessions", body=S.SessionIn,
          created=True, tag="sessions")
    def add_session(self, request, class_id):
        body = json_body(request)
        self.may_organise(request, class_id=class_id)
        return json_response(self.scheduling.add_session(class_id, body), status=201)

    # -- sessions -----------------------------------------------------------------------------

    @http("GET", "/api/v1/sessions/<string:session_id>", tag="sessions")
    def get_session(self, request, session_id):
        self.principal(request)
        return self.scheduling.get_session(session_id)

    @http("PUT", "/api/v1/sessions/<string:session_id>", body=S.SessionIn, tag="sessions")
    def replace_session(self, request, session_id):
        body = json_body(request)
        self.may_organise(request, session_id=session_id)
        return self.scheduling.replace_session(session_id, body)

    @http("DELETE", "/api/v1/sessions/<string:session_id>", tag="sessions")
    def remove_session(self, request, session_id):
        self.may_organise(request, session_id=session_id)
        return self.scheduling.remove_session(session_id)

    @http("POST", "/api/v1/sessions/<string:session_id>/reschedule", body=S.RescheduleIn,
          tag="sessions")
    def reschedule_session(self, request, session_id):
        body = json_body(request)
        self.may_organise(request, session_id=session_id)
        return self.scheduling.reschedule_session(session_id, body)

    @http("POST", "/api/v1/sessions/<string:session_id>/cancel", body=S.ReasonIn,
          body_required=False, tag="sessions")
    def cancel_session(self, request, session_id):
        body = optional_json_body(request)
        self.may_organise(request, session_id=session_id)
        return self.scheduling.cancel_session(session_id, body.get("reason"))

    @http("POST", "/api/v1/sessions/<string:session_id>/complete", tag="sessions")
    def complete_session(self, request, session_id):
        self.may_organise(request, session_id=session_id)
        return self.scheduling.complete_session(session_id)

    # -- calendars ----------------------------------------------------------------------------

    @http("GET", "/api/v1/calendars/classes/<string:class_id>.ics", produces=ICS,
          tag="calendars")
    def class_calendar(self, request, class_id):
        text = self.scheduling.class_calendar(class_id, include_drafts=self.reads_drafts(request))
        return calendar_response(text, f"class-{class_id}.ics")

    @http("GET", "/api/v1/calendars/venues/<string:venue_id>.ics", produces=ICS,
          tag="calendars")
    def venue_calendar(self, request, venue_id):
        self.principal(request)
        return calendar_response(self.scheduling.venue_calendar(venue_id),
                                 f"venue-{venue_id}.ics")

    @http("GET", "/api/v1/calendars/sites/<string:site_id>.ics", produces=ICS,
          tag="calendars")
    def site_calendar(self, request, site_id):
        self.principal(request)
        return calendar_response(self.scheduling.site_calendar(site_id), f"site-{site_id}.ics")

    @http("GET", "/api/v1/calendars/instructors/<string:instructor_id>.ics",
          produces=ICS, tag="calendars")
    def instructor_calendar(self, request, instructor_id):
        self.principal(request)
        return calendar_response(self.scheduling.instructor_calendar(instructor_id),
                                 f"instructor-{instructor_id}.ics")
