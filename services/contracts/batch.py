"""Many events of one type at once (a session's absences, an import's people): their data
dumped and checked as `new_event` dumps and checks one event's, each distinct value of each
field once.

In a schema that checks field by field, checking each distinct value once is the same check:
60,000 person_changed carry far fewer distinct organisations, dates and employments than events,
and loading them one by one through the schema took longer than writing them.
"""

import inspect
from datetime import date

from marshmallow import Schema, ValidationError, missing
from marshmallow.fields import Date, Nested, String
from marshmallow.validate import Regexp

from .envelope import ContractError, format_errors


def dump_many(schema: Schema, datas: list[dict]) -> list[dict]:
    """Each data's wire form (`schema.dump`), checked as `schema.load` checks it; raises
    ContractError naming the field that fails. Values equal in Python (1 and True) are dumped
    as one, which the contracts' field kinds (codes, dates, numbers, flags) dump alike."""
    if not field_by_field(schema):
        return _round_trip(schema, datas)
    try:
        distinct = [(name, field, {data.get(name, missing) for data in datas})
                    for name, field in schema.dump_fields.items()]
    except TypeError:   # an unhashable value (a list, a dict): the schema says what it makes of it
        return _round_trip(schema, datas)
    tables = [(name, field.data_key or name, _dumped(field, name, values))
              for name, field, values in distinct]
    check_values(schema, {key: set(table.values()) for _, key, table in tables})
    wire = [{key: table[data.get(name, missing)] for name, key, table in tables}
            for data in datas]
    if any(missing in table.values() for _, _, table in tables):   # absent: not on the wire
        wire = [{k: v for k, v in data.items() if v is not missing} for data in wire]
    return wire


def check_values(schema: Schema, values: dict[str, set]) -> None:
    """The contract's check of events whose fields take these values (wire form, `missing`
    for an absent field), each distinct value once: for events built where Python does not see
    them one by one (the member import's, built by PostgreSQL from checked values)."""
    if not field_by_field(schema):
        raise TypeError(f"{type(schema).__name__} does not check field by field: "
                        "check the events themselves")
    for name, field in schema.load_fields.items():
        key = field.data_key or name
        try:
            _check_field(field, key, values.get(key, {missing}))
        except ValidationError as exc:
            raise ContractError(f"data: {key}: {' '.join(map(str, exc.messages))}",
                                {key: exc.messages}) from None


def field_by_field(schema: Schema) -> bool:
    """Whether a load (and a dump) of the schema is one of each field on its own: it nests no
    schema, and its classes declare fields and no method (so no hook, no schema-level check)."""
    if any(isinstance(field, Nested) for field in schema.fields.values()):
        return False
    own = type(schema).__mro__[:type(schema).__mro__.index(Schema)]
    return not any(inspect.isroutine(member) for cls in own for member in vars(cls).values())


def _dumped(field, name: str, values: set) -> dict:
    """Each value's `field.serialize`; a plain String field gives text back as it is, so text
    skips the call (60,000 member numbers). A value the field cannot write is refused naming
    the field (the schema's dump would raise whatever its field raised)."""
    dumped = {}
    for value in values:
        if type(value) is str and type(field) is String:
            dumped[value] = value
            continue
        try:
            dumped[value] = field.serialize(name, {name: value})
        except (TypeError, ValueError, AttributeError):
            key = field.data_key or name
            reason = f"{value!r} cannot be written as {type(field).__name__}"
            raise ContractError(f"data: {key}: {reason}", {key: [reason]}) from None
    return dumped


def _round_trip(schema: Schema, datas: list[dict]) -> list[dict]:
    wire = schema.dump(datas, many=True)
    try:
        schema.load(wire, many=True)
    except ValidationError as exc:
        raise ContractError(f"data: {format_errors(exc.messages)}", exc.messages) from None
    return wire


def _check_field(field, key: str, values) -> None:
    """`field.deserialize` for each value, with two shortcuts that do exactly what it would:
    a text value of a plain String field goes straight to its validators (a regular
    expression is matched directly: 60,000 member numbers), and a date for a Date field
    without validators is one already."""
    if type(field) is String:
        patterns = [v.regex for v in field.validators if type(v) is Regexp]
        others = [v for v in field.validators if type(v) is not Regexp]
        texts = [value for value in values if type(value) is str]
        rest = [value for value in values if type(value) is not str]
        for pattern in patterns:
            matched = list(map(pattern.match, texts))
            if None in matched:   # marshmallow says what is wrong with those
                rest.extend(v for v, m in zip(texts, matched, strict=True) if m is None)
                texts = [v for v, m in zip(texts, matched, strict=True) if m is not None]
        for validate in others:
            for value in texts:
                validate(value)
        values = rest
    elif type(field) is Date and not field.validators:
        values = [v for v in values if type(v) is not date]
    for value in values:
        field.deserialize(value, key, None)
