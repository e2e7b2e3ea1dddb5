"""Scheduling's reads: the catalogue items a command names, other classes' bookings, pages of
lists, the sessions of a calendar. Set-based: one query per kind of thing, never per row."""

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, contains_eager, selectinload

from services.kit.database import take_turns

from .domain import Catalogue, live_sessions
from .models import (
    Course,
    Instructor,
    Program,
    Site,
    TrainingClass,
    TrainingSession,
    Venue,
)

REFERENCES = (("course_id", "courses", Course), ("venue_id", "venues", Venue),
              ("site_id", "sites", Site), ("instructor_id", "instructors", Instructor))


def lock_bookings(db: Session, inputs=(), sessions=()) -> None:
    """Writers that book the same venue, site or instructor take turns (until their commit),
    so that two workers never both find a room free and both book it. Writers of different
    resources go on in parallel."""
    take_turns(db, {f"peixun.scheduling.{column}.{value}"
                    for column in ("venue_id", "site_id", "instructor_id")
                    for value in [item.get(column) for item in inputs]
                    + [getattr(s, column) for s in sessions] if value})


def catalogue_for(db: Session, inputs=(), sessions=()) -> Catalogue:
    """The catalogue items named by session inputs (dicts) and sessions (rows), in one query
    per kind."""
    catalogue = Catalogue()
    for key, attribute, model in REFERENCES:
        ids = {item.get(key) for item in inputs} | {getattr(s, key) for s in sessions}
        ids.discard(None)
        if ids:
            rows = db.scalars(select(model).where(model.id.in_(ids))).unique().all()
            getattr(catalogue, attribute).update({row.id: row for row in rows})
    return catalogue


class DbBookings:
    """Other classes' sessions that may collide with the ones being checked."""

    def __init__(self, db: Session):
        self.db = db

    def overlapping(self, sessions, exclude_class_id):
        sessions = live_sessions(sessions)
        clauses = []
        for column in ("venue_id", "site_id", "instructor_id"):
            ids = {getattr(s, column) for s in sessions} - {None}
            if ids:
                clauses.append(getattr(TrainingSession, column).in_(ids))
        if not clauses:
            return []
        earliest = min(s.starts_at for s in sessions)
        latest = max(s.ends_at for s in sessions)
        with self.db.no_autoflush:   # the sessions being checked are not written yet
            return self.db.scalars(
                select(TrainingSession).join(TrainingSession.training_class)
                .options(contains_eager(TrainingSession.training_class))
                .where(TrainingSession.class_id != exclude_class_id,
                       TrainingSession.status != "cancelled",
                       TrainingClass.status != "cancelled",
                       TrainingSession.starts_at < latest, TrainingSession.ends_at > earliest,
                       or_(*clauses))
            ).unique().all()


def program_by_key(db: Session, year: int, track: str, organiser: str) -> Program | None:
    return db.scalars(select(Program).where(
        Program.year == year, Program.track == track, Program.organiser_org_code == organiser
    )).first()


def page_of(db: Session, statement, page: int, per_page: int) -> tuple[list, int]:
    total = db.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    items = db.scalars(statement.limit(per_page).offset((page - 1) * per_page)).unique().all()
    return list(items), total


def classes(db: Session, query: dict) -> tuple[list, int]:
    statement = (select(TrainingClass).join(TrainingClass.program)
                 .options(contains_eager(TrainingClass.program),
                          selectinload(TrainingClass.sessions))
                 .order_by(TrainingClass.start_date, TrainingClass.title, TrainingClass.id))
    if query.get("year") is not None:
        statement = statement.where(Program.year == query["year"])
    if query.get("track"):
        statement = statement.where(Program.track == query["track"])
    if query.get("organiser_org_code"):
        statement = statement.where(Program.organiser_org_code == query["organiser_org_code"])
    if query.get("program_id"):
        statement = statement.where(TrainingClass.program_id == query["program_id"])
    if query.get("status"):
        statement = statement.where(TrainingClass.status == query["status"])
    if not query.get("include_drafts", True):
        statement = statement.where(TrainingClass.status != "draft")
    return page_of(db, statement, query["page"], query["per_page"])


def programs(db: Session, query: dict) -> tuple[list, int]:
    statement = select(Program).order_by(Program.year.desc(), Program.track,
                                         Program.organiser_org_code)
    for name in ("year", "track", "organiser_org_code"):
        if query.get(name) is not None:
            statement = statement.where(getattr(Program, name) == query[name])
    return page_of(db, statement, query["page"], query["per_page"])


def courses(db: Session, query: dict) -> tuple[list, int]:
    statement = select(Course).order_by(Course.core_theory.desc(), Course.title)
    if query.get("core_theory") is not None:
        statement = statement.where(Course.core_theory == query["core_theory"])
    if query.get("kind"):
        statement = statement.where(Course.default_kind == query["kind"])
    items, _ = page_of(db, statement, 1, 10_000)   # a catalogue is small; JSON lists filter here
    if query.get("sector"):
        items = [c for c in items if not c.sectors or query["sector"] in c.sectors]
    return _slice(items, query)


def instructors(db: Session, query: dict) -> tuple[list, int]:
    statement = select(Instructor).order_by(Instructor.kind, Instructor.name)
    if query.get("kind"):
        statement = statement.where(Instructor.kind == query["kind"])
    return page_of(db, statement, query["page"], query["per_page"])


def venues(db: Session, query: dict) -> tuple[list, int]:
    return page_of(db, select(Venue).order_by(Venue.seats.desc(), Venue.name),
                   query["page"], query["per_page"])


def sites(db: Session, query: dict) -> tuple[list, int]:
    statement = select(Site).order_by(Site.kind, Site.name)
    if query.get("kind"):
        statement = statement.where(Site.kind == query["kind"])
    items, _ = page_of(db, statement, 1, 10_000)
    if query.get("audience"):
        items = [s for s in items if not s.audiences or query["audience"] in s.audiences]
    return _slice(items, query)


def _slice(items: list, query: dict) -> tuple[list, int]:
    start = (query["page"] - 1) * query["per_page"]
    return items[start:start + query["per_page"]], len(items)


def calendar_sessions(db: Session, **where) -> list[TrainingSession]:
    """Sessions of classes that were ever published, by venue, site or instructor id: drafts
    are private."""
    (column, value), = where.items()
    return list(db.scalars(
        select(TrainingSession).join(TrainingSession.training_class)
        .options(contains_eager(TrainingSession.training_class))
        .where(getattr(TrainingSession, column) == value,
               TrainingClass.published_at.is_not(None))
        .order_by(TrainingSession.starts_at, TrainingSession.id)
    ).unique().all())
