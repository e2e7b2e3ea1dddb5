"""JSON log lines that carry nameko's call id and the event id of the worker that wrote them."""

import json
import logging
import threading
from datetime import UTC, datetime

from nameko.extensions import DependencyProvider

# Green-thread local once eventlet has monkey-patched threading, as every service process has.
_context = threading.local()


CONTEXT_FIELDS = ("service", "call_id", "event_id")
_base_factory = logging.getLogRecordFactory()


def _record_with_context(*args, **kwargs) -> logging.LogRecord:
    """Stamp the worker's context on the record when it is made, in the worker's green thread,
    so that any handler, however late it formats, writes the right ids."""
    record = _base_factory(*args, **kwargs)
    for name in CONTEXT_FIELDS:
        setattr(record, name, getattr(_context, name, None))
    return record


logging.setLogRecordFactory(_record_with_context)


class _NotClosingChannelNoise(logging.Filter):
    """py-amqp warns of every frame that arrives for a channel it is closing: nameko's RPC
    proxies close theirs with the broker's last acknowledgements in flight, so every short-lived
    proxy (health checks, the CLI) printed one harmless line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str)
                    and record.msg.startswith("Received method %s during closing channel"))


logging.getLogger("amqp").addFilter(_NotClosingChannelNoise())


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **{name: getattr(record, name, None) for name in CONTEXT_FIELDS},
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps({k: v for k, v in line.items() if v is not None}, ensure_ascii=False)


class LogContext(DependencyProvider):
    """Puts the worker's call id and event id where JsonFormatter finds them."""

    def worker_setup(self, worker_ctx):
        _context.service = self.container.service_name
        _context.call_id = worker_ctx.call_id
        _context.event_id = (worker_ctx.context_data or {}).get("event_id")

    def worker_teardown(self, worker_ctx):
        _context.call_id = _context.event_id = None

    def get_dependency(self, worker_ctx):
        return None


def configure(level: str = "INFO") -> None:
    """For processes that are not started by `nameko run` (the CLI, the demo)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)
