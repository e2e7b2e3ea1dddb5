"""How many people hold a class's offline seats. Enrollment knows them; scheduling asks it over
RPC, briefly, when a published class's capacity is to fall."""

from nameko.exceptions import UnknownService

from services.kit.errors import NotFound, Unavailable
from services.kit.rpc import RpcTimeout


class EnrolledSeats:
    """The `Seats` port (domain.py) over enrollment's RPC."""

    def __init__(self, enrollment):
        self.enrollment = enrollment

    def seated(self, class_id: str) -> int:
        try:
            places = self.enrollment.get_class(class_id)["places"]
        except NotFound:
            return 0   # enrollment has not heard of the class: nobody can be seated in it yet
        except (RpcTimeout, UnknownService):
            # Not knowing the people seated, a smaller capacity could strand some: refuse.
            raise Unavailable("enrollment did not answer how many people are seated; the "
                              "capacity was not lowered: try again", rule="seats_unknown",
                              errors={"offline_capacity": ["the people seated could not be "
                                                           "counted just now"]}) from None
        return places["offline_confirmed"]
