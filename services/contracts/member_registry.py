"""What the party-member registry publishes on `member_registry.events`."""

from marshmallow import fields, validate

from .fields import EMPLOYMENTS, ContractSchema, code, one_of

SOURCE = "member_registry"

CHANGES = ("joined", "updated", "transferred", "left", "secretary_appointed", "secretary_removed")


class MemberChangedV1(ContractSchema):
    member_no = code(required=True)
    change = one_of(CHANGES, required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    org_code = code(required=True)
    joined_on = fields.Date(required=True, allow_none=True)
    employment = one_of(EMPLOYMENTS, required=True, allow_none=True)


CONTRACTS = {"member_changed": {1: MemberChangedV1}}
