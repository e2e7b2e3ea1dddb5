"""Scheduling: programs, classes and sessions. Each entrypoint validates, calls the domain and
hands its events to the outbox; the kit commits."""

from services.kit import NotFound, PublishingService, rpc
from services.kit.validation import load

from . import domain, schemas, views
from .models import Program, TrainingClass, TrainingSession


class SchedulingService(PublishingService):
    name = "scheduling"

    @rpc
    def create_program(self, payload: dict) -> dict:
        program = domain.new_program(load(schemas.ProgramIn(), payload))
        self.db.add(program)
        self.outbox.add("program_changed", domain.program_data(program))
        return views.program_view(program)

    @rpc
    def create_class(self, payload: dict) -> dict:
        data = load(schemas.ClassIn(), payload)
        program = self._get(Program, data["program_id"])
        training_class = domain.new_class(data, program)
        self.db.add(training_class)
        self.db.flush()
        for session in training_class.sessions:
            self.outbox.add("session_scheduled", domain.session_data(session))
        return views.class_view(training_class)

    @rpc
    def get_class(self, class_id: str) -> dict:
        return views.class_view(self._get(TrainingClass, class_id))

    @rpc
    def complete_session(self, session_id: str) -> dict:
        session = self._get(TrainingSession, session_id)
        domain.complete_session(session)
        self.outbox.add("session_completed", domain.session_data(session))
        return views.session_view(session)

    def _get(self, model, entity_id: str):
        entity = self.db.get(model, entity_id)
        if entity is None:
            raise NotFound(f"{model.__tablename__}: no {entity_id}", entity=model.__tablename__)
        return entity
