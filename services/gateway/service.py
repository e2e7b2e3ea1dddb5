"""The gateway: the HTTP edge. It authenticates, then calls the services over RPC."""

from datetime import UTC, datetime

import eventlet
from nameko.exceptions import RemoteError, UnknownService
from nameko.timer import timer

from services.kit import ServiceRpc
from services.kit.rpc import RpcTimeout, rpc

from . import xapi_push
from .http import http, json_response
from .routes.accounts import AccountsRoutes
from .routes.checkin_pages import CheckinPagesRoutes
from .routes.clerk_classes import ClerkClassRoutes
from .routes.clerk_nominations import ClerkNominationRoutes
from .routes.docs import DocsRoutes
from .routes.enrollment import EnrollmentRoutes
from .routes.pages import PagesRoutes
from .routes.report_pages import ReportPagesRoutes
from .routes.reporting import ReportingRoutes
from .routes.scheduling import SchedulingRoutes
from .routes.xapi import XapiRoutes

HEALTH_TIMEOUT = 3.0


class GatewayService(SchedulingRoutes, EnrollmentRoutes, ReportingRoutes, DocsRoutes,
                     AccountsRoutes, ClerkClassRoutes, ClerkNominationRoutes,
                     CheckinPagesRoutes, PagesRoutes, ReportPagesRoutes, XapiRoutes):
    name = "gateway"

    scheduling_health = ServiceRpc("scheduling", timeout=HEALTH_TIMEOUT)
    enrollment_health = ServiceRpc("enrollment", timeout=HEALTH_TIMEOUT)
    reporting_health = ServiceRpc("reporting", timeout=HEALTH_TIMEOUT)

    @http("GET", "/health", public=True, tag="health")
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

    @rpc
    def health(self) -> dict:
        """Also how the xAPI push stands (None: no LRS configured), for `peixun status`."""
        return {**super().health(),
                "xapi_push": xapi_push.standing(self.db, xapi_push.settings())}

    @timer(interval=xapi_push.TICK_SECONDS)
    def push_xapi(self):
        """xAPI statements to the LRS that XAPI_LRS_URL names, if any (xapi_push)."""
        settings = xapi_push.settings()
        if settings is None:
            return
        xapi_push.tick(self.db, settings, self._xapi_page, xapi_push.send, datetime.now(UTC))
        self.db.commit()

    def _xapi_page(self, cursor, limit):
        return self.reporting.xapi_statements(None, limit, cursor, None)


def _probe(proxy) -> str:
    try:
        return "ok" if proxy.health().get("status") == "ok" else "unhealthy"
    except (RpcTimeout, UnknownService):
        return "unavailable"
    except RemoteError as exc:
        return f"failing: {exc.exc_type}"
