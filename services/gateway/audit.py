"""The audit trail: every write through the gateway (a request to /api/v1 or /admin other than
GET and HEAD) that a known principal made, with who (user name or token id, role,
organisation), when, the method, the route's path template, the path asked for and the answer's
status. Refusals are writes tried, so they are recorded too. Written after the route has
answered, in a transaction of its own, before the answer leaves; rows are never changed."""

import logging
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.kit.clock import SHANGHAI
from services.kit.errors import Unauthorized

from .auth import Principal, authenticate, wall_clock
from .models import AuditEntry

log = logging.getLogger(__name__)

AUDITED = ("/api/v1/", "/admin/")
READS = ("GET", "HEAD", "OPTIONS")
PATH_PARAM = re.compile(r"<(?:[a-z]+:)?(\w+)>")
# Where a route names who acted; the entrypoint reads it back after the route has answered.
ACTING = "peixun.acting"


def template(url: str) -> str:
    """A route's URL rule as people read it: /api/v1/enrolments/{enrollment_id}/withdraw."""
    return PATH_PARAM.sub(r"{\1}", url)


def audited(method: str, path: str) -> bool:
    return method.upper() not in READS and path.startswith(AUDITED)


def note(request, principal: Principal) -> None:
    """The route acts as `principal`: what the entry will name."""
    request.environ[ACTING] = principal


def entry(principal: Principal, method: str, url: str, path: str, status: int,
          at: datetime | None = None) -> AuditEntry:
    return AuditEntry(at=at or wall_clock(), actor=principal.actor[:100],
                      actor_kind="user" if principal.username else "token",
                      role=principal.role or None, org_code=principal.org_code,
                      method=method.upper(), route=template(url)[:200], path=path[:500],
                      status=status)


def record(engine, request, url: str, status: int) -> None:
    """The entry for an answered request, when it is a write by someone known. A failure to
    write it is logged: the write itself has already happened."""
    if not audited(request.method, request.path):
        return
    try:
        with Session(engine) as db, db.begin():
            principal = request.environ.get(ACTING) or token_holder(db, request)
            if principal is not None:
                db.add(entry(principal, request.method, url, request.path, status))
    except Exception:  # noqa: BLE001 - the answer goes out; operators see the log
        log.exception("could not record %s %s in the audit trail", request.method,
                      request.path)


def token_holder(db, request) -> Principal | None:
    """Who sent a request that was refused before its route ran (a body not of its schema):
    the holder of a good token, if any."""
    try:
        return authenticate(db, request.headers.get("Authorization"))
    except Unauthorized:
        return None


def page_of(db, actor: str | None, since: datetime | None, before: datetime | None,
            page: int, per_page: int) -> dict:
    """Entries newest first, filtered by who and by Shanghai days [since, before)."""
    where = []
    if actor:
        where.append(AuditEntry.actor == actor)
    if since:
        where.append(AuditEntry.at >= since)
    if before:
        where.append(AuditEntry.at < before)
    total = db.execute(select(func.count()).select_from(AuditEntry).where(*where)).scalar_one()
    rows = db.execute(select(AuditEntry).where(*where)
                      .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                      .offset((page - 1) * per_page).limit(per_page)).scalars().all()
    return {"items": rows, "total": total, "page": page, "per_page": per_page}


def day_start(day) -> datetime:
    """Midnight of a Shanghai day, as a UTC instant (SQLite compares the stored UTC text)."""
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI).astimezone(UTC)


def day_after(day) -> datetime:
    return day_start(day) + timedelta(days=1)
