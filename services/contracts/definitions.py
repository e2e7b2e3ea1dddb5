"""The RabbitMQ definitions document (deploy/rabbitmq/definitions.json), built from the topology.

The topology module is the one source of truth for exchanges, queues and bindings; this turns it
into the JSON that RabbitMQ imports, so a broker started by compose holds every consumer queue
before any service has run (DESIGN §3). The document carries no users, permissions or
passwords: those come from the broker's environment (DESIGN §7).

Regenerate the committed file after changing the topology:

    .venv/bin/python -m services.contracts.definitions > deploy/rabbitmq/definitions.json
"""

import json
import sys

from kombu import Exchange, Queue

from . import topology


def _exchange(exchange: Exchange, vhost: str) -> dict:
    return {
        "name": exchange.name,
        "vhost": vhost,
        "type": exchange.type,
        "durable": bool(exchange.durable),
        "auto_delete": bool(exchange.auto_delete),
        "internal": bool(getattr(exchange, "internal", False)),
        "arguments": dict(exchange.arguments or {}),
    }


def _queue(queue: Queue, vhost: str) -> dict:
    # Exactly the arguments kombu declares: a difference would make the services' own declare
    # fail with PRECONDITION_FAILED against the imported queue.
    return {
        "name": queue.name,
        "vhost": vhost,
        "durable": bool(queue.durable),
        "auto_delete": bool(queue.auto_delete),
        "arguments": dict(queue.queue_arguments or {}),
    }


def _bindings(queue: Queue) -> list[tuple[Exchange, str, dict]]:
    """(exchange, routing key, arguments) for each binding the queue's declare would make."""
    found = []
    # A queue on the default exchange ("") is reached by its name; there is nothing to bind.
    if queue.exchange is not None and queue.exchange.name:
        found.append((queue.exchange, queue.routing_key or "", dict(queue.binding_arguments or {})))
    for binding in queue.bindings or ():
        found.append((binding.exchange, binding.routing_key or "", dict(binding.arguments or {})))
    return found


def rabbitmq_definitions(vhost: str = "peixun") -> dict:
    """Every exchange, queue and binding of `topology`, in RabbitMQ's definitions format."""
    exchanges: dict[str, dict] = {}

    def add_exchange(exchange: Exchange) -> None:
        doc = _exchange(exchange, vhost)
        previous = exchanges.setdefault(exchange.name, doc)
        assert previous == doc, f"exchange {exchange.name} is declared two ways"

    for source in topology.SOURCES:
        add_exchange(topology.events_exchange(source))

    queues, bindings = [], []
    for queue in topology.all_queues():
        queues.append(_queue(queue, vhost))
        for exchange, routing_key, arguments in _bindings(queue):
            add_exchange(exchange)
            bindings.append({
                "source": exchange.name,
                "vhost": vhost,
                "destination": queue.name,
                "destination_type": "queue",
                "routing_key": routing_key,
                "arguments": arguments,
            })

    return {
        "vhosts": [{"name": vhost}],
        "exchanges": sorted(exchanges.values(), key=lambda e: e["name"]),
        "queues": sorted(queues, key=lambda q: q["name"]),
        "bindings": sorted(bindings, key=lambda b: (b["source"], b["destination"],
                                                    b["routing_key"])),
    }


def render(vhost: str = "peixun") -> str:
    """The file's exact text: pretty-printed, sorted keys, trailing newline."""
    return json.dumps(rabbitmq_definitions(vhost), indent=2, sort_keys=True,
                      ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render(*sys.argv[1:2]))
