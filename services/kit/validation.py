"""Loading input through a marshmallow schema, failing with the field errors."""

from marshmallow import Schema, ValidationError

from .errors import InvalidInput


def load(schema: Schema, data, **kwargs):
    try:
        return schema.load(data, **kwargs)
    except ValidationError as exc:
        errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise InvalidInput("the input is not valid", errors=errors) from None
