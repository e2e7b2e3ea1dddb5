"""Enrollment: organisations, members, enrolments, attendance, completion (grows in issue 4)."""

from services.kit import PublishingService


class EnrollmentService(PublishingService):
    name = "enrollment"
