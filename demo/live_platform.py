"""The municipal live platform, as an outside system: it publishes `viewer_attended` events to
`live_platform.events` over AMQP with publisher confirms, in its own process, knowing nothing of
peixun but the published contract.

    python -m demo.live_platform < viewings.jsonl

Each input line is one viewing, `{"session_id", "member_no", "watched_minutes", "site"?}`; a
line `FLUSH` publishes what came before it, waits for the broker's confirms and answers
`published N` on stdout (the demo feeds it a week at a time).
"""

import json
import sys
import warnings
from datetime import UTC, datetime

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

from services.contracts import new_event
from services.kit import config
from services.kit.amqp import ConfirmingPublisher, Outgoing

BATCH = 500


class LivePlatform:
    def __init__(self, amqp_uri: str):
        # An AMQP client utility that confirms a batch at a time; nothing of peixun's services.
        self.publisher = ConfirmingPublisher(amqp_uri)
        self.batch: list[Outgoing] = []
        self.published = 0

    def viewing(self, viewing: dict) -> None:
        event = new_event("live_platform", "viewer_attended", viewing,
                          occurred_at=datetime.now(UTC))
        self.batch.append(Outgoing(exchange="live_platform.events",
                                   routing_key="viewer_attended", body=event.body(),
                                   message_id=event.id, type="viewer_attended"))
        if len(self.batch) >= BATCH:
            self.flush()

    def flush(self) -> int:
        self.publisher.publish(self.batch)
        self.published += len(self.batch)
        self.batch = []
        return self.published


def main() -> int:
    platform = LivePlatform(config.amqp_uri())
    try:
        for line in sys.stdin:
            if line.strip() == "FLUSH":
                print(f"published {platform.flush()}", flush=True)
            elif line.strip():
                platform.viewing(json.loads(line))
        platform.flush()
    finally:
        platform.publisher.close()
    print(f"published {platform.published}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
