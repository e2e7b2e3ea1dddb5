"""A stand-in for scheduling over RPC, for gateway tests that need scheduling to know a class
that enrollment has not heard of yet (its class_published still on the way)."""

from services.kit.errors import NotFound
from services.kit.rpc import rpc


class SchedulingStandIn:
    """Answers `get_class` for the classes in `classes` (class_id → status)."""

    name = "scheduling"
    classes: dict[str, str] = {}

    @rpc
    def get_class(self, class_id: str, include_drafts: bool = True) -> dict:
        if class_id not in self.classes:
            raise NotFound(f"classes: no {class_id}", entity="classes")
        return {"class_id": class_id, "status": self.classes[class_id]}
