"""Scheduling: programs, the catalogue, classes and sessions, calendars. Each entrypoint
validates, calls the domain and hands its events to the outbox; the kit commits."""

from sqlalchemy import select

from services.contracts.commands import scheduling as schemas
from services.kit import NotFound, PublishingService, ServiceRpc
from services.kit.rpc import rpc
from services.kit.validation import load

from . import calendars, catalogue, domain, queries, views
from .models import Course, Instructor, Program, Site, TrainingClass, TrainingSession, Venue
from .seats import EnrolledSeats

# Seconds scheduling waits for enrollment to count a class's seated people.
SEATS_TIMEOUT = 5.0


class SchedulingService(PublishingService):
    name = "scheduling"
    enrollment = ServiceRpc("enrollment", timeout=SEATS_TIMEOUT)

    # -- programs --------------------------------------------------------------------------

    @rpc
    def create_program(self, payload: dict) -> dict:
        data = load(schemas.ProgramIn(), payload)
        existing = queries.program_by_key(self.db, data["year"], data["track"],
                                          data["organiser_org_code"])
        program = domain.new_program(data, existing)
        self.db.add(program)
        self.outbox.add("program_changed", domain.program_data(program))
        return views.program_view(program)

    @rpc
    def update_program(self, program_id: str, payload: dict) -> dict:
        program = self._get(Program, program_id)
        domain.change_program(program, load(schemas.ProgramChanges(), payload))
        self.outbox.add("program_changed", domain.program_data(program))
        return views.program_view(program)

    @rpc
    def get_program(self, program_id: str) -> dict:
        return views.program_view(self._get(Program, program_id))

    @rpc
    def list_programs(self, **query) -> dict:
        query = load(schemas.ProgramQuery(), query)
        return views.page(*queries.programs(self.db, query), query, views.program_view)

    # -- the catalogue ------------------------------------------------------------------------

    @rpc
    def seed_catalogue(self) -> dict:
        return catalogue.seed(self.db)

    @rpc
    def create_course(self, payload: dict) -> dict:
        return views.course_view(catalogue.add(self.db, Course, load(schemas.CourseIn(), payload)))

    @rpc
    def create_instructor(self, payload: dict) -> dict:
        return views.instructor_view(
            catalogue.add(self.db, Instructor, load(schemas.InstructorIn(), payload)))

    @rpc
    def create_venue(self, payload: dict) -> dict:
        return views.venue_view(catalogue.add(self.db, Venue, load(schemas.VenueIn(), payload)))

    @rpc
    def create_site(self, payload: dict) -> dict:
        return views.site_view(catalogue.add(self.db, Site, load(schemas.SiteIn(), payload)))

    @rpc
    def update_course(self, course_id: str, payload: dict) -> dict:
        changes = load(schemas.CourseChanges(), payload)
        return views.course_view(catalogue.change(self.db, self._get(Course, course_id), changes))

    @rpc
    def update_instructor(self, instructor_id: str, payload: dict) -> dict:
        changes = load(schemas.InstructorChanges(), payload)
        return views.instructor_view(
            catalogue.change(self.db, self._get(Instructor, instructor_id), changes))

    @rpc
    def update_venue(self, venue_id: str, payload: dict) -> dict:
        changes = load(schemas.VenueChanges(), payload)
        return views.venue_view(catalogue.change(self.db, self._get(Venue, venue_id), changes))

    @rpc
    def update_site(self, site_id: str, payload: dict) -> dict:
        changes = load(schemas.SiteChanges(), payload)
        return views.site_view(catalogue.change(self.db, self._get(Site, site_id), changes))

    @rpc
    def list_courses(self, **query) -> dict:
        query = load(schemas.CourseQuery(), query)
        return views.page(*queries.courses(self.db, query), query, views.course_view)

    @rpc
    def list_instructors(self, **query) -> dict:
        query = load(schemas.InstructorQuery(), query)
        return views.page(*queries.instructors(self.db, query), query, views.instructor_view)

    @rpc
    def list_venues(self, **query) -> dict:
        query = load(schemas.PageIn(), query)
        return views.page(*queries.venues(self.db, query), query, views.venue_view)

    @rpc
    def list_sites(self, **query) -> dict:
        query = load(schemas.SiteQuery(), query)
        return views.page(*queries.sites(self.db, query), query, views.site_view)

    # -- classes ------------------------------------------------------------------------------

    @rpc
    def create_class(self, payload: dict) -> dict:
        """A draft with its sessions; `"publish": true` publishes it in the same call."""
        data = load(schemas.ClassIn(), payload)
        program = self._get(Program, data["program_id"])
        queries.lock_bookings(self.db, inputs=data["sessions"])
        refs = queries.catalogue_for(self.db, inputs=data["sessions"])
        bookings = queries.DbBookings(self.db)
        training_class = domain.new_class(data, program, refs, bookings)
        self.db.add(training_class)
        if data["publish"]:
            self._emit(domain.publish(training_class, refs, bookings, schedule_checked=True))
        self.db.flush()
        return views.class_view(training_class)

    @rpc
    def update_class(self, class_id: str, payload: dict) -> dict:
        """A draft's fields; a published class's dates, capacity, classroom (`venue_id`),
        title, `online_open` and `review_nominations`, each change checked by every rule."""
        changes = load(schemas.ClassChanges(), payload, partial=True)
        training_class = self._class_for_update(class_id)
        queries.lock_bookings(self.db, inputs=[changes], sessions=training_class.sessions)
        refs = queries.catalogue_for(self.db, inputs=[changes], sessions=training_class.sessions)
        self._emit(domain.change_class(training_class, changes, refs,
                                       queries.DbBookings(self.db),
                                       EnrolledSeats(self.enrollment)))
        return views.class_view(training_class)

    @rpc
    def get_class(self, class_id: str, include_drafts: bool = True) -> dict:
        training_class = self._get(TrainingClass, class_id)
        if training_class.status == "draft" and not include_drafts:
            raise NotFound(f"classes: no {class_id}", entity="classes")
        return views.class_view(training_class)

    @rpc
    def list_classes(self, **query) -> dict:
        """Filters: year, track, status, organiser_org_code, program_id; page, per_page."""
        query = load(schemas.ClassQuery(), query)
        return views.page(*queries.classes(self.db, query), query,
                          lambda c: views.class_view(c, with_sessions=False))

    @rpc
    def publish_class(self, class_id: str) -> dict:
        training_class = self._class_for_update(class_id)
        queries.lock_bookings(self.db, sessions=training_class.sessions)
        self._emit(domain.publish(training_class, self._refs(training_class),
                                  queries.DbBookings(self.db)))
        return views.class_view(training_class)

    @rpc
    def cancel_class(self, class_id: str, reason: str | None = None) -> dict:
        reason = load(schemas.ReasonIn(), {"reason": reason})["reason"]
        training_class = self._class_for_update(class_id)
        self._emit(domain.cancel_class(training_class, reason))
        return views.class_view(training_class)

    @rpc
    def complete_class(self, class_id: str) -> dict:
        training_class = self._class_for_update(class_id)
        self._emit(domain.complete_class(training_class))
        return views.class_view(training_class)

    # -- sessions -----------------------------------------------------------------------------

    @rpc
    def add_session(self, class_id: str, payload: dict) -> dict:
        data = load(schemas.SessionIn(), payload)
        training_class = self._class_for_update(class_id)
        queries.lock_bookings(self.db, inputs=[data])
        refs = queries.catalogue_for(self.db, inputs=[data], sessions=training_class.sessions)
        session, events = domain.add_session(training_class, data, refs,
                                             queries.DbBookings(self.db))
        self._emit(events)
        return views.session_view(session)

    @rpc
    def replace_session(self, session_id: str, payload: dict) -> dict:
        data = load(schemas.SessionIn(), payload)
        session = self._session_for_update(session_id)
        queries.lock_bookings(self.db, inputs=[data])
        refs = queries.catalogue_for(self.db, inputs=[data],
                                     sessions=session.training_class.sessions)
        domain.replace_session(session, data, refs, queries.DbBookings(self.db))
        return views.session_view(session)

    @rpc
    def remove_session(self, session_id: str) -> dict:
        session = self._session_for_update(session_id)
        domain.remove_session(session)
        return {"session_id": session_id, "removed": True}

    @rpc
    def get_session(self, session_id: str) -> dict:
        return views.session_view(self._get(TrainingSession, session_id))

    @rpc
    def reschedule_session(self, session_id: str, payload: dict) -> dict:
        changes = load(schemas.RescheduleIn(), payload)
        session = self._session_for_update(session_id)
        queries.lock_bookings(self.db, inputs=[changes], sessions=[session])
        refs = queries.catalogue_for(self.db, inputs=[changes],
                                     sessions=session.training_class.sessions)
        self._emit(domain.reschedule(session, changes, refs, queries.DbBookings(self.db)))
        return views.session_view(session)

    @rpc
    def cancel_session(self, session_id: str, reason: str | None = None) -> dict:
        reason = load(schemas.ReasonIn(), {"reason": reason})["reason"]
        session = self._session_for_update(session_id)
        self._emit(domain.cancel_session(session, reason))
        return views.session_view(session)

    @rpc
    def complete_session(self, session_id: str) -> dict:
        session = self._session_for_update(session_id)
        self._emit(domain.complete_session(session))
        return views.session_view(session)

    # -- calendars ------------------------------------------------------------------------------

    @rpc
    def class_calendar(self, class_id: str, include_drafts: bool = True) -> str:
        training_class = self._get(TrainingClass, class_id)
        if training_class.status == "draft" and not include_drafts:
            raise NotFound(f"classes: no {class_id}", entity="classes")
        return calendars.feed(training_class.title, domain.in_order(training_class.sessions))

    @rpc
    def venue_calendar(self, venue_id: str) -> str:
        venue = self._get(Venue, venue_id)
        return calendars.feed(venue.name, queries.calendar_sessions(self.db, venue_id=venue_id))

    @rpc
    def site_calendar(self, site_id: str) -> str:
        site = self._get(Site, site_id)
        return calendars.feed(site.name, queries.calendar_sessions(self.db, site_id=site_id))

    @rpc
    def instructor_calendar(self, instructor_id: str) -> str:
        instructor = self._get(Instructor, instructor_id)
        return calendars.feed(instructor.name,
                              queries.calendar_sessions(self.db, instructor_id=instructor_id))

    # -- for the gateway's permission checks ------------------------------------------------------

    @rpc
    def organiser_of(self, program_id: str | None = None, class_id: str | None = None,
                     session_id: str | None = None) -> dict:
        """The organiser organisation of a program, a class or a session's class."""
        if session_id:
            program = self._get(TrainingSession, session_id).training_class.program
        elif class_id:
            program = self._get(TrainingClass, class_id).program
        else:
            program = self._get(Program, program_id or "")
        return {"organiser_org_code": program.organiser_org_code}

    # -- helpers --------------------------------------------------------------------------------

    def _emit(self, events: domain.Events) -> None:
        self.db.flush()   # sessions get their class_id before events name it
        for event_type, data in events:
            self.outbox.add(event_type, data)

    def _class_for_update(self, class_id: str) -> TrainingClass:
        """The class, its row locked until commit: changes to one class and its sessions take
        turns, so that two sessions completing at once still complete the class once."""
        training_class = self.db.scalars(
            select(TrainingClass).where(TrainingClass.id == class_id)
            .with_for_update(of=TrainingClass)).first()
        if training_class is None:
            raise NotFound(f"classes: no {class_id}", entity="classes")
        return training_class

    def _session_for_update(self, session_id: str) -> TrainingSession:
        """The session, read after its class is locked (so it is not stale)."""
        class_id = self.db.scalar(select(TrainingSession.class_id)
                                  .where(TrainingSession.id == session_id))
        if class_id is None:
            raise NotFound(f"sessions: no {session_id}", entity="sessions")
        self._class_for_update(class_id)
        return self._get(TrainingSession, session_id)

    def _refs(self, training_class) -> domain.Catalogue:
        return queries.catalogue_for(self.db, sessions=training_class.sessions)

    def _get(self, model, entity_id: str):
        entity = self.db.get(model, entity_id) if entity_id else None
        if entity is None:
            raise NotFound(f"{model.__tablename__}: no {entity_id}", entity=model.__tablename__)
        return entity
