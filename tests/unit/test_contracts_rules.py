"""The rules and words services share (services.contracts.rules, .vocabulary)."""

import pytest

from services.contracts import fields, rules, vocabulary


@pytest.mark.parametrize(("core", "total", "passes"), [
    (2, 3, True),      # exactly two thirds passes
    (4, 6, True),
    (3, 5, False),     # 60 %
    (5, 8, False),     # 62.5 %: below two thirds though it rounds to "about two thirds"
    (6, 9, True),
    (0, 0, False),     # a class without sessions never passes
    (1, 1, True),
])
def test_two_thirds_counts_in_integers_so_exactly_two_thirds_passes(core, total, passes):
    assert rules.passes_two_thirds(core, total) is passes


@pytest.mark.parametrize(("core", "total"), [(0, 1), (1, 3), (3, 5), (5, 8), (2, 3), (0, 0)])
def test_adding_the_missing_core_sessions_makes_the_rule_hold(core, total):
    missing = rules.core_sessions_missing(core, total)
    if total:
        assert rules.passes_two_thirds(core + missing, total + missing)
    if missing:
        assert not rules.passes_two_thirds(core + missing - 1, total + missing - 1)


def test_the_new_member_category_has_the_articles_name():
    assert vocabulary.CATEGORIES["new_member"] == "三年内新入党党员"


@pytest.mark.parametrize("table", [
    "TRACKS", "SECTORS", "MODULES", "CATEGORIES", "EMPLOYMENTS", "DELIVERIES", "SESSION_KINDS",
    "ORG_KINDS", "ENROLLMENT_MODES", "ENROLLMENT_STATUSES", "ATTENDANCE_STATUSES",
    "FILING_KINDS",
])
def test_the_contracts_validate_exactly_the_codes_the_vocabulary_labels(table):
    assert getattr(fields, table) == tuple(getattr(vocabulary, table))


def test_a_label_falls_back_to_the_code_and_to_a_dash_for_none():
    assert vocabulary.label(vocabulary.TRACKS, "members") == "万名党员进课堂"
    assert vocabulary.label(vocabulary.TRACKS, "unknown") == "unknown"
    assert vocabulary.label(vocabulary.TRACKS, None) == "—"
