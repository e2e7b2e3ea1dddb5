"""Organisations, members, enrolments and attendance over HTTP."""

from .base import RoutesBase


class EnrollmentRoutes(RoutesBase):
    pass
