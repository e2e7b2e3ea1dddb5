"""Reports and filings over HTTP."""

from ..http import http
from .base import RoutesBase


class ReportingRoutes(RoutesBase):
    @http("GET", "/api/v1/classes/<string:class_id>/progress")
    def class_progress(self, request, class_id):
        """What reporting has seen of the class so far: completed sessions and hours."""
        self.principal(request)
        return self.reporting.class_progress(class_id)
