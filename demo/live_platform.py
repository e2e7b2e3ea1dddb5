"""The municipal live platform, as an outside system: it publishes `viewer_attended` events to
`live_platform.events` over AMQP with publisher confirms, in its own process, knowing nothing of
peixun but the published contract.

    python -m demo.live_platform VIEWINGS.jsonl      # one {"session_id", "member_no",
                                                     #      "watched_minutes", "site"} a line
"""

import json
import sys
from datetime import UTC, datetime

from services.contracts import new_event
from services.kit import config
from services.kit.amqp import ConfirmingPublisher, Outgoing

BATCH = 500


def publish(lines, amqp_uri: str) -> int:
    """Publish in batches, each confirmed by the broker before the next (an AMQP client
    utility; nothing of peixun's services is used but the contract)."""
    publisher = ConfirmingPublisher(amqp_uri)
    batch, count = [], 0
    try:
        for line in lines:
            event = new_event("live_platform", "viewer_attended", json.loads(line),
                              occurred_at=datetime.now(UTC))
            batch.append(Outgoing(exchange="live_platform.events", routing_key="viewer_attended",
                                  body=event.body(), message_id=event.id,
                                  type="viewer_attended"))
            if len(batch) == BATCH:
                publisher.publish(batch)
                count, batch = count + len(batch), []
        publisher.publish(batch)
        return count + len(batch)
    finally:
        publisher.close()


def main(argv: list[str]) -> int:
    with open(argv[1], encoding="utf-8") as lines:
        count = publish(lines, config.amqp_uri())
    print(f"live platform: published {count} viewer_attended events", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
