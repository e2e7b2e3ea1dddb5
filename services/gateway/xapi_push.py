"""The optional push of xAPI statements to a Learning Record Store (LRS).

When `XAPI_LRS_URL` is set, the gateway's timer hands reporting's statements, a batch at a time,
to `<XAPI_LRS_URL>/statements` (POST, `X-Experience-API-Version: 1.0.3`, basic auth from
`XAPI_LRS_USER` / `XAPI_LRS_PASSWORD`). How far it got is a cursor kept per LRS in the gateway's
own table (`xapi_push`), moved only once the LRS took the batch: an LRS that is down or answers
an error is tried again later, waiting twice as long after each failure (up to
`MAX_BACKOFF_SECONDS`), and nothing is skipped. Nothing waits for it: each attempt is one short
request with its own timeout, on the timer's own worker.

A batch is sent again only when the LRS took it but the cursor was not stored (the gateway
stopped in between): the statements keep their ids, so the LRS knows them; if it refuses the
batch for that (409), each statement is PUT by its id, and one it already holds is left as is.
"""

import base64
import json
import logging
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select

from services.kit.clock import as_utc
from services.kit.sql import insert_rows

from .models import xapi_push

log = logging.getLogger(__name__)

VERSION = "1.0.3"
TICK_SECONDS = 1                  # how often the timer looks; whether it pushes is below
DEFAULT_BATCH = 100
DEFAULT_INTERVAL_SECONDS = 30     # once caught up, how often to look for new statements
FIRST_BACKOFF_SECONDS = 1
MAX_BACKOFF_SECONDS = 300
HTTP_TIMEOUT_SECONDS = 5

class PushFailed(Exception):
    pass


@dataclass(frozen=True)
class Settings:
    url: str
    user: str | None = None
    password: str | None = None
    batch: int = DEFAULT_BATCH
    interval: float = DEFAULT_INTERVAL_SECONDS
    timeout: float = HTTP_TIMEOUT_SECONDS


def settings() -> Settings | None:
    """The LRS from the environment; None when no LRS is configured (nothing is pushed)."""
    url = os.environ.get("XAPI_LRS_URL", "").strip().rstrip("/")
    if not url:
        return None
    return Settings(url=url, user=os.environ.get("XAPI_LRS_USER") or None,
                    password=os.environ.get("XAPI_LRS_PASSWORD") or None,
                    batch=int(os.environ.get("XAPI_PUSH_BATCH", DEFAULT_BATCH)),
                    interval=float(os.environ.get("XAPI_PUSH_INTERVAL",
                                                  DEFAULT_INTERVAL_SECONDS)))


def backoff(failures: int) -> timedelta:
    """1 s, 2 s, 4 s, … after the 1st, 2nd, 3rd failure in a row, at most 5 minutes."""
    return timedelta(seconds=min(FIRST_BACKOFF_SECONDS * 2 ** (failures - 1),
                                 MAX_BACKOFF_SECONDS))


def tick(db, settings: Settings, fetch, send, now: datetime) -> str:
    """One attempt, when one is due: `fetch(cursor, limit)` a page of statements (reporting's
    answer: {statements, cursor, more}), `send(settings, statements)` them. What happened:
    busy (another gateway pushes), waiting, pushed, or failed. The caller commits."""
    state = _claim(db, settings.url, now)
    if state is None:
        return "busy"
    if state["next_attempt_at"] is not None and now < as_utc(state["next_attempt_at"]):
        return "waiting"
    try:
        page = fetch(state["cursor"], settings.batch)
        statements = [{k: v for k, v in s.items() if k != "stored"}   # the LRS's to set
                      for s in page["statements"]]
        if statements:
            send(settings, statements)
    except Exception as exc:  # noqa: BLE001 - reporting or the LRS away: try again later
        failures = state["failures"] + 1
        log.warning("xAPI push to %s failed (%d in a row): %s", settings.url, failures, exc)
        _update(db, settings.url, failures=failures, next_attempt_at=now + backoff(failures),
                last_error=str(exc)[:1000], updated_at=now)
        return "failed"
    _update(db, settings.url, cursor=page["cursor"], pushed=state["pushed"] + len(statements),
            failures=0, last_error=None, updated_at=now,
            next_attempt_at=now if page["more"] else now + timedelta(seconds=settings.interval),
            **({"last_pushed_at": now} if statements else {}))
    return "pushed"


def _claim(db, url: str, now: datetime):
    """The LRS's row, locked for this attempt; None while another gateway holds it."""
    insert_rows(db, xapi_push, [{"lrs_url": url, "cursor": None, "pushed": 0, "failures": 0,
                                 "updated_at": now}], key=["lrs_url"], update=False)
    return db.execute(select(xapi_push).where(xapi_push.c.lrs_url == url)
                      .with_for_update(skip_locked=True)).mappings().first()


def _update(db, url: str, **values) -> None:
    db.execute(xapi_push.update().where(xapi_push.c.lrs_url == url).values(**values))


def standing(db, settings: Settings | None) -> dict | None:
    """How the push stands, for operators (`peixun status`); None when no LRS is configured.
    The LRS's address without any user and password it may carry."""
    if settings is None:
        return None
    row = db.execute(select(xapi_push).where(xapi_push.c.lrs_url == settings.url)
                     ).mappings().first() or {}
    parts = urlsplit(settings.url)
    shown = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    return {"lrs_url": shown, "pushed": row.get("pushed", 0),
            "failures": row.get("failures", 0), "last_error": row.get("last_error"),
            **{when: as_utc(row[when]).isoformat() if row.get(when) else None
               for when in ("last_pushed_at", "next_attempt_at")}}


# -- HTTP ----------------------------------------------------------------------------------------

def send(settings: Settings, statements: list[dict]) -> None:
    """POST the batch; raise PushFailed unless the LRS took it."""
    status = _request(settings, "POST", "/statements", statements)
    if status in (200, 204):
        return
    if status != 409:
        raise PushFailed(f"the LRS answered {status} to a batch of {len(statements)}")
    for statement in statements:   # some ids are there already: each by its id
        status = _request(settings, "PUT", f"/statements?statementId={statement['id']}",
                          statement)
        if status == 409:
            log.warning("the LRS holds statement %s with other content; left as it is",
                        statement["id"])
        elif status not in (200, 204):
            raise PushFailed(f"the LRS answered {status} to statement {statement['id']}")


def _request(settings: Settings, method: str, path: str, body) -> int:
    headers = {"Content-Type": "application/json", "X-Experience-API-Version": VERSION}
    if settings.user is not None:
        pair = f"{settings.user}:{settings.password or ''}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    request = urllib.request.Request(settings.url + path, method=method, headers=headers,
                                     data=json.dumps(body, ensure_ascii=False).encode())
    try:
        with urllib.request.urlopen(request, timeout=settings.timeout) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError) as exc:
        raise PushFailed(f"the LRS at {settings.url} did not answer: {exc}") from None
