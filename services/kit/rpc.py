"""RPC that commits before it answers, and calls between services that give up in time."""

import sys

import eventlet
from nameko.exceptions import deserialize_to_instance
from nameko.rpc import ReplyListener, RpcConsumer, RpcProxy
from nameko.rpc import Rpc as NamekoRpc

from services.contracts.topology import rpc_queue_arguments

from . import config
from .database import commit_worker
from .errors import (
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    Rebuilding,
    RetryLater,
    Tampered,
    Unauthorized,
    Unavailable,
)
from .metrics import Metrics

# Domain errors cross RPC as themselves (with their field errors), not as a bare RemoteError.
for _error in (DomainError, NotFound, InvalidInput, Forbidden, Unauthorized, Rebuilding,
               Tampered, Unavailable):
    deserialize_to_instance(_error)


class RpcTimeout(TimeoutError):
    pass


class QuorumRpcConsumer(RpcConsumer):
    """nameko's consumer of `rpc-<service>`, declaring that queue as a quorum queue (nameko
    declares it classic, which lives and dies with one broker node). nameko's QueueConsumer
    sets a per-consumer prefetch, which quorum queues accept (they refuse a global one)."""

    def setup(self):
        super().setup()
        self.queue.queue_arguments = rpc_queue_arguments()


class Rpc(NamekoRpc):
    """nameko's rpc, but the worker's transaction commits before the reply goes out, so a
    caller never hears "done" for a change that then failed to commit."""

    rpc_consumer = QuorumRpcConsumer()

    def __init__(self, **kwargs):
        kwargs.setdefault("expected_exceptions", (DomainError, RetryLater))
        super().__init__(**kwargs)

    def handle_result(self, message, worker_ctx, result, exc_info):
        if exc_info is None:
            try:
                commit_worker(worker_ctx)
            except Exception:  # noqa: BLE001 - the caller gets the commit's error
                result, exc_info = None, sys.exc_info()
        return super().handle_result(message, worker_ctx, result, exc_info)


rpc = Rpc.decorator


class _TimedMethod:
    def __init__(self, method, service: str, name: str, timeout: float, timeouts=None):
        self.method, self.service, self.name, self.timeout = method, service, name, timeout
        self.timeouts = timeouts   # peixun_rpc_timeouts_total, when the caller has metrics

    def __call__(self, *args, **kwargs):
        reply = self.method.call_async(*args, **kwargs)
        try:
            with eventlet.Timeout(self.timeout, RpcTimeout(
                    f"{self.service}.{self.name} did not answer within {self.timeout}s")):
                return reply.result()
        except RpcTimeout:
            if self.timeouts is not None:
                self.timeouts.labels(f"{self.service}.{self.name}").inc()
            raise


class _TimedProxy:
    def __init__(self, proxy, service: str, timeout: float, timeouts=None):
        self._proxy, self._service, self._timeout = proxy, service, timeout
        self._timeouts = timeouts

    def __getattr__(self, name):
        return _TimedMethod(getattr(self._proxy, name), self._service, name, self._timeout,
                            self._timeouts)


class TransientReplyListener(ReplyListener):
    """nameko's reply queue for a service's own calls, not durable: nameko leaves it durable
    (kombu's default), and a durable classic queue whose node died cannot be declared again
    anywhere, so the service could not call out (nor consume its `rpc-` queue, which shares
    the consumer) until that node returned. A transient one is declared afresh on a live node."""

    def setup(self):
        super().setup()
        self.queue.durable = False


class ServiceRpc(RpcProxy):
    """`ServiceRpc("scheduling")`: nameko's RpcProxy with a timeout on every call."""

    rpc_reply_listener = TransientReplyListener()
    metrics = Metrics()

    def __init__(self, target_service: str, timeout: float | None = None, **options):
        super().__init__(target_service, **options)
        self.timeout = timeout

    def get_dependency(self, worker_ctx):
        timeout = self.timeout or config.rpc_timeout()
        return _TimedProxy(super().get_dependency(worker_ctx), self.target_service, timeout,
                           self.metrics.figures.rpc_timeouts)
