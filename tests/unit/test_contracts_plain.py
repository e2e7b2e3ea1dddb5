"""The plain loaders (services/contracts/plain.py) answer exactly what marshmallow answers, or
leave the decision to it: never a value it would refuse, never a different value."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from services.contracts import CONTRACTS, schema_for
from services.contracts.examples import EXAMPLES
from services.contracts.plain import plain_loader

PLAIN = [(source, event_type, version) for (source, event_type), versions in CONTRACTS.items()
         for version in versions
         if plain_loader(schema_for(source, event_type, version)) is not None]

ODD_VALUES = [None, "", " ", "3/3", "0310", "x" * 300, "FX01\n", "2026-05-06",
              "2026-05-06T09:00:00", "2026-05-06T09:00:00+08:00", "2026-05-06T01:00:00Z",
              "2026-02-30T09:00:00+08:00", "2026-02-30", "2026-05-06 09:00:00+08:00", "true",
              "1", "1.5", "nan", 0, 1, -1, 2, 2.0, 1.5, -0.5, 1e308, 10 ** 30, True, False, [], {},
              ["a"], {"a": 1}, float("nan"), float("inf")]


def wire(source, event_type, version):
    schema = schema_for(source, event_type, version)
    return schema, schema.dump(EXAMPLES[event_type])


def same_or_deferred(schema, data):
    """The plain loader's answer is None (marshmallow decides) or marshmallow's own."""
    plain = plain_loader(schema)(data)
    if plain is None:
        return
    try:
        loaded = schema.load(data)
    except ValidationError as exc:
        pytest.fail(f"plain accepted what marshmallow refuses: {data!r}: {exc.messages}")
    assert plain == loaded, data
    for name, value in plain.items():   # 1 and 1.0 are equal; their types must be too
        assert type(value) is type(loaded[name]), name


def test_the_everyday_contracts_have_plain_loaders():
    """The hot path: a busy consumer's events skip marshmallow."""
    for key in [("live_platform", "viewer_attended", 1), ("enrollment", "attendance_recorded", 1),
                ("scheduling", "session_completed", 1), ("enrollment", "person_changed", 1)]:
        assert key in PLAIN


@pytest.mark.parametrize("source,event_type,version", PLAIN)
def test_the_example_loads_plainly_as_marshmallow_loads_it(source, event_type, version):
    schema, data = wire(source, event_type, version)
    assert plain_loader(schema)(data) == schema.load(data)


@pytest.mark.parametrize("source,event_type,version", PLAIN)
def test_every_field_set_to_odd_values_or_dropped(source, event_type, version):
    schema, data = wire(source, event_type, version)
    for name in schema.load_fields:
        same_or_deferred(schema, {k: v for k, v in data.items() if k != name})
        for value in ODD_VALUES:   # NaN too: JSON has none, but a dict given to parse_event may
            same_or_deferred(schema, {**data, name: value})
    same_or_deferred(schema, {**data, "added_by_a_newer_producer": 1})


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
    | st.sampled_from(ODD_VALUES[:20]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                               max_size=3),
    max_leaves=5)


@pytest.mark.parametrize("source,event_type,version", PLAIN)
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_drawn_values_never_get_past_marshmallow(source, event_type, version, data):
    schema, example = wire(source, event_type, version)
    names = list(schema.load_fields)
    changed = data.draw(st.dictionaries(st.sampled_from(names), JSONISH, max_size=len(names)))
    same_or_deferred(schema, {**example, **changed})
