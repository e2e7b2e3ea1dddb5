"""What scheduling accepts over RPC, and so over HTTP: programs, the catalogue, classes,
sessions and their lists."""

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from services.kit.validation import MAX_PAGE

from .. import vocabulary
from ..fields import (
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

INSTRUCTOR_KINDS = (
    "party_school_professor",   # 市委党校专家教授
    "outstanding_secretary",    # 区外优秀街镇党组织书记 and the like
    "department_head",          # 区有关部门负责同志
    "industry_party_worker",    # 相关行业优秀党组织书记、优秀党务工作者
)
SITE_KINDS = (
    "rural_revitalisation",     # 乡村振兴点位
    "social_governance",        # 社会治理创新点位
    "new_city_project",         # 奉贤新城重大工程
    "two_new_demo",             # 优秀"两新"组织党建示范点位
    "red_village",              # "红色村居·和美家园"创建点位
    "archives",                 # 区档案馆
    "party_service_centre",     # 区党建服务中心 (where new members take the oath)
)
CLASS_STATUSES = tuple(vocabulary.CLASS_STATUSES)
MAX_PER_PAGE = 200


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


def _text(max_length: int, **kw):
    return fields.String(validate=validate.Length(min=1, max=max_length), **kw)


def _optional_id():
    return uuid_str(load_default=None, allow_none=True)


# -- programs ------------------------------------------------------------------------------

class ProgramIn(StrictSchema):
    year = fields.Integer(required=True, strict=True, validate=validate.Range(min=2018, max=2100))
    track = one_of(TRACKS, required=True)
    organiser_org_code = code(required=True)
    name = _text(200, required=True)
    target_person_times = fields.Integer(required=True, strict=True,
                                         validate=validate.Range(min=0, max=10_000_000))


class ProgramChanges(StrictSchema):
    """What may change of a program: not its key (year, track, organiser)."""
    name = _text(200)
    target_person_times = fields.Integer(strict=True,
                                         validate=validate.Range(min=0, max=10_000_000))


# -- catalogue -----------------------------------------------------------------------------

class InstructorIn(StrictSchema):
    name = _text(100, required=True)
    affiliation = fields.String(load_default=None, allow_none=True,
                                validate=validate.Length(max=200))
    kind = one_of(INSTRUCTOR_KINDS, required=True)


class CourseIn(StrictSchema):
    title = _text(200, required=True)
    themes = fields.List(_text(50), load_default=list, validate=validate.Length(max=20))
    core_theory = fields.Boolean(required=True)
    default_kind = one_of(SESSION_KINDS, load_default="lecture")
    default_hours = hours(required=True)
    default_instructor_id = _optional_id()
    sectors = fields.List(one_of(SECTORS), load_default=list)


class CourseChanges(StrictSchema):
    """What may change of a course; sessions already scheduled keep the copy they were given."""
    title = _text(200)
    themes = fields.List(_text(50), validate=validate.Length(max=20))
    core_theory = fields.Boolean()
    default_kind = one_of(SESSION_KINDS)
    default_hours = hours()
    default_instructor_id = uuid_str(allow_none=True)
    sectors = fields.List(one_of(SECTORS))


class InstructorChanges(StrictSchema):
    name = _text(100)
    affiliation = fields.String(allow_none=True, validate=validate.Length(max=200))
    kind = one_of(INSTRUCTOR_KINDS)


class VenueIn(StrictSchema):
    name = _text(200, required=True)
    seats = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=10_000))
    address = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class SiteIn(StrictSchema):
    name = _text(200, required=True)
    kind = one_of(SITE_KINDS, required=True)
    audiences = fields.List(one_of(CATEGORIES), load_default=list)
    group_capacity = fields.Integer(required=True, strict=True,
                                    validate=validate.Range(min=1, max=10_000))
    address = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class VenueChanges(StrictSchema):
    name = _text(200)
    seats = fields.Integer(strict=True, validate=validate.Range(min=1, max=10_000))
    address = fields.String(allow_none=True, validate=validate.Length(max=200))


class SiteChanges(StrictSchema):
    name = _text(200)
    kind = one_of(SITE_KINDS)
    audiences = fields.List(one_of(CATEGORIES))
    group_capacity = fields.Integer(strict=True, validate=validate.Range(min=1, max=10_000))
    address = fields.String(allow_none=True, validate=validate.Length(max=200))


# -- classes and sessions ----------------------------------------------------------------------

class AudienceIn(StrictSchema):
    sector = one_of(SECTORS, load_default=None, allow_none=True)
    module = one_of(MODULES, load_default=None, allow_none=True)
    category = one_of(CATEGORIES, load_default=None, allow_none=True)


class PlaceAndPeople(StrictSchema):
    """Where a session is held and who teaches it: a catalogue item by id, or free text."""
    venue_id = _optional_id()
    site_id = _optional_id()
    venue_name = fields.String(load_default=None, allow_none=True,
                               validate=validate.Length(max=200))
    instructor_id = _optional_id()
    instructor_name = fields.String(load_default=None, allow_none=True,
                                    validate=validate.Length(max=100))

    @validates_schema
    def _one_place_one_name(self, data, **kwargs):
        errors = {}
        if data.get("venue_id") and data.get("site_id"):
            errors["site_id"] = ["a session is held at a venue or at a site, not both"]
        if data.get("venue_name") and (data.get("venue_id") or data.get("site_id")):
            errors["venue_name"] = ["give venue_id/site_id or venue_name, not both"]
        if data.get("instructor_name") and data.get("instructor_id"):
            errors["instructor_name"] = ["give instructor_id or instructor_name, not both"]
        if errors:
            raise ValidationError(errors)


class SessionIn(PlaceAndPeople):
    """A session: a catalogue course by `course_id` (title, core theory, kind, hours and
    instructor default from it), or a free-text `course_title` with `hours`. Core theory comes
    from the catalogue only: a free-text session is never core theory (DESIGN §1)."""
    course_id = _optional_id()
    course_title = fields.String(load_default=None, allow_none=True,
                                 validate=validate.Length(min=1, max=200))
    core_theory = fields.Boolean(load_default=None, allow_none=True)
    kind = one_of(SESSION_KINDS, load_default=None, allow_none=True)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    hours = hours(load_default=None, allow_none=True)
    live = fields.Boolean(load_default=None, allow_none=True)

    @validates_schema
    def _complete_session(self, data, **kwargs):
        errors = {}
        if data["ends_at"] <= data["starts_at"]:
            errors["ends_at"] = ["must be after starts_at"]
        if data.get("course_id"):
            for name in ("course_title", "core_theory"):
                if data.get(name) is not None:
                    errors[name] = ["comes from the catalogue course named by course_id"]
        else:
            for name in ("course_title", "hours"):
                if data.get(name) is None:
                    errors[name] = ["required unless course_id names a catalogue course"]
            if data.get("core_theory"):
                errors["core_theory"] = ["core theory comes from the catalogue: name a core "
                                         "course by course_id; a free-text session is not "
                                         "core theory"]
        if errors:
            raise ValidationError(errors)


class ClassFields(StrictSchema):
    title = _text(200, required=True)
    audience = fields.Nested(AudienceIn, load_default=dict)
    offline_capacity = fields.Integer(required=True, strict=True,
                                      validate=validate.Range(min=0, max=100_000))
    delivery = one_of(DELIVERIES, required=True)
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    # Left out: true for a live or hybrid secretaries' class, false otherwise (DESIGN §1).
    online_open = fields.Boolean(allow_none=True)
    review_nominations = fields.Boolean()

    @validates_schema
    def _dates_in_order(self, data, **kwargs):
        if "start_date" in data and "end_date" in data and data["end_date"] < data["start_date"]:
            raise ValidationError("must not be before start_date", "end_date")


class ClassChanges(ClassFields):
    """A change of a class, each field optional (load it partial). After publishing, the
    audience and the delivery are fixed; `venue_id` moves every still-scheduled session held
    in a party-school classroom to that classroom."""
    venue_id = uuid_str()


class ClassIn(ClassFields):
    program_id = uuid_str(required=True)
    sessions = fields.List(fields.Nested(SessionIn), load_default=list,
                           validate=validate.Length(max=200))
    # Create and publish in one call (what a scheduler of a whole year wants).
    publish = fields.Boolean(load_default=False)


class RescheduleIn(PlaceAndPeople):
    """New times; a place or an instructor given here replaces the old one."""
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))

    # Absent place fields keep the old place, so their load_default must not be None here.
    venue_id = uuid_str(allow_none=True)
    site_id = uuid_str(allow_none=True)
    venue_name = fields.String(allow_none=True, validate=validate.Length(max=200))
    instructor_id = uuid_str(allow_none=True)
    instructor_name = fields.String(allow_none=True, validate=validate.Length(max=100))

    @validates_schema
    def _ends_after_start(self, data, **kwargs):
        if data["ends_at"] <= data["starts_at"]:
            raise ValidationError("must be after starts_at", "ends_at")


class ReasonIn(StrictSchema):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


# -- lists -------------------------------------------------------------------------------------

class PageIn(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class ClassQuery(PageIn):
    year = fields.Integer(load_default=None, allow_none=True)
    track = one_of(TRACKS, load_default=None, allow_none=True)
    status = one_of(CLASS_STATUSES, load_default=None, allow_none=True)
    organiser_org_code = code(load_default=None, allow_none=True)
    program_id = uuid_str(load_default=None, allow_none=True)
    include_drafts = fields.Boolean(load_default=True)


class ProgramQuery(PageIn):
    year = fields.Integer(load_default=None, allow_none=True)
    track = one_of(TRACKS, load_default=None, allow_none=True)
    organiser_org_code = code(load_default=None, allow_none=True)


class CourseQuery(PageIn):
    core_theory = fields.Boolean(load_default=None, allow_none=True)
    sector = one_of(SECTORS, load_default=None, allow_none=True)
    kind = one_of(SESSION_KINDS, load_default=None, allow_none=True)


class InstructorQuery(PageIn):
    kind = one_of(INSTRUCTOR_KINDS, load_default=None, allow_none=True)


class SiteQuery(PageIn):
    kind = one_of(SITE_KINDS, load_default=None, allow_none=True)
    audience = one_of(CATEGORIES, load_default=None, allow_none=True)
