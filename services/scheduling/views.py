"""How scheduling's records look to RPC callers: JSON-ready dicts, times in ISO 8601."""

from services.contracts.scheduling import ClassV1, ProgramChangedV1, SessionV1

from . import domain

_class, _session, _program = ClassV1(), SessionV1(), ProgramChangedV1()


def program_view(program) -> dict:
    return _program.dump(domain.program_data(program))


def session_view(session) -> dict:
    return {**_session.dump(domain.session_data(session)), "status": session.status}


def class_view(training_class, with_sessions: bool = True) -> dict:
    view = _class.dump(domain.class_data(training_class))
    view["passes_two_thirds"] = domain.passes_two_thirds(training_class.sessions)
    if with_sessions:
        view["sessions"] = [session_view(s) for s in training_class.sessions]
    return view
