"""Hostile messages for the `hostile` fault run, drawn with hypothesis from the event contracts.

Each message starts as a valid envelope whose `data` is drawn from the contract's marshmallow
schema, and is then broken in one way that the contract rejects (a wrong type, a missing
field, a few MB, 20,000 levels of brackets, unicode where a code belongs, an unknown version
or type, bytes that are not JSON, no body, another serialisation under its content type).
So the harness knows, without asking the services, that every one of them must end as a dead
letter. The draw is derandomized: the same code gives the same messages every run."""

import json
import pickle
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import cycle, islice

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from marshmallow import fields, validate

from services.contracts import CONTRACTS

JSON = "application/json"


@dataclass(frozen=True)
class Hostile:
    kind: str            # which corruption (KINDS)
    source: str          # published to `<source>.events`
    event_type: str      # with this routing key
    body: bytes
    content_type: str = JSON
    content_encoding: str = "utf-8"


# -- valid values, from the schemas ----------------------------------------------------------

def _validator(field, kind):
    return next((v for v in field.validators if isinstance(v, kind)), None)


def _text(field) -> st.SearchStrategy:
    pattern, choices = _validator(field, validate.Regexp), _validator(field, validate.OneOf)
    if choices is not None:
        return st.sampled_from(list(choices.choices))
    if pattern is not None:
        return st.from_regex(pattern.regex.pattern.strip("^$"), fullmatch=True)
    length = _validator(field, validate.Length)
    low = length.min if length and length.min is not None else 0
    high = length.max if length and length.max is not None else 40
    return st.text(min_size=low, max_size=min(high, 40))


def _number(field, integer: bool) -> st.SearchStrategy:
    bounds = _validator(field, validate.Range)
    low = bounds.min if bounds else None
    high = bounds.max if bounds else None
    if integer:
        return st.integers(min_value=low if low is not None else -10**6,
                           max_value=high if high is not None else 10**6)
    return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)


def valid_value(field) -> st.SearchStrategy:
    """A wire value the field loads."""
    if isinstance(field, fields.Nested):
        value = valid_data(field.schema)
    elif isinstance(field, fields.List):
        value = st.lists(valid_value(field.inner), max_size=3)
    elif isinstance(field, fields.AwareDateTime):
        value = st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat)
    elif isinstance(field, fields.Date):
        value = st.dates().map(lambda day: day.isoformat())
    elif isinstance(field, fields.Boolean):
        value = st.booleans()
    elif isinstance(field, fields.Integer):
        value = _number(field, integer=True)
    elif isinstance(field, fields.Float):
        value = _number(field, integer=False)
    else:
        value = _text(field)
    return st.none() | value if field.allow_none else value


def valid_data(schema) -> st.SearchStrategy:
    """A `data` object the schema loads: every required field, and some of the optional."""
    required = {name: valid_value(f) for name, f in schema.fields.items() if f.required}
    optional = {name: valid_value(f) for name, f in schema.fields.items() if not f.required}
    return st.fixed_dictionaries(required, optional=optional)


def valid_envelope(source: str, event_type: str) -> st.SearchStrategy:
    schema = CONTRACTS[(source, event_type)][1]()
    return st.builds(
        lambda event_id, moment, data: {
            "id": str(event_id), "type": event_type, "source": source,
            "occurred_at": moment.isoformat(), "version": 1, "data": data},
        st.uuids(), st.datetimes(timezones=st.just(UTC)), valid_data(schema))


def _schema(envelope: dict):
    return CONTRACTS[(envelope["source"], envelope["type"])][1]()


def _dump(value) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


# -- corruptions: each takes a valid envelope and returns a strategy of bad bodies -----------

# Values no field of that kind loads. Numbers' strings avoid "nan"/"inf", which float() reads.
_NOT_A_NUMBER = st.text(alphabet="xyz !?#", min_size=1, max_size=8)
_CONTAINERS = st.lists(st.integers(), max_size=3) | st.dictionaries(st.text(max_size=5),
                                                                    st.integers(), max_size=3)


def wrong_value(field) -> st.SearchStrategy:
    if isinstance(field, fields.Nested):
        return st.integers() | st.text(max_size=10) | st.lists(st.integers(), max_size=3)
    if isinstance(field, fields.Boolean):
        return _CONTAINERS | st.floats(min_value=0.1, max_value=0.9)
    if isinstance(field, fields.Number):
        return _NOT_A_NUMBER | st.booleans() | _CONTAINERS
    if isinstance(field, fields.Date | fields.DateTime | fields.List):
        return st.integers() | st.booleans() | st.dictionaries(st.text(max_size=5),
                                                               st.integers(), max_size=3)
    wrong = st.integers() | st.floats(allow_nan=False) | st.booleans() | _CONTAINERS
    return wrong if field.allow_none else wrong | st.none()


_ENVELOPE_WRONG = {
    "id": st.integers() | st.text(alphabet="xyz-", max_size=36) | st.none(),
    "type": st.integers() | st.none() | st.lists(st.text(max_size=3), max_size=2),
    "source": st.integers() | st.none() | st.booleans(),
    "occurred_at": st.integers() | st.sampled_from(
        ["2026-01-01T08:00:00", "2026-02-30T08:00:00+08:00", "yesterday", ""]),
    "version": st.sampled_from(["1", 1.0, 1.5, True, None, [1]]),
    "data": st.none() | st.text(max_size=10) | st.lists(st.integers(), max_size=3),
}


def wrong_type(envelope: dict) -> st.SearchStrategy:
    fields_ = _schema(envelope).fields
    names = list(fields_) + list(_ENVELOPE_WRONG)

    @st.composite
    def broken(draw):
        name = draw(st.sampled_from(names))
        if name in _ENVELOPE_WRONG:
            return _dump({**envelope, name: draw(_ENVELOPE_WRONG[name])})
        value = draw(wrong_value(fields_[name]))
        return _dump({**envelope, "data": {**envelope["data"], name: value}})
    return broken()


def missing_field(envelope: dict) -> st.SearchStrategy:
    required = [name for name, f in _schema(envelope).fields.items() if f.required]
    gaps = [("data", name) for name in required] + [("envelope", key) for key in envelope]

    def without(gap):
        where, name = gap
        if where == "envelope":
            return _dump({k: v for k, v in envelope.items() if k != name})
        data = {k: v for k, v in envelope["data"].items() if k != name}
        return _dump({**envelope, "data": data})
    return st.sampled_from(gaps).map(without)


def _patterned(envelope: dict) -> list[str]:
    """The data's text fields that only a pattern or a list of choices admits."""
    return [name for name, f in _schema(envelope).fields.items()
            if _validator(f, validate.Regexp) or _validator(f, validate.OneOf)]


def _huge_in(envelope: dict, where: str, text: str) -> bytes:
    if where == "unknown envelope key":   # the contract's reason names the key
        return _dump({**envelope, text: 1})
    if where in ("type", "source", "id"):
        return _dump({**envelope, where: text})
    return _dump({**envelope, "data": {**envelope["data"], where: text}})


def huge(envelope: dict) -> st.SearchStrategy:
    """1–4 MB in one string: a key of its own, a checked field (a code, an id, a choice)."""
    # The key first: hypothesis's first draw is the simplest, and the key is the worst case.
    places = ["unknown envelope key", "type", "source", "id"] + _patterned(envelope)
    return st.builds(
        lambda where, size, letter: _huge_in(envelope, where, letter * (size // len(
            letter.encode()))),
        st.sampled_from(places), st.integers(1_000_000, 4_000_000), st.sampled_from("x9中🙂"))


def deep(envelope: dict) -> st.SearchStrategy:
    """Brackets nested up to 20,000 deep: the whole body, its data, or one field's value."""
    slot = "\x00slot\x00"
    first = next(iter(envelope["data"]))   # every contract has a required field

    def nest(depth, brackets, where):
        opening, closing = brackets
        inner = opening * depth + "1" + closing * depth
        if where == "body":
            return inner.encode()
        data = slot if where == "data" else {**envelope["data"], first: slot}
        return _dump({**envelope, "data": data}).decode().replace(
            json.dumps(slot), inner).encode()
    return st.builds(nest, st.integers(10, 20_000),
                     st.sampled_from([("[", "]"), ('{"a":', "}")]),
                     st.sampled_from(["body", "data", "field"]))


# Characters that have no place in a code, an id or a choice.
_STRANGE = st.sampled_from([
    "\x00", "\ud800", "\udfff", "\u202e", "\u200f", "\u200b", "\ufeff", "🙂", "👨‍👩‍👧",
    "中", "é", "e\u0301", "\uffff", "\U0010ffff", " ", "\t", "\\", '"',
])


def unicode_in(envelope: dict) -> st.SearchStrategy:
    """Strange text where only plain text is allowed, or bytes that are not UTF-8."""
    places = _patterned(envelope) + ["type", "source", "id"]

    def insert(where, strange, position, escaped):
        """Escaped (`\\ud800`), a lone surrogate is valid JSON and reaches the contract's
        checks, and perhaps a reason; written raw, it is bytes that are not UTF-8."""
        value = envelope[where] if where in envelope else envelope["data"].get(where) or "x"
        value = str(value)
        at = position % (len(value) + 1)
        changed = value[:at] + strange + value[at:]
        if where in envelope:
            broken = {**envelope, where: changed}
        else:
            broken = {**envelope, "data": {**envelope["data"], where: changed}}
        return json.dumps(broken).encode() if escaped else _dump(broken)

    def encoded(codec):
        text = json.dumps(envelope, ensure_ascii=False)
        if codec == "bom":
            return "\ufeff".encode() + text.encode()
        return text.encode(codec, "replace")
    inside = st.builds(insert, st.sampled_from(places), _STRANGE, st.integers(0, 100),
                       st.booleans())
    raw = st.sampled_from(["utf-16", "utf-32", "bom"]).map(encoded) | st.sampled_from([
        b'{"id": "\xed\xa0\x80"}', b"\xc0\xaf", b"\xff\xfe\x00\x00", b'"\xe4\xb8"'])
    return inside | raw


def unknown_version(envelope: dict) -> st.SearchStrategy:
    versions = st.sampled_from([0, -1, 2, 99, 2**31, 2**63, 10**30]) | st.integers(2, 10**9)
    return versions.map(lambda version: _dump({**envelope, "version": version}))


def unknown_type(envelope: dict) -> st.SearchStrategy:
    """A type or source the routing did not say: another contract's, a near miss, a stranger."""
    types = st.sampled_from(sorted({t for _, t in CONTRACTS} - {envelope["type"]}))
    near = st.sampled_from([envelope["type"].upper(), f" {envelope['type']}",
                            f"{envelope['type']}.v2", f"{envelope['type']}\n"])
    stranger = st.from_regex(r"[a-z_]{1,30}", fullmatch=True).filter(
        lambda name: name != envelope["type"] and name != envelope["source"])
    return (st.builds(lambda t: _dump({**envelope, "type": t}), types | near | stranger)
            | st.builds(lambda s: _dump({**envelope, "source": s}), stranger))


def not_json(envelope: dict) -> st.SearchStrategy:
    text = json.dumps(envelope)
    broken = st.sampled_from([
        text[: len(text) // 2], text + "}", text + " trailing", repr(envelope),
        text.replace('"version": 1', '"version": NaN'), text.replace(": ", ":: ", 1),
        "[" + text + "]", "null", "true", "42", '"an event"', "[]",
        # Past Python's 4,300-digit limit: json.loads raises ValueError, not JSONDecodeError.
        text.replace('"version": 1', '"version": 1' + "0" * 5000),
        "9" * 5000,
    ]).map(str.encode)
    return broken | st.binary(min_size=1, max_size=200)


def empty(envelope: dict) -> st.SearchStrategy:
    return st.sampled_from([b"", b" ", b"\n", b"\x00", b"{}"])


def other_serialisation(envelope: dict) -> st.SearchStrategy:
    """The event in another format, under that format's content type (never unpickled)."""
    formats = {
        "application/x-python-serialize": lambda e: pickle.dumps(e),
        "application/x-yaml": lambda e: "\n".join(f"{k}: {v}" for k, v in e.items()).encode(),
        "application/xml": lambda e: ("<event>" + "".join(
            f"<{k}>{v}</{k}>" for k, v in e.items()) + "</event>").encode(),
        "application/x-www-form-urlencoded": lambda e: "&".join(
            f"{k}={v}" for k, v in e.items()).encode(),
        "application/zlib": lambda e: zlib.compress(_dump(e)),
    }
    return st.sampled_from(sorted(formats)).map(
        lambda kind: (formats[kind](envelope), kind))


def _with_type(pair) -> tuple[bytes, str]:
    return pair if isinstance(pair, tuple) else (pair, JSON)


CORRUPTIONS = {
    "wrong-type": wrong_type, "missing-field": missing_field, "huge": huge, "deep": deep,
    "unicode": unicode_in, "unknown-version": unknown_version, "unknown-type": unknown_type,
    "not-json": not_json, "empty": empty, "content-type": other_serialisation,
}
# How many of each in a hundred: huge bodies are a few MB each, so few.
WEIGHTS = {"wrong-type": 16, "missing-field": 12, "huge": 2, "deep": 8, "unicode": 14,
           "unknown-version": 8, "unknown-type": 12, "not-json": 12, "empty": 4,
           "content-type": 12}
KINDS = tuple(CORRUPTIONS)


def hostile(kind: str, targets: list[tuple[str, str]]) -> st.SearchStrategy:
    """One message of this kind, aimed at one of the (source, event type) targets."""
    def corrupt(target):
        source, event_type = target
        return valid_envelope(source, event_type).flatmap(CORRUPTIONS[kind]).map(
            lambda out: Hostile(kind, source, event_type, *_with_type(out)))
    return st.sampled_from(targets).flatmap(corrupt)


def draw(strategy: st.SearchStrategy, count: int) -> list:
    """`count` values of the strategy, the same ones on every run (hypothesis derandomized, no
    example database). A strategy with fewer distinct values than `count` repeats them."""
    drawn = []

    @settings(database=None, derandomize=True, max_examples=count, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(strategy)
    def keep(value):
        drawn.append(value)

    keep()
    return list(islice(cycle(drawn), count))


def hostile_messages(count: int, targets: list[tuple[str, str]]) -> list[Hostile]:
    """`count` bad messages in the proportions of WEIGHTS, kinds interleaved."""
    total = sum(WEIGHTS.values())
    shares = {kind: max(1, count * weight // total) for kind, weight in WEIGHTS.items()}
    shares["wrong-type"] += count - sum(shares.values())
    by_kind = [draw(hostile(kind, targets), n) for kind, n in shares.items()]
    # Round-robin over the kinds, so that every stretch of the run carries each kind.
    longest = max(len(batch) for batch in by_kind)
    return [batch[i] for i in range(longest) for batch in by_kind if i < len(batch)]
