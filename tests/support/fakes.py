"""One fake per port, for unit tests that drive rules without the adapter behind the port."""


class FakeOutbox:
    """The kit's Outbox (reporting's filings write to it): the events added, in order, as
    (event_type, data)."""

    def __init__(self):
        self.events = []

    def add(self, event_type, data):
        self.events.append((event_type, data))


class ListBookings:
    """Scheduling's Bookings: the given classes' sessions that still hold their resources
    (neither they nor their class cancelled), whatever their time; the rules then check the
    overlap. `queries.DbBookings` is the query this stands for."""

    def __init__(self, *classes):
        self.sessions = [s for c in classes for s in c.sessions]

    def overlapping(self, sessions, exclude_class_id):
        return [s for s in self.sessions if s.training_class.id != exclude_class_id
                and s.status != "cancelled" and s.training_class.status != "cancelled"]
