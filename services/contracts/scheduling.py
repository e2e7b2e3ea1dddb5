"""Events published by scheduling on `scheduling.events`."""

from marshmallow import fields, validate

from .fields import (
    CATEGORIES,
    DELIVERIES,
    MODULES,
    SECTORS,
    SESSION_KINDS,
    TRACKS,
    ContractSchema,
    code,
    hours,
    one_of,
    uuid_str,
)

SOURCE = "scheduling"


class ProgramChangedV1(ContractSchema):
    program_id = uuid_str(required=True)
    year = fields.Integer(required=True, strict=True, validate=validate.Range(min=2000, max=2100))
    track = one_of(TRACKS, required=True)
    organiser_org_code = code(required=True)
    target_person_times = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    name = fields.String(load_default=None, allow_none=True)


class AudienceV1(ContractSchema):
    """A secretary class names a sector (None for all) and a module; a member class a category."""

    sector = one_of(SECTORS, load_default=None, allow_none=True)
    module = one_of(MODULES, load_default=None, allow_none=True)
    category = one_of(CATEGORIES, load_default=None, allow_none=True)


class ClassV1(ContractSchema):
    class_id = uuid_str(required=True)
    program_id = uuid_str(required=True)
    year = fields.Integer(required=True, strict=True, validate=validate.Range(min=2000, max=2100))
    track = one_of(TRACKS, required=True)
    organiser_org_code = code(required=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    audience = fields.Nested(AudienceV1, required=True)
    offline_capacity = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    delivery = one_of(DELIVERIES, required=True)
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    core_theory_ratio = fields.Float(required=True, validate=validate.Range(min=0, max=1))
    status = fields.String(load_default=None, allow_none=True)
    reason = fields.String(load_default=None, allow_none=True)
    # Sum of the non-cancelled sessions' hours, and how many sessions were completed when the
    # event was made: a consumer knows whether it has seen every session event yet.
    class_hours = fields.Float(load_default=None, allow_none=True)
    sessions_completed = fields.Integer(load_default=None, allow_none=True)
    # DESIGN §1: a live or hybrid secretaries' class is open online to every secretary its
    # audience admits; a reviewed class keeps nominations waiting for its organiser.
    online_open = fields.Boolean(load_default=False)
    review_nominations = fields.Boolean(load_default=False)
    # Rises with every change of a published class: a consumer keeps the highest it has seen.
    sequence = fields.Integer(load_default=0, strict=True, validate=validate.Range(min=0))


class ClassChangedV1(ClassV1):
    """A published class after a change: the whole class as it now is, and which of its
    fields the change touched."""

    changed = fields.List(fields.String(), load_default=list)


class SessionV1(ContractSchema):
    session_id = uuid_str(required=True)
    class_id = uuid_str(required=True)
    course_title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    core_theory = fields.Boolean(required=True)
    kind = one_of(SESSION_KINDS, required=True)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    hours = hours(required=True)
    venue_name = fields.String(required=True, allow_none=True)
    instructor_name = fields.String(required=True, allow_none=True)
    live = fields.Boolean(required=True)
    sequence = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    reason = fields.String(load_default=None, allow_none=True)
    # Catalogue references, when the session names catalogue items (None for free text).
    course_id = uuid_str(load_default=None, allow_none=True)
    venue_id = uuid_str(load_default=None, allow_none=True)
    site_id = uuid_str(load_default=None, allow_none=True)
    instructor_id = uuid_str(load_default=None, allow_none=True)


CONTRACTS = {
    "program_changed": {1: ProgramChangedV1},
    "class_published": {1: ClassV1},
    "class_changed": {1: ClassChangedV1},
    "class_cancelled": {1: ClassV1},
    "class_completed": {1: ClassV1},
    "session_scheduled": {1: SessionV1},
    "session_rescheduled": {1: SessionV1},
    "session_cancelled": {1: SessionV1},
    "session_completed": {1: SessionV1},
}
