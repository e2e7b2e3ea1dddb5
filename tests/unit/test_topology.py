"""The topology module and the services' handlers agree."""

from services.contracts import CONTRACTS
from services.contracts.topology import SUBSCRIPTIONS, all_queues
from services.enrollment.service import EnrollmentService
from services.kit.events import EventHandler
from services.reporting.service import ReportingService
from services.scheduling.service import SchedulingService

SERVICES = (SchedulingService, EnrollmentService, ReportingService)


def handlers(service_cls):
    for name in dir(service_cls):
        for extension in getattr(getattr(service_cls, name), "nameko_entrypoints", ()):
            if isinstance(extension, EventHandler):
                yield extension.source, extension.event_type


def test_every_event_handler_consumes_a_queue_the_topology_declares_up_front():
    for service_cls in SERVICES:
        declared = set(SUBSCRIPTIONS.get(service_cls.name, ()))
        assert set(handlers(service_cls)) <= declared, service_cls.name


def test_every_subscription_has_a_contract_and_a_retry_queue():
    names = {q.name for q in all_queues()}
    for service, pairs in SUBSCRIPTIONS.items():
        for source, event_type in pairs:
            assert (source, event_type) in CONTRACTS
            assert f"evt-{source}-{event_type}--{service}.retry" in names
