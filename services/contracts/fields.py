"""Field kinds shared by the contracts: the domain's vocabularies, written once."""

from marshmallow import EXCLUDE, Schema, fields, validate

TRACKS = ("secretaries", "members")
SECTORS = ("village", "residential", "institution", "soe", "two_new")
MODULES = ("basic_theory", "advanced")
CATEGORIES = ("institution", "enterprise", "new_member")
EMPLOYMENTS = ("institution", "enterprise", "other")
DELIVERIES = ("offline", "live", "hybrid")
SESSION_KINDS = ("lecture", "onsite", "seminar", "oath")
ORG_KINDS = ("district", "committee", "grassroots")
ENROLLMENT_MODES = ("offline", "online")
ENROLLMENT_STATUSES = (
    "confirmed", "waitlisted", "withdrawn", "released", "completed", "incomplete",
)
ATTENDANCE_STATUSES = ("present", "online", "leave", "absent")
COMPLETION_STATUSES = ("completed", "incomplete")
FILING_KINDS = ("plan", "record")
FILING_STATUSES = ("generated", "filed", "acknowledged", "returned")
# An organisation code or a member number: short, printable, no spaces.
CODE_PATTERN = r"^[0-9A-Za-z_.\-]{1,64}$"


UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def uuid_str(**kw):
    """Entity ids are UUID strings and stay strings once loaded."""
    return fields.String(validate=validate.Regexp(UUID_PATTERN, error="Not a valid UUID."), **kw)


def code(**kw):
    """An organisation code or a member number (CODE_PATTERN)."""
    return fields.String(validate=validate.Regexp(CODE_PATTERN), **kw)


def one_of(choices, **kw):
    return fields.String(validate=validate.OneOf(choices), **kw)


def hours(**kw):
    return fields.Float(validate=validate.Range(min=0, max=1000), allow_nan=False, **kw)


class ContractSchema(Schema):
    """Event data: fields a newer producer adds are ignored, so adding one breaks nobody."""

    class Meta:
        unknown = EXCLUDE
