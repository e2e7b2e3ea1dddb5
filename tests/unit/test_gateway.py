"""The gateway's pieces: tokens stored as hashes, problem details naming each field (people's
accounts and the audit trail: test_gateway_accounts.py)."""

import json

import pytest
from sqlalchemy import select

from services.gateway import auth, problems
from services.gateway.models import ApiToken
from services.kit.errors import Forbidden, InvalidInput, NotFound, Unauthorized


@pytest.fixture
def session(sqlite_db):
    return sqlite_db("gateway")


def test_a_token_is_stored_only_as_its_hash(session):
    token_id, token = auth.create_token(session, "committee_admin", "FX01")
    [row] = session.execute(select(ApiToken)).scalars().all()
    assert token not in (row.token_hash, row.id) and row.id == token_id
    assert row.token_hash == auth.hash_token(token)
    principal = auth.authenticate(session, f"Bearer {token}")
    assert (principal.role, principal.org_code) == ("committee_admin", "FX01")
    assert (principal.token_id, principal.actor) == (token_id, f"token:{token_id}")


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer ", "Bearer px_unknown"])
def test_no_token_or_an_unknown_one_is_unauthorized(session, header):
    with pytest.raises(Unauthorized):
        auth.authenticate(session, header)


def test_subtree_roles_need_an_organisation_and_checkin_needs_classes(session):
    with pytest.raises(InvalidInput, match="needs an organisation"):
        auth.create_token(session, "org_admin")
    with pytest.raises(InvalidInput, match="names its classes"):
        auth.create_token(session, "checkin")
    with pytest.raises(InvalidInput, match="unknown role"):
        auth.create_token(session, "root")


def test_a_role_outside_the_allowed_ones_is_forbidden():
    with pytest.raises(Forbidden):
        auth.Principal("checkin").require("district_admin")
    auth.Principal("district_admin").require("district_admin")


def test_problem_details_name_each_field_by_its_path():
    error = InvalidInput("the input is not valid",
                         errors={"sessions": {"0": {"hours": ["Not a valid number."]}},
                                 "title": ["Missing data for required field."]})
    response = problems.from_exception(error)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    body = json.loads(response.get_data())
    assert body["status"] == 422 and body["title"] == "Unprocessable Content"
    assert body["errors"] == {"sessions.0.hours": ["Not a valid number."],
                              "title": ["Missing data for required field."]}


def test_domain_errors_keep_their_status_and_detail_across_rpc_serialisation():
    from nameko.exceptions import deserialize, serialize

    import services.kit.rpc  # noqa: F401 - registers the errors

    again = deserialize(serialize(NotFound("classes: no x", entity="classes")))
    assert isinstance(again, NotFound) and again.message == "classes: no x"
    assert problems.from_exception(again).status_code == 404
