"""Organisations and members: the tree, imports, registry changes, and who sits where.

Every change that reporting cares about is emitted once as organisation_changed or
person_changed (a person's name included: records name people); a re-import that changes
nothing emits nothing.
"""

from datetime import date, datetime

from sqlalchemy import func, select, update

from services.contracts import schema_for
from services.contracts.batch import check_values
from services.kit import clock
from services.kit.errors import InvalidInput, NotFound, RetryLater
from services.kit.sql import aware, upsert, utcnow

from . import domain, events, importers, member_writes
from .models import Member, Organisation

# What person_changed tells of a member: a change to any of these is told.
PERSON_FIELDS = ("name", "org_code", "joined_on", "employment", "secretary_of", "active")


# -- reading the tree -------------------------------------------------------------------------

def get_org(db, org_code: str) -> Organisation:
    org = db.get(Organisation, org_code)
    if org is None:
        raise NotFound(f"no organisation {org_code}", entity="organisation")
    return org


def ancestors(db, org_code: str) -> list[str]:
    """[org_code, parent, …, root]."""
    return domain.ancestors_from_path(get_org(db, org_code).path)


def subtree(db, org_code: str) -> list[str]:
    """The organisation and every one below it."""
    path = get_org(db, org_code).path
    return list(db.execute(
        select(Organisation.org_code).where(Organisation.path.startswith(path, autoescape=True))
        .order_by(Organisation.path)).scalars())


def members_outside(db, org_code: str, member_nos: list[str]) -> list[str]:
    """Of these people, the known ones whose organisation lies outside `org_code`'s subtree."""
    path = get_org(db, org_code).path
    return sorted(db.execute(
        select(Member.member_no).join(Organisation, Organisation.org_code == Member.org_code)
        .where(Member.member_no.in_(set(member_nos)),
               ~Organisation.path.startswith(path, autoescape=True))).scalars())


def under(org_code: str | None, path_column, db):
    """A filter: rows whose organisation lies in `org_code`'s subtree (none when no code)."""
    if org_code is None:
        return True
    path = get_org(db, org_code).path
    return path_column.startswith(path, autoescape=True)


def committee_map(db) -> dict[str, str | None]:
    return dict(db.execute(select(Organisation.org_code, Organisation.committee_code)).all())


# -- importing organisations ------------------------------------------------------------------

def import_orgs(db, rows: list[dict], emit, now: datetime | None = None) -> dict:
    """Keep the good rows of an organisation file (any order), report the bad ones."""
    now = now or utcnow()
    existing = {o.org_code: o for o in db.execute(select(Organisation.__table__))}
    good, bad = importers.validate_orgs(rows, {c: o.parent_code for c, o in existing.items()})
    parents = {c: o.parent_code for c, o in existing.items()}
    parents.update({r["org_code"]: r["parent_code"] for r in good})
    paths, _broken = domain.tree_paths(parents)

    changed_orgs, committee_moved, writes = [], [], []
    incoming = {r["org_code"]: r for r in good}
    for code, path in paths.items():
        old = existing.get(code)
        row = incoming.get(code)
        facts = {
            "org_code": code,
            "name": row["name"] if row else old.name,
            "parent_code": row["parent_code"] if row else old.parent_code,
            "kind": row["kind"] if row else old.kind,
            "sector": row["sector"] if row else old.sector,
            "secretary_member_no": old.secretary_member_no if old else None,
            "committee_code": domain.committee_of(path),
            "path": path,
            "depth": path.count("/") - 2,
        }
        if old is not None and all(getattr(old, k) == v for k, v in facts.items()):
            continue
        writes.append({**facts, "updated_at": now})
        if old is None or any(getattr(old, k) != facts[k]
                              for k in ("name", "parent_code", "kind", "sector")):
            changed_orgs.append(facts)
        if old is not None and old.committee_code != facts["committee_code"]:
            committee_moved.append(code)
    upsert(db, Organisation.__table__, writes, ["org_code"])
    for facts in changed_orgs:
        emit("organisation_changed", events.organisation_data(_Row(facts)))
    if committee_moved:
        _emit_people_of(db, committee_moved, emit)
    return {"kept": len(good), "bad": [b.__dict__ for b in bad], "changed": len(changed_orgs)}


class _Row:
    def __init__(self, values: dict):
        self.__dict__.update(values)


def _emit_people_of(db, org_codes: list[str], emit) -> None:
    """person_changed for the members of organisations that moved to another committee."""
    committees = committee_map(db)
    for start in range(0, len(org_codes), 1000):
        members = db.execute(select(Member).where(
            Member.org_code.in_(org_codes[start:start + 1000]))).scalars()
        for m in members:
            emit("person_changed", _person(m.member_no, m.name, m.org_code, committees,
                                           m.joined_on, m.employment, m.secretary_of,
                                           m.active))


def _person(member_no, name, org_code, committees, joined_on, employment, secretary_of,
            active):
    return events.person_data(member_no, name, org_code, committees.get(org_code), joined_on,
                              employment, secretary_of, active)


# -- importing members -------------------------------------------------------------------------

def import_members(db, rows: list, emit, now: datetime | None = None,
                   today: date | None = None, columns: list[str] | None = None) -> dict:
    """Keep the good rows of a chunk of a member file; update the people already known.
    Rows are dicts, or lists in the order of `columns`. Whether the file has a secretary_of
    column decides whether it speaks for secretaries.

    On PostgreSQL the write, the comparison and the person_changed events are one set-based
    statement (member_writes); elsewhere (SQLite) Python compares and emits. Both keep the
    same rules, and the unit tests hold them to it."""
    now = now or utcnow()
    today = today or clock.today(now)
    committees = committee_map(db)
    good, bad = importers.check_members(rows, committees, today, columns)
    speaks = "secretary_of" in columns if columns is not None else \
        any("secretary_of" in r for r in rows)
    if db.get_bind().dialect.name == "postgresql":
        _check_person_values(db, good, committees, speaks)
        changed, moves = member_writes.write(db, good, speaks, now)
    else:
        changed, moves = _write_members(db, good, committees, speaks, now, emit)
    secretaries_now: dict[str, str] = {}      # org -> its new secretary
    secretaries_gone: dict[str, str] = {}     # org -> its former secretary
    for member_no, secretary_of, before in moves:
        if secretary_of:
            secretaries_now[secretary_of] = member_no
        if before and before != secretary_of:
            secretaries_gone[before] = member_no
    _move_secretaries(db, secretaries_now, secretaries_gone, committees, emit)
    return {"kept": len(good), "bad": [b.__dict__ for b in bad], "changed": changed}


def _write_members(db, good, committees, speaks, now, emit):
    """The import's write, row by row in Python: what member_writes does in one statement."""
    good = [dict(zip(importers.KEPT_FIELDS, row, strict=True)) for row in good.rows()]
    numbers = [r["member_no"] for r in good]
    old = {}
    for start in range(0, len(numbers), 5000):
        old.update({m.member_no: m for m in db.execute(select(Member.__table__).where(
            Member.member_no.in_(numbers[start:start + 5000])))})
    writes, changed, moves = [], [], []
    for r in good:
        before = old.get(r["member_no"])
        secretary_of = r["secretary_of"] if speaks else (before.secretary_of if before else None)
        after = {"member_no": r["member_no"], "name": r["name"], "org_code": r["org_code"],
                 "joined_on": r["joined_on"], "employment": r["employment"],
                 "secretary_of": secretary_of, "active": True}
        if before is not None and all(getattr(before, k) == v for k, v in after.items()):
            continue
        writes.append({**after, "source_at": now})
        if before is None or any(getattr(before, k) != after[k] for k in PERSON_FIELDS):
            changed.append(after)
            was = before.secretary_of if before is not None else None
            if was != secretary_of:
                moves.append((r["member_no"], secretary_of, was))
    upsert(db, Member.__table__, writes, ["member_no"])
    for after in changed:
        emit("person_changed", _person(after["member_no"], after["name"], after["org_code"],
                                       committees, after["joined_on"], after["employment"],
                                       after["secretary_of"], True))
    return len(changed), moves


def _check_person_values(db, good, committees, speaks) -> None:
    """The person_changed contract, checked once per distinct value of each field the import's
    events can carry (PostgreSQL builds the events themselves)."""
    if not good:
        return
    secretaries = set(good.secretary_of)
    if not speaks:   # the secretary posts stay as they are: those stored go into the events
        secretaries = {None}
        for start in range(0, len(good), 5000):
            secretaries.update(db.execute(select(Member.secretary_of).distinct().where(
                Member.member_no.in_(good.member_no[start:start + 5000]))).scalars())
    org_codes = set(good.org_code)
    check_values(schema_for(events.SOURCE, "person_changed", 1), {
        "member_no": set(good.member_no), "name": set(good.name), "org_code": org_codes,
        "committee_code": {committees.get(code) for code in org_codes},
        "joined_on": set(good.joined_on),   # dates: PostgreSQL writes them as YYYY-MM-DD
        "employment": set(good.employment), "secretary_of": secretaries, "active": {True}})


def _move_secretaries(db, now_: dict[str, str], gone: dict[str, str], committees,
                      emit) -> None:
    """Organisations get their new secretaries; a secretary displaced by another stops being
    one (an organisation has one secretary). Set-based: a file may name thousands."""
    if not now_ and not gone:
        return
    m = Member.__table__
    displaced = db.execute(
        update(m).where(m.c.secretary_of.in_(list(now_)),
                        m.c.member_no.not_in(list(now_.values())))
        .values(secretary_of=None)
        .returning(m.c.member_no, m.c.name, m.c.org_code, m.c.joined_on, m.c.employment,
                   m.c.active)
    ).all()
    for d in displaced:
        emit("person_changed", _person(d.member_no, d.name, d.org_code, committees,
                                       d.joined_on, d.employment, None, d.active))
    o = Organisation.__table__
    changed, moment = [], utcnow()
    codes = list(set(now_) | set(gone))
    for start in range(0, len(codes), 5000):
        for org in db.execute(select(o).where(o.c.org_code.in_(codes[start:start + 5000]))):
            secretary = now_.get(org.org_code)
            if secretary is None and org.secretary_member_no != gone.get(org.org_code):
                continue   # someone else became secretary meanwhile
            if org.secretary_member_no != secretary:
                changed.append({**org._asdict(), "secretary_member_no": secretary,
                                "updated_at": moment})
    if db.get_bind().dialect.name == "postgresql":   # two columns, not every one
        member_writes.set_secretaries(db, [(org["org_code"], org["secretary_member_no"])
                                           for org in changed], moment)
    else:
        upsert(db, o, changed, ["org_code"])
    for org in changed:
        emit("organisation_changed", events.organisation_data(_Row(org)))


# -- the registry's changes -------------------------------------------------------------------

def apply_member_change(db, data: dict, occurred_at: datetime, emit) -> bool:
    """One member_registry.member_changed. An older change than what is stored is ignored.
    Returns whether anything reporting cares about changed."""
    org = db.get(Organisation, data["org_code"])
    if org is None:
        raise RetryLater(f"organisation {data['org_code']} is not known yet")
    member = db.get(Member, data["member_no"])
    if member is not None and aware(member.source_at) > occurred_at:
        return False
    change = data["change"]
    before = None if member is None else {k: getattr(member, k) for k in PERSON_FIELDS}
    if member is None:
        member = Member(member_no=data["member_no"], name=data["name"],
                        org_code=data["org_code"], joined_on=data["joined_on"],
                        employment=data["employment"], secretary_of=None, active=True,
                        source_at=occurred_at)
        db.add(member)
    member.source_at = occurred_at
    member.name = data["name"]
    if data.get("joined_on") is not None:
        member.joined_on = data["joined_on"]
    if data.get("employment") is not None:
        member.employment = data["employment"]
    if change in ("joined", "updated", "transferred"):
        member.org_code = data["org_code"]
        member.active = True
    elif change == "left":
        member.active = False
        if member.secretary_of:
            _set_secretary(db, member.secretary_of, None, emit)
            member.secretary_of = None
    elif change == "secretary_appointed":
        member.active = True
        if member.secretary_of and member.secretary_of != org.org_code:
            _set_secretary(db, member.secretary_of, None, emit)
        previous = org.secretary_member_no
        if previous and previous != member.member_no:
            other = db.get(Member, previous)
            if other is not None and other.secretary_of == org.org_code:
                other.secretary_of = None
                _emit_person(db, other, emit)
        member.secretary_of = org.org_code
        _set_secretary(db, org.org_code, member.member_no, emit)
    elif change == "secretary_removed":
        if member.secretary_of == org.org_code:
            member.secretary_of = None
        if org.secretary_member_no == member.member_no:
            _set_secretary(db, org.org_code, None, emit)
    db.flush()
    after = {k: getattr(member, k) for k in PERSON_FIELDS}
    if after != before:
        _emit_person(db, member, emit)
        return True
    return False


def _set_secretary(db, org_code: str, member_no: str | None, emit) -> None:
    org = db.get(Organisation, org_code)
    if org is not None and org.secretary_member_no != member_no:
        org.secretary_member_no = member_no
        org.updated_at = utcnow()
        emit("organisation_changed", events.organisation_data(org))


def _emit_person(db, member: Member, emit) -> None:
    org = db.get(Organisation, member.org_code)
    emit("person_changed", events.person_data(
        member.member_no, member.name, member.org_code, org.committee_code if org else None,
        member.joined_on, member.employment, member.secretary_of, member.active))


# -- members for the gateway ------------------------------------------------------------------

def get_member(db, member_no: str) -> Member:
    member = db.get(Member, member_no)
    if member is None:
        raise NotFound(f"no member {member_no}", entity="member")
    return member


def list_members(db, org_code: str, subtree_too: bool, page: int, per_page: int,
                 active_only: bool = True) -> tuple[list[tuple[Member, Organisation]], int]:
    get_org(db, org_code)
    query = select(Member, Organisation).join(
        Organisation, Organisation.org_code == Member.org_code)
    if subtree_too:
        query = query.where(under(org_code, Organisation.path, db))
    else:
        query = query.where(Member.org_code == org_code)
    if active_only:
        query = query.where(Member.active.is_(True))
    total = db.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = db.execute(query.order_by(Member.member_no)
                      .offset((page - 1) * per_page).limit(per_page)).all()
    return [tuple(r) for r in rows], total


def list_orgs(db, parent_code: str | None, within: str | None, kind: str | None,
              page: int, per_page: int) -> tuple[list[Organisation], int]:
    query = select(Organisation)
    if parent_code is not None:
        query = query.where(Organisation.parent_code == parent_code)
    if within is not None:
        query = query.where(under(within, Organisation.path, db))
    if kind is not None:
        if kind not in ("district", "committee", "grassroots"):
            raise InvalidInput("unknown kind", errors={"kind": [
                "one of district, committee, grassroots"]})
        query = query.where(Organisation.kind == kind)
    total = db.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = db.execute(query.order_by(Organisation.path)
                      .offset((page - 1) * per_page).limit(per_page)).scalars().all()
    return rows, total


