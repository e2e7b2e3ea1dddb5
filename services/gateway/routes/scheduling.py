"""Programs, classes and sessions over HTTP."""

from ..http import http, json_body, json_response
from .base import WRITERS, RoutesBase


class SchedulingRoutes(RoutesBase):
    @http("POST", "/api/v1/programs")
    def create_program(self, request):
        self.principal(request).require(*WRITERS)
        return json_response(self.scheduling.create_program(json_body(request)), status=201)

    @http("POST", "/api/v1/classes")
    def create_class(self, request):
        self.principal(request).require(*WRITERS)
        created = self.scheduling.create_class(json_body(request))
        return json_response(created, status=201,
                             headers={"Location": f"/api/v1/classes/{created['class_id']}"})

    @http("GET", "/api/v1/classes/<string:class_id>")
    def get_class(self, request, class_id):
        self.principal(request)
        return self.scheduling.get_class(class_id)

    @http("POST", "/api/v1/sessions/<string:session_id>/complete")
    def complete_session(self, request, session_id):
        self.principal(request).require(*WRITERS)
        return self.scheduling.complete_session(session_id)
