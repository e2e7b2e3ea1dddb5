"""iCalendar feeds (RFC 5545) of a class, a venue, a site or an instructor.

Times are written in Asia/Shanghai with its VTIMEZONE; a session's UID never changes, its
SEQUENCE rises with every change of the session (a reschedule, a cancellation) and of its class
(dates, title, classroom, …), and a cancelled session stays in the feed as STATUS:CANCELLED so
that subscribers drop it.
"""

from datetime import UTC, date

import icalendar

from services.contracts.vocabulary import SESSION_KINDS
from services.kit.clock import SHANGHAI, as_utc, local

PRODID = "-//peixun//scheduling//ZH"
# China has kept +08:00 without daylight saving since 1991: one STANDARD rule describes it.
TZ_FIRST, TZ_LAST = date(1992, 1, 1), date(2100, 1, 1)


def uid(session) -> str:
    return f"{session.id}@peixun"


def sequence(session) -> int:
    """Both counts only rise, so their sum rises with a change of either."""
    return (session.sequence or 0) + (session.training_class.sequence or 0)


def status(session) -> str:
    training_class = session.training_class
    if session.status == "cancelled" or training_class.status == "cancelled":
        return "CANCELLED"
    if training_class.status == "draft":
        return "TENTATIVE"
    return "CONFIRMED"


def event(session) -> icalendar.Event:
    training_class = session.training_class
    item = icalendar.Event()
    stamp = as_utc(session.updated_at or training_class.published_at or session.starts_at)
    item.add("uid", uid(session))
    item.add("dtstamp", stamp.astimezone(UTC))
    item.add("last-modified", stamp.astimezone(UTC))
    item.add("dtstart", local(session.starts_at))
    item.add("dtend", local(session.ends_at))
    item.add("sequence", sequence(session))
    item.add("status", status(session))
    item.add("summary", session.course_title)
    if session.venue_name:
        item.add("location", session.venue_name)
    lines = [f"班次：{training_class.title}",
             f"形式：{SESSION_KINDS.get(session.kind, session.kind)}"
             + ("（直播课堂）" if session.live else ""),
             f"学时：{session.hours:g}"]
    if session.instructor_name:
        lines.append(f"授课：{session.instructor_name}")
    if session.core_theory:
        lines.append("原原本本学习新思想")
    if session.cancel_reason:
        lines.append(f"取消原因：{session.cancel_reason}")
    item.add("description", "\n".join(lines))
    item.add("categories", [SESSION_KINDS.get(session.kind, session.kind)])
    item.add("transp", "TRANSPARENT" if status(session) == "CANCELLED" else "OPAQUE")
    return item


def feed(name: str, sessions) -> str:
    """The .ics text of a calendar named `name` holding `sessions`."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", SHANGHAI.key)
    calendar.add_component(icalendar.Timezone.from_tzid(SHANGHAI.key, first_date=TZ_FIRST,
                                                         last_date=TZ_LAST))
    for session in sessions:
        calendar.add_component(event(session))
    return calendar.to_ical().decode("utf-8")
