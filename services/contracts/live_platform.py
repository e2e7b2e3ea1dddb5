"""What the municipal remote-education live platform publishes on `live_platform.events`."""

from marshmallow import fields, validate

from .fields import ContractSchema, code, uuid_str

SOURCE = "live_platform"


class ViewerAttendedV1(ContractSchema):
    session_id = uuid_str(required=True)
    member_no = code(required=True)
    watched_minutes = fields.Float(required=True, allow_nan=False,
                                   validate=validate.Range(min=0, max=24 * 60))
    site = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


CONTRACTS = {"viewer_attended": {1: ViewerAttendedV1}}
