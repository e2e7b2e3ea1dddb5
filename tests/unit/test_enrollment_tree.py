"""The rules of the organisation tree and of the registry's changes, on enrollment's small
district (tests/support/worlds.py)."""

from datetime import UTC, datetime, timedelta

import pytest

from services.enrollment import tree
from services.enrollment.models import Member, Organisation
from services.kit import RetryLater
from services.kit.errors import NotFound
from tests.support.worlds import change

# -- the tree ----------------------------------------------------------------------------------

def test_the_tree_is_built_from_rows_in_any_order(world):
    org = world.db.get(Organisation, "FX0101")
    assert org.path == "/FX/FX01/FX0101/"
    assert org.committee_code == "FX01"       # the ancestor directly under the root
    assert world.db.get(Organisation, "FX").kind == "district"
    assert world.db.get(Organisation, "FX01").committee_code == "FX01"
    assert world.db.get(Organisation, "FX").committee_code is None


def test_ancestors_run_from_the_organisation_up_to_the_root(world):
    assert tree.ancestors(world.db, "FX0102") == ["FX0102", "FX01", "FX"]
    assert tree.ancestors(world.db, "FX") == ["FX"]
    with pytest.raises(NotFound):
        tree.ancestors(world.db, "NOPE")


def test_a_subtree_is_the_organisation_and_everything_below_it(world):
    assert set(tree.subtree(world.db, "FX01")) == {"FX01", "FX0101", "FX0102"}
    assert set(tree.subtree(world.db, "FX0201")) == {"FX0201"}
    assert len(tree.subtree(world.db, "FX")) == 6


def test_moving_an_organisation_moves_its_subtree_and_tells_who_changed_committee(world):
    tree.import_orgs(world.db, [{"row": 2, "org_code": "FX0102", "name": "某居民区党总支",
                                 "parent_code": "FX02", "kind": "grassroots",
                                 "sector": "residential"}], world.emit)
    assert tree.ancestors(world.db, "FX0102") == ["FX0102", "FX02", "FX"]
    [changed] = world.events("organisation_changed")
    assert changed["parent_code"] == "FX02"
    people = {p["member_no"]: p for p in world.events("person_changed")}
    assert set(people) == {"R1", "E1", "E2"}
    assert all(p["committee_code"] == "FX02" for p in people.values())
    assert all(p["name"] == f"党员{number}" for number, p in people.items())


def test_secretaries_are_known_on_both_sides(world):
    assert world.db.get(Organisation, "FX0101").secretary_member_no == "V1"
    assert world.db.get(Member, "V1").secretary_of == "FX0101"


# -- the registry's changes --------------------------------------------------------------------

def at(minutes):
    return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=400, minutes=minutes)


def test_a_transfer_moves_the_member_and_is_told_with_their_name(world):
    assert tree.apply_member_change(world.db, change("E1", "transferred", "FX0201"), at(1),
                                    world.emit)
    assert world.db.get(Member, "E1").org_code == "FX0201"
    [person] = world.events("person_changed")
    assert person["org_code"] == "FX0201" and person["committee_code"] == "FX02"
    assert person["name"] == "党员E1"


def test_a_rename_from_the_registry_is_told(world):
    assert tree.apply_member_change(world.db, change("E1", "updated", "FX0102", name="张三"),
                                    at(1), world.emit)
    [person] = world.events("person_changed")
    assert (person["member_no"], person["name"]) == ("E1", "张三")


def test_an_older_registry_change_never_overwrites_a_newer_one(world):
    tree.apply_member_change(world.db, change("E1", "transferred", "FX0201"), at(10),
                             world.emit)
    assert not tree.apply_member_change(world.db, change("E1", "transferred", "FX0101"), at(5),
                                        world.emit)
    assert world.db.get(Member, "E1").org_code == "FX0201"


def test_an_update_that_changes_nothing_reporting_needs_emits_nothing(world):
    assert not tree.apply_member_change(world.db, change("E1", "updated", "FX0102"), at(1),
                                        world.emit)
    assert world.events("person_changed") == []


def test_a_secretary_appointment_replaces_the_previous_secretary(world):
    tree.apply_member_change(world.db, change("E3", "secretary_appointed", "FX0101"), at(1),
                             world.emit)
    assert world.db.get(Organisation, "FX0101").secretary_member_no == "E3"
    assert world.db.get(Member, "V1").secretary_of is None
    assert world.db.get(Member, "E3").secretary_of == "FX0101"
    people = {p["member_no"]: (p["secretary_of"], p["name"])
              for p in world.events("person_changed")}
    assert people == {"V1": (None, "党员V1"), "E3": ("FX0101", "党员E3")}
    [org] = world.events("organisation_changed")
    assert org["secretary_member_no"] == "E3"


def test_a_member_who_leaves_stops_being_secretary_and_active(world):
    tree.apply_member_change(world.db, change("V1", "left", "FX0101"), at(1), world.emit)
    member = world.db.get(Member, "V1")
    assert (member.active, member.secretary_of) == (False, None)
    assert world.db.get(Organisation, "FX0101").secretary_member_no is None


def test_a_change_for_an_organisation_not_known_yet_waits(world):
    with pytest.raises(RetryLater):
        tree.apply_member_change(world.db, change("Z1", "joined", "NOPE"), at(1), world.emit)


def test_a_new_member_joins_from_the_registry(world):
    tree.apply_member_change(world.db, change("Z1", "joined", "FX0102"), at(1), world.emit)
    assert world.db.get(Member, "Z1").org_code == "FX0102"
    assert world.events("person_changed")[0]["member_no"] == "Z1"
