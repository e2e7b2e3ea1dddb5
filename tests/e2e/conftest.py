"""End-to-end tests: the system as its users run it (HTTP with a token, `peixun` commands, the
demo) on the real RabbitMQ and PostgreSQL. Every test here is marked `broker` and `postgres`."""

from tests.support.broker import amqp_uri, rpc, vhost  # noqa: F401 - fixtures of this layer
from tests.support.browser import chromium  # noqa: F401 - the clerk's pages in a browser
from tests.support.clerk_world import clerk_world  # noqa: F401
from tests.support.system import service_config, service_env  # noqa: F401
