"""The gateway: the HTTP edge. It authenticates, then calls the services over RPC."""

import eventlet
from nameko.exceptions import RemoteError, UnknownService

from services.kit import ServiceBase, ServiceRpc
from services.kit.rpc import RpcTimeout

from . import auth
from .http import http, json_body, json_response

HEALTH_TIMEOUT = 3.0
WRITERS = ("district_admin",)


class GatewayService(ServiceBase):
    name = "gateway"

    scheduling = ServiceRpc("scheduling")
    enrollment = ServiceRpc("enrollment")
    reporting = ServiceRpc("reporting")
    scheduling_health = ServiceRpc("scheduling", timeout=HEALTH_TIMEOUT)
    enrollment_health = ServiceRpc("enrollment", timeout=HEALTH_TIMEOUT)
    reporting_health = ServiceRpc("reporting", timeout=HEALTH_TIMEOUT)

    def principal(self, request) -> auth.Principal:
        return auth.authenticate(self.db, request.headers.get("Authorization"))

    @http("GET", "/health")
    def get_health(self, request):
        """The gateway and every service behind it; no token needed."""
        probes = {"scheduling": self.scheduling_health, "enrollment": self.enrollment_health,
                  "reporting": self.reporting_health}
        pool = eventlet.GreenPool()
        answers = dict(pool.imap(lambda item: (item[0], _probe(item[1])), probes.items()))
        services = {"gateway": "ok", **answers}
        healthy = all(state == "ok" for state in services.values())
        return json_response({"status": "ok" if healthy else "unavailable",
                              "services": services}, status=200 if healthy else 503)

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

    @http("GET", "/api/v1/classes/<string:class_id>/progress")
    def class_progress(self, request, class_id):
        """What reporting has seen of the class so far: completed sessions and hours."""
        self.principal(request)
        return self.reporting.class_progress(class_id)


def _probe(proxy) -> str:
    try:
        return "ok" if proxy.health().get("status") == "ok" else "unhealthy"
    except (RpcTimeout, UnknownService):
        return "unavailable"
    except RemoteError as exc:
        return f"failing: {exc.exc_type}"
