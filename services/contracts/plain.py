"""Event data checked without marshmallow, as the envelope already is (envelope._plainly_valid).

marshmallow's `load` was about a quarter of a busy consumer's time (some 70 µs an event, paid
again at each hop). For a contract made only of flat fields of the kinds below, `plain_loader`
compiles a function that accepts only what the schema accepts and answers the same values; for
anything else — a value of another type that marshmallow might coerce, a missing required
field, a bad value — it answers None and the schema decides (and names what is wrong).
A contract with nested fields, lists, hooks or other validators gets no plain loader at all.
"""

import math
import re
from collections.abc import Callable
from datetime import date, datetime

from marshmallow import EXCLUDE, Schema, fields, missing, validate

from .envelope import ISO_TIME

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

Check = Callable[[object], tuple[bool, object]]
_REFUSED = (False, None)


def _validator(check) -> Callable[[object], bool] | None:
    """A validator as a predicate on the loaded value, or None when it is not one we know."""
    if type(check) is validate.Regexp:
        return lambda v, match=check.regex.match: match(v) is not None
    if type(check) is validate.OneOf:
        return lambda v, choices=frozenset(check.choices): v in choices
    if type(check) is validate.Length:
        low, high, equal = check.min, check.max, check.equal
        if equal is not None:
            return lambda v: len(v) == equal
        return lambda v: (low is None or len(v) >= low) and (high is None or len(v) <= high)
    if type(check) is validate.Range:
        low, high = check.min, check.max
        low_in, high_in = check.min_inclusive, check.max_inclusive
        return lambda v: ((low is None or (v >= low if low_in else v > low))
                          and (high is None or (v <= high if high_in else v < high)))
    return None


def _iso(pattern: re.Pattern, parse) -> Check:
    """A time or a day in the one ISO form taken here; a day that does not exist (30 February)
    is left to the schema."""
    def check(v):
        if type(v) is not str or pattern.fullmatch(v) is None:
            return _REFUSED
        try:
            return True, parse(v)
        except ValueError:
            return _REFUSED
    return check


def _kind(field: fields.Field) -> Check | None:
    """The field's value check for the one wire type taken here: `(True, loaded)` or refused."""
    kind = type(field)
    if kind is fields.String:
        return lambda v: (True, v) if type(v) is str else _REFUSED
    if kind is fields.Boolean:
        return lambda v: (True, v) if type(v) is bool else _REFUSED
    if kind is fields.Integer:
        return lambda v: (True, v) if type(v) is int else _REFUSED
    if kind is fields.Float:
        finite_only = field.allow_nan is False

        def number(v):
            if type(v) is not int and type(v) is not float:
                return _REFUSED
            v = float(v)
            return (True, v) if not finite_only or math.isfinite(v) else _REFUSED
        return number
    if kind is fields.AwareDateTime:
        return _iso(ISO_TIME, datetime.fromisoformat)
    if kind is fields.Date:
        return _iso(_ISO_DATE, date.fromisoformat)
    return None


def _field_check(field: fields.Field) -> Check | None:
    if field.data_key is not None or getattr(field, "pre_load", None) \
            or getattr(field, "post_load", None):
        return None
    kind = _kind(field)
    predicates = [_validator(check) for check in field.validators]
    if kind is None or None in predicates:
        return None
    if not predicates:
        return kind

    def check(v):
        ok, loaded = kind(v)
        if ok and all(predicate(loaded) for predicate in predicates):
            return True, loaded
        return _REFUSED
    return check


def plain_loader(schema: Schema) -> Callable[[dict], dict | None] | None:
    """A plain loader for the schema's data, or None when the schema has parts it cannot
    mirror exactly."""
    if any(schema._hooks.values()) or schema.unknown != EXCLUDE:
        return None
    plan = []
    for name, field in schema.load_fields.items():
        check = _field_check(field)
        if check is None or field.attribute not in (None, name):
            return None
        plan.append((name, check, field.required, field.load_default, field.allow_none))

    def load(data: dict) -> dict | None:
        loaded = {}
        for name, check, required, default, allow_none in plan:
            value = data.get(name, missing)
            if value is missing:
                if required:
                    return None
                if default is not missing:
                    loaded[name] = default() if callable(default) else default
                continue
            if value is None:
                if not allow_none:
                    return None
                loaded[name] = None
                continue
            ok, value = check(value)
            if not ok:
                return None
            loaded[name] = value
        return loaded
    return load
