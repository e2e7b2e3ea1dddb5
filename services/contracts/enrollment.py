"""Events published by enrollment on `enrollment.events`."""

from marshmallow import fields, validate

from .fields import (
    ATTENDANCE_STATUSES,
    CATEGORIES,
    COMPLETION_STATUSES,
    EMPLOYMENTS,
    ENROLLMENT_MODES,
    ENROLLMENT_ORIGINS,
    ENROLLMENT_STATUSES,
    ORG_KINDS,
    SECTORS,
    STUDY_HOUR_SOURCES,
    ContractSchema,
    code,
    hours,
    one_of,
    uuid_str,
)

SOURCE = "enrollment"


class OrganisationChangedV1(ContractSchema):
    org_code = code(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    parent_code = code(required=True, allow_none=True)
    kind = one_of(ORG_KINDS, required=True)
    sector = one_of(SECTORS, required=True, allow_none=True)
    secretary_member_no = code(required=True, allow_none=True)


class PersonChangedV1(ContractSchema):
    """What reporting needs of a person: where they sit, what they are, and the name their
    records carry (DESIGN §1), never more."""

    member_no = code(required=True)
    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    org_code = code(required=True, allow_none=True)
    committee_code = code(required=True, allow_none=True)
    joined_on = fields.Date(required=True, allow_none=True)
    employment = one_of(EMPLOYMENTS, required=True, allow_none=True)
    secretary_of = code(required=True, allow_none=True)
    active = fields.Boolean(load_default=True)


class EnrollmentV1(ContractSchema):
    enrollment_id = uuid_str(required=True)
    class_id = uuid_str(required=True)
    member_no = code(required=True)
    org_code = code(required=True)
    committee_code = code(required=True, allow_none=True)
    sector = one_of(SECTORS, required=True, allow_none=True)
    category = one_of(CATEGORIES, required=True, allow_none=True)
    mode = one_of(ENROLLMENT_MODES, required=True)
    status = one_of(ENROLLMENT_STATUSES, required=True)
    reason = fields.String(load_default=None, allow_none=True)
    # `live`: enrolled by watching an open broadcast, never nominated (DESIGN §1).
    origin = one_of(ENROLLMENT_ORIGINS, load_default="nomination")


class AttendanceRecordedV1(ContractSchema):
    enrollment_id = uuid_str(required=True)
    session_id = uuid_str(required=True)
    class_id = uuid_str(required=True)
    member_no = code(required=True)
    status = one_of(ATTENDANCE_STATUSES, required=True)
    hours_earned = hours(required=True)
    recorded_at = fields.AwareDateTime(required=True)
    correction = fields.Boolean(required=True)
    # The class's attendance chain after this entry: its sha256 and its place (optional: added
    # later, and absent from older events). A filed record keeps the head it summarised.
    chain_head = fields.String(load_default=None, allow_none=True,
                               validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    chain_sequence = fields.Integer(load_default=None, allow_none=True, strict=True,
                                    validate=validate.Range(min=1))


class CompletionRecordedV1(ContractSchema):
    enrollment_id = uuid_str(required=True)
    class_id = uuid_str(required=True)
    member_no = code(required=True)
    year = fields.Integer(required=True, strict=True, validate=validate.Range(min=2000, max=2100))
    status = one_of(COMPLETION_STATUSES, required=True)
    attended_hours = hours(required=True)
    class_hours = hours(required=True)
    # Where the person sat at enrolment, as on the enrollment_* events (optional: added later).
    org_code = code(load_default=None, allow_none=True)
    committee_code = code(load_default=None, allow_none=True)
    sector = one_of(SECTORS, load_default=None, allow_none=True)
    category = one_of(CATEGORIES, load_default=None, allow_none=True)


class StudyHoursRecordedV1(ContractSchema):
    """Study hours earned outside this system's classes (DESIGN §1), or their withdrawal."""

    entry_id = uuid_str(required=True)
    member_no = code(required=True)
    year = fields.Integer(required=True, strict=True, validate=validate.Range(min=2000, max=2100))
    hours = hours(required=True)
    source = one_of(STUDY_HOUR_SOURCES, required=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    on = fields.Date(required=True)
    withdrawn = fields.Boolean(load_default=False)


CONTRACTS = {
    "organisation_changed": {1: OrganisationChangedV1},
    "person_changed": {1: PersonChangedV1},
    "enrollment_nominated": {1: EnrollmentV1},
    "enrollment_confirmed": {1: EnrollmentV1},
    "enrollment_waitlisted": {1: EnrollmentV1},
    "enrollment_rejected": {1: EnrollmentV1},
    "enrollment_withdrawn": {1: EnrollmentV1},
    "attendance_recorded": {1: AttendanceRecordedV1},
    "completion_recorded": {1: CompletionRecordedV1},
    "study_hours_recorded": {1: StudyHoursRecordedV1},
}
