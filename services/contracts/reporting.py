"""Events published by reporting on `reporting.events`."""

from marshmallow import fields, validate

from .fields import FILING_KINDS, FILING_STATUSES, ContractSchema, code, one_of, uuid_str

SOURCE = "reporting"


class FilingV1(ContractSchema):
    filing_id = uuid_str(required=True, allow_none=True)
    org_code = code(required=True, allow_none=True)
    parent_code = code(required=True, allow_none=True)
    class_id = uuid_str(required=True, allow_none=True)
    kind = one_of(FILING_KINDS, required=True, allow_none=True)
    version = fields.Integer(required=True, strict=True, allow_none=True)
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    status = one_of(FILING_STATUSES, required=True)
    reason = fields.String(required=True, allow_none=True)
    report = fields.String(load_default=None, allow_none=True)
    file_name = fields.String(load_default=None, allow_none=True)


CONTRACTS = {
    "report_generated": {1: FilingV1},
    "report_filed": {1: FilingV1},
    "filing_acknowledged": {1: FilingV1},
    "filing_returned": {1: FilingV1},
}
