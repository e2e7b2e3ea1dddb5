"""The OpenAPI document drives: a client that knows nothing but the document, starting on the
demo district (`peixun seed`'s organisations and people), sends each operation's own example
body and finds every path id by following the links from an earlier answer: a program, a
class, its sessions, a nomination, check-ins, a filing; every answer 2xx.

A body's ids (`program_id`, a session's `course_id`) stand in the examples as placeholders the
example's description names; the client puts in the ids the named operations answered, as a
person trying the API from /api/v1/docs does."""

import re

import pytest
import requests

from demo import district as demo_district
from services.gateway import openapi
from services.gateway.tokens import create
from tests.support.system import whole_system
from tests.support.waiting import wait_until

POINTER = re.compile(r"\$response\.body#((?:/\w+)+)")


class Client:
    """Calls operations by operationId: the body from the document's example, the path from a
    link of an answer already had."""

    def __init__(self, base, headers):
        self.base, self.headers = base, headers
        self.document = requests.get(f"{base}/api/v1/openapi.json", timeout=30).json()
        self.operations = {op["operationId"]: (path, verb, op)
                           for path, item in self.document["paths"].items()
                           for verb, op in item.items()}
        self.answers: dict[str, dict] = {}
        self.path_params: dict[str, dict] = {}
        self.followed: set[tuple[str, str]] = set()

    def example(self, op_id: str) -> dict | None:
        op = self.operations[op_id][2]
        if "requestBody" not in op:
            return None
        body = op["requestBody"]["content"]["application/json"]["examples"]["demo"]["value"]
        return self.fill(body)

    def fill(self, value):
        """The example with each placeholder id replaced by the id its operation answered."""
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        if not isinstance(value, dict):
            return value
        filled = {}
        for name, item in value.items():
            source = openapi.BODY_IDS.get(name)
            if source and item == source[1]:
                item = self.answers[source[0]][name]
            filled[name] = self.fill(item)
        return filled

    def link(self, source: str, name: str) -> dict:
        """What the link `name` of `source`'s answer gives: {parameter: value}."""
        path, verb, op = self.operations[source]
        responses = op["responses"]
        link = next(r["links"][name] for r in responses.values() if name in r.get("links", {}))
        values = {}
        for parameter, expression in link["parameters"].items():
            if (found := POINTER.fullmatch(expression)) is not None:
                value = self.answers[source]
                for step in found.group(1).strip("/").split("/"):
                    value = value[int(step)] if isinstance(value, list) else value[step]
            elif expression.startswith("$request.path."):
                value = self.path_params[source][expression.removeprefix("$request.path.")]
            else:
                value = expression
            values[parameter] = value
        self.followed.add((source, link["operationId"]))
        return link["operationId"], values

    def call(self, op_id: str, via: tuple[str, str] | None = None, path_params=None,
             expect=range(200, 300)):
        params, query = dict(path_params or {}), {}
        if via is not None:
            target, given = self.link(*via)
            assert target == op_id, (via, target)
            for name, value in given.items():
                if name.startswith("query."):
                    query[name[6:]] = value
                else:
                    params[name] = value
        path, verb, _ = self.operations[op_id]
        url = self.base + re.sub(r"{(\w+)}", lambda m: str(params[m.group(1)]), path)
        body = self.example(op_id)
        answer = requests.request(verb.upper(), url, params=query, timeout=30,
                                  headers=self.headers, **({"json": body} if body else {}))
        assert answer.status_code in expect, (op_id, body, answer.status_code, answer.text[:800])
        if answer.headers.get("Content-Type", "").startswith("application/json"):
            self.answers[op_id] = answer.json()
        self.path_params[op_id] = params
        return answer

    def call_when_heard(self, op_id, via, message):
        """The call, once the service behind it has heard the events of what came before."""
        def attempt():   # 404 or 503: not heard of yet; anything else is the answer
            answer = self.call(op_id, via, expect=range(200, 600))
            if answer.status_code in (404, 503):
                return None
            assert answer.status_code < 300, (op_id, answer.status_code, answer.text[:800])
            return answer

        return wait_until(attempt, timeout=30, message=message)


@pytest.fixture(scope="module")
def client(amqp_uri, vhost, database_urls):
    with whole_system(amqp_uri, vhost, database_urls) as (base, rpc):
        district = demo_district.small()
        orgs = [o.row() for o in district.orgs] + [
            {"org_code": demo_district.DISTRICT_CODE, "name": demo_district.DISTRICT_NAME,
             "parent_code": None, "kind": "district", "sector": None}]
        rpc.enrollment.import_orgs([{"row": i + 2, **row} for i, row in enumerate(orgs)])
        rpc.enrollment.import_members([
            {"row": i + 2, **m.row()} for i, m in enumerate(district.members)])
        token = create("district_admin", database_url=database_urls["gateway"])
        yield Client(base, {"Authorization": f"Bearer {token}"})


def test_the_examples_and_links_carry_a_class_from_program_to_check_in(client):
    c = client
    # the catalogue: each item created from its example, changed through the link
    for created, changed in (("create_course", "update_course"),
                             ("create_instructor", "update_instructor"),
                             ("create_venue", "update_venue"), ("create_site", "update_site")):
        assert c.call(created).status_code == 201
        c.call(changed, via=(created, changed))
    # a program, and its class with the program's id and the course's in its body
    assert c.call("create_program").status_code == 201
    c.call("update_program", via=("create_program", "update_program"))
    c.call("get_program", via=("create_program", "get_program"))
    assert c.call("create_class").status_code == 201
    assert c.answers["create_class"]["program_id"] == c.answers["create_program"]["program_id"]
    c.call("update_class", via=("create_class", "update_class"))
    assert c.call("add_session", via=("create_class", "add_session")).status_code == 201
    c.call("replace_session", via=("add_session", "replace_session"))
    c.call("publish_class", via=("create_class", "publish_class"))
    c.call("reschedule_session", via=("add_session", "reschedule_session"))
    c.call("list_classes", via=("create_program", "list_classes"))
    c.call("set_quota", path_params={"class_id": c.answers["create_class"]["class_id"],
                                     "committee_code": openapi.DEMO_ORGANISER})
    # the demo's secretary nominated, then checked in to the added session
    c.call_when_heard("nominate", ("create_class", "nominate"), "enrollment to hear of the class")
    assert c.answers["nominate"]["enrolled"][0]["member_no"] == openapi.DEMO_SECRETARY
    c.call("get_enrolment", via=("nominate", "get_enrolment"))
    c.call_when_heard("check_in", ("add_session", "check_in"),
                      "enrollment to hear of the session")
    c.call("check_in_batch", via=("add_session", "check_in_batch"))
    c.call("correct_attendance", via=("add_session", "correct_attendance"))
    sheet = c.call("session_attendance", via=("add_session", "session_attendance")).json()
    assert [row["member_no"] for row in sheet["items"]] == [openapi.DEMO_SECRETARY]
    c.call_when_heard("check_in", ("create_class", "check_in_of_first_session"),
                      "enrollment to hear of the class's first session")
    # the class's plan filed, its filing returned through the link, its reports
    c.call_when_heard("file_report", ("create_class", "file_report"),
                      "reporting to hear of the class")
    c.call("get_filing", via=("file_report", "get_filing"))
    c.call("return_filing", via=("file_report", "return_filing"))
    c.call("class_filings", via=("create_class", "class_filings"))
    c.call("get_report", via=("create_class", "get_report_class_plan"))
    c.call("get_report", via=("create_class", "get_report_class_record"))
    # study hours from elsewhere, withdrawn through the link
    c.call("record_study_hours", path_params={"member_no": openapi.DEMO_SECRETARY})
    c.call("withdraw_study_hours", via=("record_study_hours", "withdraw_study_hours"))
    # the ends: a withdrawal, a session cancelled, the class cancelled
    c.call("withdraw", via=("nominate", "withdraw"))
    c.call("cancel_session", via=("add_session", "cancel_session"))
    c.call("cancel_class", via=("create_class", "cancel_class"))
    tried = {op for op in c.answers} | set(c.path_params)
    bodies = {op_id for op_id, (_, _, op) in c.operations.items() if "requestBody" in op}
    # reject_nomination needs a class that reviews nominations: its schema checks its example
    assert bodies - tried == {"reject_nomination"}
