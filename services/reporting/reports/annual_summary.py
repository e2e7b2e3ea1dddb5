"""年度大培训统计: person-times per track against the programs' targets, district-run and
unit-run apart and in total, by sector and by party committee; secretary coverage (全覆盖); study
hours per person against the yearly quotas.

Person-times count completions (one person completing one class) of the year's classes, each
under the organisation, committee and sector its enrolment carried. A class is district-run when
its program's organiser is the district root, else unit-run; a unit program's target never adds
to the district's. Enrolments (报名人次) are the scope's people's seated enrolments (a nomination
waiting for review is none), and the classes beside them are the classes those enrolments are
in; the classes organised in the scope are counted apart. Coverage: a grassroots organisation
whose current secretary completed a secretaries-track class that year. Study hours: every active
person of the scope, the hours of the classes they completed that year (集中培训学时) and those
recorded from elsewhere (其他学时), against 56 (secretaries) or 32 (members). The SQL groups at
organisation level; scope and roll-ups are done here, so one query serves the district and any
subtree."""

from collections import Counter, defaultdict

from sqlalchemy import and_, case, func, literal, or_, select

from services.contracts.document import Chart, Column, Document, Table

from .. import domain as d
from ..models import (
    rp_class,
    rp_completion,
    rp_enrollment,
    rp_org,
    rp_person,
    rp_program,
    rp_study_hours,
)
from . import common

NAME = "annual-summary"
TITLE = "年度大培训统计"
SECTOR_ORDER = ("village", "residential", "institution", "soe", "two_new", None)
BANDS = ("none", "under_half", "under_quota", "reached")
BAND_LABELS = {"none": "0学时", "under_half": "不足一半", "under_quota": "过半未达标",
               "reached": "达到要求"}
SEATED = ("confirmed", "completed", "incomplete")
SECTIONS = ("tracks", "sectors", "committees", "hours", "hours-by-committee")   # as in layout


class Params(common.ParamsSchema):
    year = common.year_field(load_default=None, allow_none=True)   # default: this year
    org_code = common.code_field(load_default=None, allow_none=True)
    section = common.section_field(SECTIONS)


def _year_classes(year):
    return and_(rp_class.c.year == year, rp_class.c.status != "cancelled")


def _run_by(tree):
    """district | unit for a class row, from its program's organiser (the class's own while the
    program event has not arrived)."""
    organiser = func.coalesce(rp_program.c.organiser_org_code, rp_class.c.organiser_org_code)
    roots = tree.roots()
    return (case((organiser.in_(roots), "district"), else_="unit") if roots
            else literal("unit")).label("run_by")


def _with_program(query):
    return query.outerjoin(rp_program, rp_program.c.program_id == rp_class.c.program_id)


def build(db, params: dict, within: str | None = None) -> dict:
    year = params["year"]
    tree = common.load_tree(db)
    scope = d.Scope(tree, params.get("org_code"), within)
    quotas = d.quotas()
    run_by = _run_by(tree)

    targets, organised = Counter(), Counter()
    for track, organiser, target in db.execute(
            select(rp_program.c.track, rp_program.c.organiser_org_code,
                   rp_program.c.target_person_times).where(rp_program.c.year == year)):
        if scope.contains(organiser):
            targets[track, d.run_by(tree, organiser)] += target
    for track, organiser, n in db.execute(
            select(rp_class.c.track, rp_class.c.organiser_org_code, func.count())
            .where(_year_classes(year))
            .group_by(rp_class.c.track, rp_class.c.organiser_org_code)):
        if scope.contains(organiser):
            organised[track] += n

    # Person-times: completions, under the enrolment's organisation, committee and sector.
    at_enrolment = [func.coalesce(getattr(rp_enrollment.c, name), getattr(rp_completion.c, name))
                    for name in ("org_code", "committee_code", "sector")]
    done = db.execute(_with_program(
        select(rp_class.c.track, run_by, *at_enrolment, func.count())
        .select_from(rp_completion)
        .join(rp_class, rp_class.c.class_id == rp_completion.c.class_id)
        .outerjoin(rp_enrollment, rp_enrollment.c.enrollment_id == rp_completion.c.enrollment_id))
        .where(_year_classes(year), rp_completion.c.status == "completed")
        .group_by(rp_class.c.track, run_by, *at_enrolment)).all()

    # Enrolments of the scope's people, and the classes they are in (not the classes organised
    # in the scope: a committee's people sit mostly in the district's classes).
    seated = (select(rp_class.c.track, func.count(), func.count(rp_class.c.class_id.distinct()))
              .select_from(rp_enrollment)
              .join(rp_class, rp_class.c.class_id == rp_enrollment.c.class_id)
              .where(_year_classes(year), rp_enrollment.c.status.in_(SEATED))
              .group_by(rp_class.c.track))
    if scope.codes is not None:
        seated = seated.where(rp_enrollment.c.org_code.in_(sorted(scope.codes)))
    enrolled, attended = Counter(), Counter()
    for track, n, classes in db.execute(seated):
        enrolled[track], attended[track] = n, classes

    person_times = Counter()
    by_sector: dict = defaultdict(Counter)
    by_committee: dict = defaultdict(Counter)
    for track, run, org_code, committee, sector, n in done:
        if not scope.contains(org_code):
            continue
        person_times[track, run] += n
        by_sector[sector][track] += n
        by_committee[committee or tree.committee_of(org_code)][track] += n

    # Coverage: the current secretary of each grassroots organisation in scope.
    trained = set(db.execute(
        select(rp_completion.c.member_no).distinct()
        .join(rp_class, rp_class.c.class_id == rp_completion.c.class_id)
        .where(_year_classes(year), rp_class.c.track == "secretaries",
               rp_completion.c.status == "completed")).scalars())
    orgs = [o for o in tree.grassroots() if scope.contains(o.org_code)]
    coverage_sector: dict = defaultdict(Counter)
    coverage_committee: dict = defaultdict(Counter)
    for org in orgs:
        covered = org.secretary_member_no is not None and org.secretary_member_no in trained
        for bucket in (coverage_sector[org.sector], coverage_committee[tree.committee_of(
                org.org_code)]):
            bucket["orgs"] += 1
            bucket["covered"] += covered

    hours = _study_hours(db, year, tree, scope, quotas)

    tracks = [_track_line(track, label, targets, person_times, enrolled[track],
                          attended[track], organised[track])
              for track, label in d.TRACKS.items()]
    sectors = [{"sector": s, "label": d.sector_label(s),
                "secretaries": by_sector[s]["secretaries"], "members": by_sector[s]["members"],
                "total": sum(by_sector[s].values()),
                "orgs": coverage_sector[s]["orgs"], "covered": coverage_sector[s]["covered"],
                "coverage": d.rate(coverage_sector[s]["covered"], coverage_sector[s]["orgs"])}
               for s in SECTOR_ORDER if by_sector[s] or coverage_sector[s]]
    committee_codes = {c for c in by_committee} | {c for c in coverage_committee}
    committees = sorted(
        ({"committee_code": c, "name": tree.name(c) if c else "未归属党(工)委",
          "secretaries": by_committee[c]["secretaries"], "members": by_committee[c]["members"],
          "total": sum(by_committee[c].values()),
          "orgs": coverage_committee[c]["orgs"], "covered": coverage_committee[c]["covered"],
          "coverage": d.rate(coverage_committee[c]["covered"], coverage_committee[c]["orgs"])}
         for c in committee_codes),
        key=lambda r: (r["committee_code"] is None, r["committee_code"] or ""))
    total_orgs = len(orgs)
    total_covered = sum(r["covered"] for r in sectors)
    return common.with_section({
        "report": NAME, "title": TITLE, "year": year, "scope": scope.describe(),
        "made_by": common.made_by(tree, scope.org_code),
        "tracks": tracks, "totals": _track_totals(tracks),
        "by_sector": sectors, "by_committee": committees,
        "coverage": {"orgs": total_orgs, "covered": total_covered,
                     "rate": d.rate(total_covered, total_orgs)},
        "study_hours": hours,
    }, params)


def _track_line(track, label, targets, person_times, enrolled, attended, organised) -> dict:
    """One track's figures: `target` and `achievement` are the district's own (district-run
    person-times against the district's programs' targets), `person_times` both kinds."""
    line = {"track": track, "label": label}
    for run in d.RUN_BY:
        line[f"{run}_target"] = targets[track, run]
        line[f"{run}_person_times"] = person_times[track, run]
        line[f"{run}_achievement"] = d.rate(person_times[track, run], targets[track, run])
    return {**line, "target": line["district_target"],
            "achievement": line["district_achievement"],
            "person_times": sum(person_times[track, run] for run in d.RUN_BY),
            "enrolled": enrolled, "classes_attended": attended, "classes": organised}


def _track_totals(tracks: list[dict]) -> dict:
    keys = [f"{run}_{k}" for run in d.RUN_BY for k in ("target", "person_times")]
    totals = {k: sum(t[k] for t in tracks) for k in (
        *keys, "target", "person_times", "enrolled", "classes_attended", "classes")}
    for run in d.RUN_BY:
        totals[f"{run}_achievement"] = d.rate(totals[f"{run}_person_times"],
                                              totals[f"{run}_target"])
    totals["achievement"] = totals["district_achievement"]
    return totals


def _study_hours(db, year, tree, scope, quotas) -> dict:
    """Every active person of the scope against their quota, counted in the database: per
    committee, role (secretary or member) and band of hours reached. Hours are the classes'
    (completed classes of the year) and those recorded from elsewhere, not withdrawn."""
    credited = (
        select(rp_completion.c.member_no, func.sum(rp_completion.c.attended_ch).label("ch"))
        .join(rp_class, rp_class.c.class_id == rp_completion.c.class_id)
        .where(_year_classes(year), rp_completion.c.status == "completed")
        .group_by(rp_completion.c.member_no).subquery())
    elsewhere = (
        select(rp_study_hours.c.member_no, func.sum(rp_study_hours.c.hours_ch).label("ch"))
        .where(rp_study_hours.c.year == year, rp_study_hours.c.withdrawn.is_(False))
        .group_by(rp_study_hours.c.member_no).subquery())
    sitting = (select(rp_org.c.secretary_member_no.label("member_no"))
               .where(rp_org.c.secretary_member_no.is_not(None)).distinct().subquery())
    secretary = or_(rp_person.c.secretary_of.is_not(None), sitting.c.member_no.is_not(None))
    role = case((secretary, "secretary"), else_="member").label("role")
    quota = case((secretary, round(quotas.secretary * 100)), else_=round(quotas.member * 100))
    from_classes = func.coalesce(credited.c.ch, 0)
    from_elsewhere = func.coalesce(elsewhere.c.ch, 0)
    got = from_classes + from_elsewhere
    band = case((got == 0, "none"), (got >= quota, "reached"),
                (got * 2 < quota, "under_half"), else_="under_quota").label("band")
    # Committee from the event; where it is missing, the organisation (the tree knows it).
    org = case((rp_person.c.committee_code.is_(None), rp_person.c.org_code)).label("org")
    query = (select(rp_person.c.committee_code, org, role, band, func.count(),
                    func.sum(from_classes), func.sum(from_elsewhere))
             .select_from(rp_person)
             .outerjoin(credited, credited.c.member_no == rp_person.c.member_no)
             .outerjoin(elsewhere, elsewhere.c.member_no == rp_person.c.member_no)
             .outerjoin(sitting, sitting.c.member_no == rp_person.c.member_no)
             .where(rp_person.c.active.is_(True))
             .group_by(rp_person.c.committee_code, org, role, band))
    if scope.codes is not None:
        query = query.where(rp_person.c.org_code.in_(sorted(scope.codes)))
    groups = {r: Counter() for r in d.PERSON_ROLES}
    committees: dict = defaultdict(lambda: {r: Counter() for r in d.PERSON_ROLES})
    for committee, org_code, role_, band_, people, class_ch, other_ch in db.execute(query):
        committee = committee or tree.committee_of(org_code)
        for bucket in (groups[role_], committees[committee][role_]):
            bucket["people"] += people
            bucket["class_ch"] += int(class_ch or 0)
            bucket["other_ch"] += int(other_ch or 0)
            bucket["reached"] += people if band_ == "reached" else 0
            bucket[f"band_{band_}"] += people

    def line(role, counter):
        total_ch = counter["class_ch"] + counter["other_ch"]
        return {"role": role, "label": d.PERSON_ROLES[role], "quota": quotas.for_role(role),
                "people": counter["people"], "reached": counter["reached"],
                "rate": d.rate(counter["reached"], counter["people"]),
                "class_hours": d.hours(counter["class_ch"]),
                "other_hours": d.hours(counter["other_ch"]),
                "total_hours": d.hours(total_ch),
                "average_hours": (round(total_ch / counter["people"] / 100, 2)
                                  if counter["people"] else None),
                "bands": {band: counter[f"band_{band}"] for band in BANDS}}

    return {
        "quotas": {"secretary": quotas.secretary, "member": quotas.member},
        "groups": [line(role, groups[role]) for role in d.PERSON_ROLES],
        "by_committee": [
            {"committee_code": c, "name": tree.name(c) if c else "未归属党(工)委",
             **{f"{role}_{k}": line(role, committees[c][role])[k]
                for role in d.PERSON_ROLES for k in ("people", "reached", "rate")}}
            for c in sorted(committees, key=lambda c: (c is None, c or ""))],
    }


def file_parts(data: dict) -> tuple[str | None, int | None]:
    return (data["scope"] or {}).get("org_code"), data["year"]


def layout(data: dict) -> Document:
    scope = data["scope"]
    scope_text = f"{scope['name']}（{scope['org_code']}）" if scope else "全区"
    totals, coverage, hours = data["totals"], data["coverage"], data["study_hours"]
    facts = [
        ("年度", f"{data['year']}年"), ("统计范围", scope_text),
        ("完成人次", f"{totals['person_times']}（{d.RUN_BY['district']} "
                 f"{totals['district_person_times']}，目标 {totals['district_target']}，完成率 "
                 f"{_pct(totals['district_achievement'])}；{d.RUN_BY['unit']} "
                 f"{totals['unit_person_times']}，目标 {totals['unit_target']}）"),
        ("报名人次", f"{totals['enrolled']}（分布在 {totals['classes_attended']} 个班次；"
                 f"范围内主办班次 {totals['classes']} 个）"),
        ("书记参训覆盖率", f"{_pct(coverage['rate'])}（{coverage['covered']}/{coverage['orgs']} "
                     "个基层党组织）"),
        ("学时要求", f"书记 {hours['quotas']['secretary']:g} 学时，党员 "
                 f"{hours['quotas']['member']:g} 学时（{'、'.join(d.STUDY_HOUR_PARTS.values())}"
                 "分列）"),
    ]
    district, unit = d.RUN_BY["district"], d.RUN_BY["unit"]
    tracks = Table("培训项目完成情况", [
        Column("label", "培训项目"), Column("district_target", f"{district}目标人次", "int"),
        Column("district_person_times", f"{district}完成人次", "int"),
        Column("district_achievement", f"{district}完成率", "pct"),
        Column("unit_target", f"{unit}目标人次", "int"),
        Column("unit_person_times", f"{unit}完成人次", "int"),
        Column("person_times", "完成人次合计", "int"), Column("enrolled", "报名人次", "int"),
        Column("classes_attended", "参训班次", "int"), Column("classes", "主办班次", "int"),
    ], data["tracks"], totals={"label": "合计", **totals}, sheet="培训项目")
    sectors = Table("按领域统计", [
        Column("label", "领域"), Column("secretaries", "书记班人次", "int"),
        Column("members", "党员班人次", "int"), Column("total", "合计人次", "int"),
        Column("orgs", "基层党组织", "int"), Column("covered", "书记已参训", "int"),
        Column("coverage", "覆盖率", "pct"),
    ], data["by_sector"], totals=_sum_row("label", data["by_sector"]), sheet="按领域")
    committees = Table("按党(工)委统计", [
        Column("name", "党(工)委"), Column("secretaries", "书记班人次", "int"),
        Column("members", "党员班人次", "int"), Column("total", "合计人次", "int"),
        Column("orgs", "基层党组织", "int"), Column("covered", "书记已参训", "int"),
        Column("coverage", "覆盖率", "pct"),
    ], data["by_committee"], totals=_sum_row("name", data["by_committee"]), sheet="按党委")
    groups = [{**g, **{f"band_{b}": g["bands"][b] for b in BANDS}} for g in hours["groups"]]
    people = sum(g["people"] for g in groups)
    reached = sum(g["reached"] for g in groups)
    parts = {part: round(sum(g[f"{part}_hours"] for g in groups), 2)
             for part in d.STUDY_HOUR_PARTS}
    study = Table("学时完成情况", [
        Column("label", "对象"), Column("quota", "年度要求学时", "hours"),
        Column("people", "人数", "int"),
        *[Column(f"{part}_hours", label, "hours") for part, label in d.STUDY_HOUR_PARTS.items()],
        Column("average_hours", "人均学时", "hours"),
        Column("reached", "达标人数", "int"), Column("rate", "达标率", "pct"),
        *[Column(f"band_{b}", BAND_LABELS[b], "int") for b in BANDS],
    ], groups, totals={"label": "合计", "people": people, "reached": reached,
                       "rate": d.rate(reached, people),
                       **{f"{part}_hours": n for part, n in parts.items()},
                       "average_hours": round(parts["total"] / people, 2) if people else None,
                       **{f"band_{b}": sum(g[f"band_{b}"] for g in groups) for b in BANDS}},
        sheet="学时")
    study_committees = Table("学时达标（按党(工)委）", [
        Column("name", "党(工)委"), Column("secretary_people", "书记人数", "int"),
        Column("secretary_reached", "书记达标", "int"),
        Column("secretary_rate", "书记达标率", "pct"),
        Column("member_people", "党员人数", "int"), Column("member_reached", "党员达标", "int"),
        Column("member_rate", "党员达标率", "pct"),
    ], hours["by_committee"], totals=_hours_total(hours["by_committee"]), sheet="学时按党委")
    return common.sectioned(Document(
        f"{data['year']}年度大培训统计", scope_text, facts,
        [tracks, sectors, committees, study, study_committees], charts(data)), data, SECTIONS,
        data.get("made_by") or scope_text)


def _sum_row(label_key: str, rows: list[dict]) -> dict:
    total = {label_key: "合计"}
    for key in ("secretaries", "members", "total", "orgs", "covered"):
        total[key] = sum(r[key] for r in rows)
    total["coverage"] = d.rate(total["covered"], total["orgs"])
    return total


def _hours_total(rows: list[dict]) -> dict:
    total = {"name": "合计"}
    for role in d.PERSON_ROLES:
        people = sum(r[f"{role}_people"] for r in rows)
        reached = sum(r[f"{role}_reached"] for r in rows)
        total.update({f"{role}_people": people, f"{role}_reached": reached,
                      f"{role}_rate": d.rate(reached, people)})
    return total


def charts(data: dict) -> list[Chart]:
    tracks = data["tracks"]
    top = sorted((c for c in data["by_committee"] if c["total"]),
                 key=lambda c: (-c["total"], c["committee_code"] or ""))[:15]
    top.reverse()   # largest at the top of a horizontal bar chart
    sectors = [s for s in data["by_sector"] if s["orgs"]]
    trained = [s for s in data["by_sector"] if s["total"]]
    groups = data["study_hours"]["groups"]
    district, unit = d.RUN_BY["district"], d.RUN_BY["unit"]
    return [
        Chart("各培训项目完成人次与目标", [t["label"] for t in tracks],
              {f"{district}完成人次": [t["district_person_times"] for t in tracks],
               f"{district}目标人次": [t["district_target"] for t in tracks],
               f"{unit}完成人次": [t["unit_person_times"] for t in tracks]},
              value_label="人次"),
        Chart("各领域参训人次", [s["label"] for s in trained],
              {"书记班": [s["secretaries"] for s in trained],
               "党员班": [s["members"] for s in trained]}, value_label="人次"),
        Chart("各党(工)委参训人次（前15）", [c["name"] for c in top],
              {"书记班": [c["secretaries"] for c in top],
               "党员班": [c["members"] for c in top]}, kind="barh", value_label="人次"),
        Chart("基层党组织书记参训覆盖率（按领域）", [s["label"] for s in sectors],
              {"覆盖率": [s["coverage"] or 0 for s in sectors]}, percent=True,
              value_label="覆盖率"),
        Chart("年度学时完成情况（人数）", [BAND_LABELS[b] for b in BANDS],
              {g["label"]: [g["bands"][b] for b in BANDS] for g in groups}, value_label="人数"),
    ]


def _pct(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"
