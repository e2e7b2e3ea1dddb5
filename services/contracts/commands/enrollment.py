"""What enrollment accepts over RPC, and so over HTTP: nominations, withdrawals, seats,
attendance, study hours from elsewhere and the lists of organisations, members, enrolments and
flags."""

from marshmallow import RAISE, Schema, fields, validate

from services.kit.validation import MAX_PAGE

from ..fields import (
    ATTENDANCE_STATUSES,
    ENROLLMENT_MODES,
    ENROLLMENT_STATUSES,
    ORG_KINDS,
    STUDY_HOUR_SOURCES,
    code,
    one_of,
)

# What a check-in may record; a correction may set any attendance status.
CHECKIN_STATUSES = ("present", "leave")
MAX_NOMINATION = 5000
MAX_CHECKIN_BATCH = 5000
MAX_IMPORT_ROWS = 100000   # rows in one import call: a larger file comes in chunks
MAX_ENTRY_HOURS = 1000     # the study_hours_recorded contract's bound


class Input(Schema):
    class Meta:
        unknown = RAISE


class NominationIn(Input):
    member_nos = fields.List(code(), required=True,
                             validate=validate.Length(min=1, max=MAX_NOMINATION))
    mode = one_of(ENROLLMENT_MODES, load_default=None, allow_none=True)
    by_org_code = code(load_default=None, allow_none=True)


class WithdrawalIn(Input):
    reason = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(max=500))


class RejectionIn(Input):
    """A reviewed nomination turned down: the organiser says why."""

    reason = fields.String(required=True, validate=[
        validate.Length(min=1, max=500), validate.Regexp(r"\s*\S", error="must not be blank")])


class CheckInIn(Input):
    member_no = code(required=True)
    status = one_of(CHECKIN_STATUSES, load_default="present")
    at = fields.AwareDateTime(load_default=None, allow_none=True)


class CheckInBatchIn(Input):
    entries = fields.List(fields.Nested(CheckInIn), required=True,
                          validate=validate.Length(max=MAX_CHECKIN_BATCH))


class CorrectionIn(Input):
    member_no = code(required=True)
    status = one_of(ATTENDANCE_STATUSES, required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class QuotaIn(Input):
    seats = fields.Integer(required=True, allow_none=True, strict=True,
                           validate=validate.Range(min=0))


class StudyHoursIn(Input):
    """One entry of study hours earned outside this system's classes (其他学时)."""
    year = fields.Integer(required=True, strict=True, validate=validate.Range(min=2000, max=2100))
    hours = fields.Float(required=True, allow_nan=False, validate=validate.Range(
        min=0, min_inclusive=False, max=MAX_ENTRY_HOURS))
    source = one_of(STUDY_HOUR_SOURCES, required=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    on = fields.Date(required=True, metadata={"description": "the day studied, in `year`"})


class PageIn(Input):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class EnrolmentListIn(PageIn):
    status = one_of(ENROLLMENT_STATUSES, load_default=None, allow_none=True)
    within = code(load_default=None, allow_none=True)


class OrgListIn(PageIn):
    parent_code = code(load_default=None, allow_none=True)
    within = code(load_default=None, allow_none=True)
    kind = one_of(ORG_KINDS, load_default=None, allow_none=True)


class MemberListIn(PageIn):
    subtree = fields.Boolean(load_default=False)
    include_left = fields.Boolean(load_default=False)


class SheetIn(PageIn):
    within = code(load_default=None, allow_none=True)


class FlagListIn(PageIn):
    class_id = fields.String(load_default=None, allow_none=True)
    session_id = fields.String(load_default=None, allow_none=True)
    kind = fields.String(load_default=None, allow_none=True)
    member_no = code(load_default=None, allow_none=True)
    within = code(load_default=None, allow_none=True)
