"""The OpenAPI 3 document, built from the gateway's own routes and the services' marshmallow
schemas: what is documented is what is served."""

import inspect
import re
from datetime import date, timedelta

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from services.kit import clock

from .http import Http

PATH_PARAM = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_]+)>")

PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "rule": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {
            "type": "array", "items": {"type": "string"}}},
    },
    "required": ["type", "title", "status", "detail"],
}
PAGE = {
    "type": "object",
    "description": "a page of a list",
    "properties": {
        "items": {"type": "array", "items": {"type": "object"}},
        "total": {"type": "integer", "minimum": 0},
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1},
    },
    "required": ["items", "total", "page", "per_page"],
}
STATEMENT_RESULT = {
    "type": "object",
    "description": "an xAPI 1.0.3 StatementResult",
    "properties": {
        "statements": {"type": "array", "items": {
            "type": "object", "required": ["id", "actor", "verb", "object", "timestamp"]}},
        "more": {"type": "string", "description": "the next page's relative URL, or \"\""},
    },
    "required": ["statements", "more"],
}
JSON_OBJECT = {"type": "object"}
ERRORS = {
    "400": "the request cannot be read", "401": "no token, or an unknown one",
    "403": "outside the caller's role or organisation", "404": "no such thing",
    "409": "a rule refused it", "413": "the body is too large",
    "422": "the input is not valid (each field's reasons in `errors`)",
    "502": "a service failed", "503": "a service is not running",
    "504": "a service did not answer in time",
}


SUCCESS = {200: "success", 201: "created"}
# The end of a docstring's first sentence: a full stop (or 。) before a space or the end.
SENTENCE_END = re.compile(r"(?<=[.。!?])(?:\s+|$)")
MAX_SUMMARY = 120


def summary_and_description(doc: str) -> tuple[str, str]:
    """A docstring's first sentence is the operation's summary, the rest its description: a
    summary is never a first line cut mid-sentence."""
    first, _, rest = doc.strip().partition("\n\n")
    first = " ".join(first.split())
    end = SENTENCE_END.search(first)
    summary = first[:end.start()] if end else first
    description = " ".join([first[len(summary):].strip(), rest.strip()]).strip()
    return summary, description


# -- links: the id one operation answers feeds the operations that take it ---------------------
# (source operationId, JSON pointer into its answer, path parameter, target operationIds, the
# links' names' suffix)
FEEDS = (
    ("create_program", "/program_id", "program_id", ("get_program", "update_program")),
    ("create_class", "/class_id", "class_id", (
        "get_class", "update_class", "add_session", "publish_class", "cancel_class",
        "complete_class", "nominate", "list_enrolments", "class_places", "list_quotas",
        "class_progress", "file_report", "class_filings", "class_calendar")),
    ("create_class", "/sessions/0/session_id", "session_id", (
        "get_session", "check_in", "check_in_batch", "correct_attendance",
        "session_attendance"), "_of_first_session"),
    ("add_session", "/session_id", "session_id", (
        "get_session", "replace_session", "remove_session", "reschedule_session",
        "cancel_session", "complete_session", "check_in", "check_in_batch",
        "correct_attendance", "session_attendance")),
    ("nominate", "/enrolled/0/enrollment_id", "enrollment_id", (
        "get_enrolment", "accept_nomination", "reject_nomination", "withdraw",
        "enrolment_certificate")),
    ("file_report", "/filing_id", "filing_id", (
        "get_filing", "acknowledge_filing", "return_filing", "filing_document")),
    ("create_course", "/course_id", "course_id", ("update_course",)),
    ("create_venue", "/venue_id", "venue_id", ("update_venue", "venue_calendar")),
    ("create_site", "/site_id", "site_id", ("update_site", "site_calendar")),
    ("create_instructor", "/instructor_id", "instructor_id",
     ("update_instructor", "instructor_calendar")),
)


def links() -> dict[str, dict[str, dict]]:
    """Each source operation's OpenAPI links, by link name."""
    found: dict[str, dict[str, dict]] = {}
    for source, pointer, parameter, targets, *suffix in FEEDS:
        for target in targets:
            found.setdefault(source, {})[target + "".join(suffix)] = {
                "operationId": target,
                "parameters": {parameter: f"$response.body#{pointer}"},
                "description": f"`{pointer[1:].replace('/', '.')}` of the answer is the "
                               f"`{parameter}` of {target}."}
    for report in ("class-record", "class-plan"):
        found["create_class"][f"get_report_{report.replace('-', '_')}"] = {
            "operationId": "get_report",
            "parameters": {"report": report, "query.class_id": "$response.body#/class_id"},
            "description": f"The class's {report} report."}
    found["create_program"]["list_classes"] = {
        "operationId": "list_classes", "parameters": {"query.program_id":
                                                      "$response.body#/program_id"},
        "description": "The program's classes; create one with its `program_id` in the body "
                       "of create_class."}
    found["record_study_hours"] = {"withdraw_study_hours": {
        "operationId": "withdraw_study_hours",
        "parameters": {"member_no": "$request.path.member_no",
                       "entry_id": "$response.body#/entry_id"},
        "description": "Withdraw the entry just recorded."}}
    return found


# -- examples: request bodies that succeed on the seeded demo district (`peixun seed`) ----------
# FX01 (南桥镇党委) runs no secretaries program of its own in the seed; 3101200000001 is the
# sitting secretary of FX010001, below it, in the full and the small district alike.
DEMO_ORGANISER = "FX01"
DEMO_SECRETARY = "3101200000001"
# Ids a body names come from an earlier answer (see the links): these stand in for them.
PROGRAM_ID = "00000000-0000-4000-8000-000000000001"
COURSE_ID = "00000000-0000-4000-8000-000000000002"
BODY_IDS = {"program_id": ("create_program", PROGRAM_ID, "GET /api/v1/programs"),
            "course_id": ("create_course", COURSE_ID, "GET /api/v1/courses?core_theory=true")}


def training_day(today: date) -> date:
    """A week ahead, kept within this year: the examples' class and sessions fall on it."""
    return min(today + timedelta(days=7), date(today.year, 12, 31))


def examples(today: date) -> dict[str, dict]:
    """A request body per operation that takes one, by operationId."""
    day = training_day(today).isoformat()

    def at(hh_mm: str) -> str:
        return f"{day}T{hh_mm}:00+08:00"

    core = {"course_id": COURSE_ID, "instructor_name": "区委党校教师"}
    session = {"course_title": "基层党组织书记工作交流", "hours": 1.5, "kind": "seminar",
               "starts_at": at("14:00"), "ends_at": at("15:30"), "venue_name": "南桥镇党群服务中心",
               "instructor_name": "南桥镇党委组织委员"}
    klass = {"title": f"{today.year}年南桥镇基层党组织书记轮训班",
             "audience": {"module": "advanced", "sector": None}, "offline_capacity": 40,
             "delivery": "offline", "start_date": day, "end_date": day}
    return {
        "create_program": {"year": today.year, "track": "secretaries",
                           "organiser_org_code": DEMO_ORGANISER,
                           "name": f"{today.year}年南桥镇基层党组织书记培训",
                           "target_person_times": 120},
        "update_program": {"target_person_times": 150},
        "create_course": {"title": "学习贯彻党的二十届三中全会精神", "core_theory": True,
                          "themes": ["理论学习"], "default_kind": "lecture",
                          "default_hours": 1.5, "sectors": []},
        "update_course": {"default_hours": 2},
        "create_instructor": {"name": "王志强", "affiliation": "区委党校",
                              "kind": "party_school_professor"},
        "update_instructor": {"affiliation": "上海市委党校"},
        "create_venue": {"name": "区委党校第三教室", "seats": 60, "address": "南桥镇解放东路"},
        "update_venue": {"seats": 80},
        "create_site": {"name": "吴房村乡村振兴示范点", "kind": "rural_revitalisation",
                        "audiences": ["new_member"], "group_capacity": 40,
                        "address": "青村镇吴房村"},
        "update_site": {"group_capacity": 50},
        "create_class": {**klass, "program_id": PROGRAM_ID, "publish": False, "sessions": [
            {**core, "starts_at": at("09:00"), "ends_at": at("10:30")},
            {**core, "starts_at": at("10:45"), "ends_at": at("12:15")}]},
        "update_class": {"offline_capacity": 50},
        "cancel_class": {"reason": "因故取消，另行安排"},
        "add_session": session,
        "replace_session": {**session, "course_title": "基层党组织书记工作经验交流"},
        "reschedule_session": {"starts_at": at("15:00"), "ends_at": at("16:30"),
                               "reason": "与区委会议冲突"},
        "cancel_session": {"reason": "授课教师因公出差"},
        "set_quota": {"seats": 10},
        "nominate": {"member_nos": [DEMO_SECRETARY], "mode": "offline"},
        "withdraw": {"reason": "工作冲突，无法参加"},
        "reject_nomination": {"reason": "已参加过本年度同类培训"},
        "check_in": {"member_no": DEMO_SECRETARY, "status": "present"},
        "check_in_batch": {"entries": [{"member_no": DEMO_SECRETARY, "status": "present"}]},
        "correct_attendance": {"member_no": DEMO_SECRETARY, "status": "leave",
                               "reason": "经组织批准请假"},
        "record_study_hours": {"year": today.year, "hours": 4, "source": "party_school",
                               "title": "市委党校专题学习", "on": today.isoformat()},
        "file_report": {"kind": "plan"},
        "return_filing": {"reason": "课程安排表缺少授课教师，请补充后重新报送"},
    }


def example_note(body: dict) -> str:
    """Where the ids a body names come from."""
    named = sorted({name for name in BODY_IDS if _names(body, name)})
    return "Put in place of the placeholder ids: " + "; ".join(
        f"`{name}`, the one {BODY_IDS[name][0]} answered (or one from {BODY_IDS[name][2]})"
        for name in named) + "." if named else ""


def _names(value, name: str) -> bool:
    if isinstance(value, dict):
        return name in value or any(_names(v, name) for v in value.values())
    if isinstance(value, list):
        return any(_names(v, name) for v in value)
    return False


def routes(service_cls):
    """The documented routes: every Http entrypoint but the pages (`document=False`)."""
    for _name, member in inspect.getmembers(service_cls):
        for entrypoint in getattr(member, "nameko_entrypoints", ()):
            if isinstance(entrypoint, Http) and entrypoint.document:
                yield member, entrypoint


def operation(method, entrypoint: Http, spec: APISpec, linked: dict, bodies: dict) -> dict:
    doc = inspect.getdoc(method) or method.__name__.replace("_", " ").capitalize() + "."
    summary, description = summary_and_description(doc)
    path_schemas = entrypoint.path or {}
    parameters = [{"in": "path", "name": name, "required": True,
                   "schema": path_schemas.get(name, {"type": "string"})}
                  for name in PATH_PARAM.findall(entrypoint.url)]
    if entrypoint.query is not None:
        parameters.append({"in": "query", "schema": entrypoint.query})
    default = {"$ref": "#/components/schemas/Page"} if entrypoint.page else JSON_OBJECT
    produces = entrypoint.produces or {"application/json": default}
    responses = {str(status): {"description": SUCCESS.get(status, "success"), "content": {
        content_type: {"schema": schema} for content_type, schema in produces.items()}}
        for status in entrypoint.success_statuses}
    if method.__name__ in linked:
        for status in entrypoint.success_statuses:
            responses[str(status)]["links"] = linked[method.__name__]
    for status, text in ERRORS.items():
        if status == "401" and entrypoint.public:
            continue
        responses[status] = {"description": text, "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    op = {"summary": summary, "operationId": method.__name__,
          "tags": [entrypoint.tag or "peixun"], "parameters": parameters,
          "responses": responses}
    if description.strip():
        op["description"] = description.strip()
    if entrypoint.body is not None:
        media = {"schema": entrypoint.body}
        if method.__name__ in bodies:
            body = bodies[method.__name__]
            media["examples"] = {"demo": {"summary": "accepted on the seeded demo district",
                                          "value": body}}
            if note := example_note(body):
                media["examples"]["demo"]["description"] = note
        op["requestBody"] = {"required": entrypoint.body_required,
                             "content": {"application/json": media}}
    if entrypoint.public:
        op["security"] = []
    return op


def build(service_cls, today: date | None = None) -> dict:
    spec = APISpec(
        title="peixun API", version="1.0.0", openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "The district's yearly mass training of party-organisation "
                             "secretaries and members: programs, classes, enrolment, "
                             "attendance, reports and filings. Errors are RFC 9457 problem "
                             "details; lists answer {items, total, page, per_page}."},
        security=[{"bearer": []}],
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Problem", PROBLEM)
    spec.components.schema("Page", PAGE)
    spec.components.schema("StatementResult", STATEMENT_RESULT)
    paths: dict[str, dict] = {}
    linked, bodies = links(), examples(today or clock.today())
    for method, entrypoint in routes(service_cls):
        path = PATH_PARAM.sub(r"{\1}", entrypoint.url)
        for verb in entrypoint.method.split(","):
            paths.setdefault(path, {})[verb.lower()] = operation(method, entrypoint, spec,
                                                                 linked, bodies)
    for path in sorted(paths):
        spec.path(path=path, operations=paths[path])
    return spec.to_dict()
