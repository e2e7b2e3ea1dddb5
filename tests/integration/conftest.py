"""Integration tests: services in this process (nameko's container_factory and runner_factory,
or the whole system) on the real RabbitMQ and PostgreSQL, every queue and table emptied first.
Every test here is marked `broker` and `postgres`."""

from tests.support.broker import amqp_uri, dead_letters, publish, rpc, vhost  # noqa: F401
from tests.support.clerk_world import clerk_world  # noqa: F401
from tests.support.system import service_config, service_env  # noqa: F401
from tests.support.two_committees import two_committees  # noqa: F401
