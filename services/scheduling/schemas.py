"""What scheduling accepts over RPC (and so over HTTP): marshmallow, unknown fields refused."""

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from services.contracts.fields import (
    CATEGORIES,
    DELIVERIES,
    MODULES,
    SECTORS,
    SESSION_KINDS,
    TRACKS,
    code,
    hours,
    one_of,
    uuid_str,
)


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class ProgramIn(StrictSchema):
    year = fields.Integer(required=True, strict=True, validate=validate.Range(min=2018, max=2100))
    track = one_of(TRACKS, required=True)
    organiser_org_code = code(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    target_person_times = fields.Integer(required=True, strict=True,
                                         validate=validate.Range(min=0, max=10_000_000))


class AudienceIn(StrictSchema):
    sector = one_of(SECTORS, load_default=None, allow_none=True)
    module = one_of(MODULES, load_default=None, allow_none=True)
    category = one_of(CATEGORIES, load_default=None, allow_none=True)


class SessionIn(StrictSchema):
    course_title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    core_theory = fields.Boolean(required=True)
    kind = one_of(SESSION_KINDS, load_default="lecture")
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    hours = hours(required=True)
    venue_name = fields.String(load_default=None, allow_none=True,
                               validate=validate.Length(max=200))
    instructor_name = fields.String(load_default=None, allow_none=True,
                                    validate=validate.Length(max=100))
    live = fields.Boolean(load_default=False)

    @validates_schema
    def _ends_after_start(self, data, **kwargs):
        if data["ends_at"] <= data["starts_at"]:
            raise ValidationError("must be after starts_at", "ends_at")


class ClassIn(StrictSchema):
    program_id = uuid_str(required=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    audience = fields.Nested(AudienceIn, load_default=dict)
    offline_capacity = fields.Integer(required=True, strict=True,
                                      validate=validate.Range(min=0, max=100_000))
    delivery = one_of(DELIVERIES, required=True)
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    sessions = fields.List(fields.Nested(SessionIn), load_default=list,
                           validate=validate.Length(max=200))

    @validates_schema
    def _dates_in_order(self, data, **kwargs):
        if data["end_date"] < data["start_date"]:
            raise ValidationError("must not be before start_date", "end_date")
