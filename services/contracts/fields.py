"""Field kinds shared by the contracts: the domain's vocabularies, written once."""

from marshmallow import EXCLUDE, Schema, fields, validate

from . import vocabulary

TRACKS = tuple(vocabulary.TRACKS)
SECTORS = tuple(vocabulary.SECTORS)
MODULES = tuple(vocabulary.MODULES)
CATEGORIES = tuple(vocabulary.CATEGORIES)
EMPLOYMENTS = tuple(vocabulary.EMPLOYMENTS)
DELIVERIES = tuple(vocabulary.DELIVERIES)
SESSION_KINDS = tuple(vocabulary.SESSION_KINDS)
ORG_KINDS = tuple(vocabulary.ORG_KINDS)
ENROLLMENT_MODES = tuple(vocabulary.ENROLLMENT_MODES)
ENROLLMENT_STATUSES = tuple(vocabulary.ENROLLMENT_STATUSES)
ENROLLMENT_ORIGINS = tuple(vocabulary.ENROLLMENT_ORIGINS)
STUDY_HOUR_SOURCES = tuple(vocabulary.STUDY_HOUR_SOURCES)
ATTENDANCE_STATUSES = tuple(vocabulary.ATTENDANCE_STATUSES)
COMPLETION_STATUSES = tuple(vocabulary.COMPLETION)
FILING_KINDS = tuple(vocabulary.FILING_KINDS)
FILING_STATUSES = ("generated", "filed", "acknowledged", "returned")
# An organisation code or a member number: short, printable, no spaces. `(?!\n)$`: Python's
# `$` also matches before a final newline, so "FX01\n" passed as FX01's twin; unlike `\Z`, the
# form stays a valid pattern in the JSON Schemas the API documents.
CODE_PATTERN = r"^[0-9A-Za-z_.\-]{1,64}(?!\n)$"


UUID_PATTERN = (r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
                r"(?!\n)$")


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
