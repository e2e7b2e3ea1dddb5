"""Events for tests of the kit's outbox: reporting's `filing_acknowledged`, a contract-checked
event of a service's own, and its envelopes as the outbox stores them."""

from services.contracts import new_event

FILING = {"filing_id": None, "org_code": "FX01", "parent_code": "FX", "class_id": None,
          "kind": "plan", "version": 1, "sha256": "0" * 64, "status": "acknowledged",
          "reason": None}


def filing_bodies(n):
    """`n` envelopes (versions 1…n), as outbox bodies."""
    return [new_event("reporting", "filing_acknowledged", {**FILING, "version": i + 1})
            .body().decode() for i in range(n)]
