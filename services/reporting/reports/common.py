"""What several reports read from the read models: the tree, a class and its sessions."""

from dataclasses import replace

from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import select

from services.contracts import rules
from services.contracts.document import Column, Document, Table
from services.contracts.fields import CODE_PATTERN, UUID_PATTERN
from services.kit.errors import NotFound

from .. import domain as d
from ..models import rp_class, rp_org, rp_person, rp_program, rp_session, rp_state
from ..render.csv import MADE_BY, MADE_ON

# A report's sections are its tables (in the document's order, the main one first) and its
# facts (概况): a CSV holds one of them, the main table unless `section` names another.
OVERVIEW = "overview"


class ParamsSchema(Schema):
    class Meta:
        unknown = RAISE


def year_field(**kw):
    return fields.Integer(validate=validate.Range(min=2000, max=2100), **kw)


def code_field(**kw):
    return fields.String(validate=validate.Regexp(CODE_PATTERN), **kw)


def class_id_field(**kw):
    return fields.String(validate=validate.Regexp(UUID_PATTERN, error="Not a valid UUID."), **kw)


def section_field(sections: tuple[str, ...]):
    """`section`: which part of the report a CSV holds (the main table when left out)."""
    choices = (*sections, OVERVIEW)
    return fields.String(validate=validate.OneOf(
        choices, error=f"must be one of {', '.join(choices)} (the main table: {sections[0]})"))


def with_section(data: dict, params: dict) -> dict:
    """The report's data, naming the section asked for (when one was): what `sectioned` lays
    out. A filed report (built without one) holds none."""
    return {**data, "section": params["section"]} if params.get("section") else data


def sectioned(document: Document, data: dict, sections: tuple[str, ...], made_by: str
              ) -> Document:
    """The document with its 制表单位 / 制表日期 (the organisation `made_by` names, today in
    Asia/Shanghai) as its last facts; with only the one table `data` names as its section,
    if it names one (the facts as a table of their own for `overview`). Each table carries its
    section's name: a page links to its CSV."""
    today = d.today()
    facts = [*document.facts, (MADE_BY, made_by), (MADE_ON, f"{today.year}年{today.month}月"
                                                            f"{today.day}日")]
    named = [replace(table, section=name)
             for table, name in zip(document.tables, sections, strict=True)]
    section = data.get("section")
    if section is None:
        tables = named
    elif section == OVERVIEW:
        tables = [Table("概况", [Column("label", "项目"), Column("value", "内容")],
                        [{"label": label, "value": value} for label, value in facts],
                        sheet="概况")]
    else:
        tables = [named[sections.index(section)]]
    return Document(document.title, document.subtitle, facts, tables, document.charts)


def made_by(tree: d.OrgTree, org_code: str | None) -> str:
    """Who a report is made by: the organisation it is limited to, else the district (the
    tree's root)."""
    roots = tree.roots()
    return tree.name(org_code or (roots[0] if roots else None))


_tree: tuple[tuple, d.OrgTree] | None = None   # the last tree built, with its version


def load_tree(db) -> d.OrgTree:
    """The organisation tree, built again only when organisation_changed events (or a replay)
    moved it since the last build: building a district's tree was a large share of a filing's
    time."""
    global _tree
    version = tuple(db.execute(select(rp_state.c.generation, rp_state.c.tree_version)
                               .where(rp_state.c.id == 1)).one_or_none() or ())
    if _tree is not None and version and _tree[0] == version:
        return _tree[1]
    rows = db.execute(select(rp_org.c.org_code, rp_org.c.name, rp_org.c.parent_code,
                             rp_org.c.kind, rp_org.c.sector,
                             rp_org.c.secretary_member_no)).all()
    tree = d.OrgTree.build(d.Org(*row) for row in rows)
    _tree = (version, tree)
    return tree


def load_class(db, class_id: str):
    """The class, with its program's name and organiser (None until program_changed came)."""
    row = db.execute(
        select(rp_class, rp_program.c.name.label("program_name"),
               rp_program.c.organiser_org_code.label("program_organiser"))
        .outerjoin(rp_program, rp_program.c.program_id == rp_class.c.program_id)
        .where(rp_class.c.class_id == class_id)).mappings().first()
    if row is None:
        raise NotFound(f"class {class_id} is not known to reporting (no class event seen yet)",
                       errors={"class_id": ["no class_published event named it"]})
    return row


NAMES_AT_ONCE = 1000


def names_of(db, member_nos) -> dict[str, str]:
    """People's names (姓名) by member_no, as person_changed told them; a person without one
    is left out (records then show "—")."""
    wanted = sorted({m for m in member_nos if m})
    names = {}
    for start in range(0, len(wanted), NAMES_AT_ONCE):
        names.update(db.execute(
            select(rp_person.c.member_no, rp_person.c.name)
            .where(rp_person.c.member_no.in_(wanted[start:start + NAMES_AT_ONCE]),
                   rp_person.c.name.is_not(None))).all())
    return names


def audience_label(row) -> str:
    if row["track"] == "secretaries":
        sector = d.SECTORS.get(row["sector"]) if row["sector"] else "各领域"
        module = d.label(d.MODULES, row["module"]) if row["module"] else ""
        return f"{sector}书记" + (f"·{module}" if module else "")
    return d.CATEGORIES.get(row["category"], "全体党员") if row["category"] else "全体党员"


def class_facts(row, tree: d.OrgTree, session_hours_ch: int | None = None) -> dict:
    """What every class report says of the class (row: `load_class`'s)."""
    class_hours = row["class_hours_ch"] if row["class_hours_ch"] is not None else session_hours_ch
    run_by = d.run_by(tree, row["program_organiser"] or row["organiser_org_code"])
    return {
        "class_id": row["class_id"], "program_id": row["program_id"],
        "program_name": row["program_name"], "run_by": run_by,
        "run_by_label": d.RUN_BY[run_by], "title": row["title"],
        "year": row["year"], "track": row["track"], "track_label": d.TRACKS[row["track"]],
        "organiser_org_code": row["organiser_org_code"],
        "organiser_name": tree.name(row["organiser_org_code"]),
        "audience": {"sector": row["sector"], "module": row["module"],
                     "category": row["category"]},
        "audience_label": audience_label(row),
        "delivery": row["delivery"], "delivery_label": d.label(d.DELIVERIES, row["delivery"]),
        "start_date": row["start_date"].isoformat(), "end_date": row["end_date"].isoformat(),
        "status": row["status"], "status_label": d.label(d.CLASS_STATUSES, row["status"]),
        "offline_capacity": row["offline_capacity"], "online_open": bool(row["online_open"]),
        "review_nominations": bool(row["review_nominations"]), "sequence": row["sequence"],
        "class_hours": None if class_hours is None else d.hours(class_hours),
        "completed_on": row["completed_on"].isoformat() if row["completed_on"] else None,
    }


def load_sessions(db, class_id: str) -> list:
    rows = db.execute(select(rp_session).where(rp_session.c.class_id == class_id)).mappings()
    return sorted(rows, key=lambda s: (d.as_utc(s["starts_at"]), s["sequence"], s["session_id"]))


def session_facts(s) -> dict:
    starts = d.local(s["starts_at"])
    return {
        "session_id": s["session_id"], "sequence": s["sequence"],
        "date": starts.date().isoformat(), "time": d.time_span(s["starts_at"], s["ends_at"]),
        "starts_at": starts.isoformat(), "ends_at": d.local_iso(s["ends_at"]),
        "course_title": s["course_title"], "core_theory": bool(s["core_theory"]),
        "kind": s["kind"], "kind_label": d.label(d.SESSION_KINDS, s["kind"]),
        "hours": d.hours(s["hours_ch"]), "venue_name": s["venue_name"],
        "instructor_name": s["instructor_name"], "live": bool(s["live"]),
        "status": s["status"], "status_label": d.label(d.SESSION_STATUSES, s["status"]),
    }


def core_theory(sessions: list, class_ratio: float) -> dict:
    """The two-thirds rule over the class's non-cancelled sessions, as every report shows it;
    before any session is known, the ratio the class event carried."""
    live = [s for s in sessions if s["status"] != "cancelled"]
    core = sum(1 for s in live if s["core_theory"])
    if live:
        ratio = round(core / len(live), 4)
        passes = rules.passes_two_thirds(core, len(live))
    else:
        ratio = round(float(class_ratio), 4)
        passes = 3 * ratio >= 2 - 1e-9
    return {"core_sessions": core, "sessions": len(live), "ratio": ratio, "passes": passes}


def class_fact_lines(facts: dict, core: dict) -> list[tuple[str, str]]:
    return [
        ("班次", facts["title"]),
        # .get: a version filed before programs were named is drawn from what it holds.
        ("培训项目", f"{facts.get('program_name') or facts['track_label']}（{facts['year']}年 "
                 f"{facts['track_label']}"
                 + (f" · {facts['run_by_label']}）" if facts.get("run_by_label") else "）")),
        ("主办单位", f"{facts['organiser_name']}（{facts['organiser_org_code']}）"),
        ("培训对象", facts["audience_label"]),
        ("培训方式", facts["delivery_label"]),
        ("培训日期", f"{facts['start_date']} 至 {facts['end_date']}"),
        ("班次状态", facts["status_label"]),
        ("线下名额", str(facts["offline_capacity"])),
        ("班次学时", "—" if facts["class_hours"] is None else f"{facts['class_hours']:g}"),
        ("核心理论课占比", f"{core['ratio'] * 100:.1f}%（{core['core_sessions']}/"
                     f"{core['sessions']}，{'达到' if core['passes'] else '未达到'}三分之二要求）"),
    ]
