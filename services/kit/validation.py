"""Loading input through a marshmallow schema, failing with the field errors."""

from marshmallow import Schema, ValidationError

from .errors import InvalidInput

# A page beyond this would ask the database for an OFFSET past its integer range.
MAX_PAGE = 1_000_000


def nul_characters(data, path: str = "") -> dict:
    """Every place a text holds U+0000, which PostgreSQL cannot store, by field path."""
    found = {}
    if isinstance(data, str):
        if "\x00" in data:
            found[path or "_schema"] = ["must not contain the NUL character (U+0000)"]
    elif isinstance(data, dict):
        for key, value in data.items():
            name = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and "\x00" in key:
                found[name] = ["must not contain the NUL character (U+0000)"]
            found.update(nul_characters(value, name))
    elif isinstance(data, list | tuple):
        for index, value in enumerate(data):
            found.update(nul_characters(value, f"{path}.{index}" if path else str(index)))
    return found


def load(schema: Schema, data, **kwargs):
    errors = nul_characters(data)
    if errors:
        raise InvalidInput("the input is not valid", errors=errors)
    try:
        return schema.load(data, **kwargs)
    except ValidationError as exc:
        errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise InvalidInput("the input is not valid", errors=errors) from None
