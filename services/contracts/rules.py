"""Rules two services apply and must apply alike."""

import os

# A role's yearly study-hour quota (DESIGN §5): the secretaries' from the national plan, the
# members' from the 条例. Plans change, so each may be set in the environment.
QUOTA_HOURS = {"secretary": 56.0, "member": 32.0}
QUOTA_SETTINGS = {"secretary": "PEIXUN_QUOTA_SECRETARY_HOURS",
                  "member": "PEIXUN_QUOTA_MEMBER_HOURS"}


def passes_two_thirds(core: int, total: int) -> bool:
    """DESIGN §1: at least two thirds of a class's sessions are core-theory study. In integers
    (3 × core ≥ 2 × all) so that exactly two thirds passes; a class without sessions fails."""
    return total > 0 and 3 * core >= 2 * total


def core_sessions_missing(core: int, total: int) -> int:
    """How many core-theory sessions to add for the rule to hold (0 when it holds)."""
    return max(0, 2 * total - 3 * core)


def quota_hours(role: str) -> float:
    """The yearly study-hour quota of a `secretary` or a `member`, as configured."""
    return float(os.environ.get(QUOTA_SETTINGS[role], QUOTA_HOURS[role]))


# What a filing may carry as attachments (附件: a scanned signed 签到表, photos): known by their
# first bytes, whatever the file is called; reporting refuses the rest, and the gateway sizes the
# uploads it reads by these limits.
ATTACHMENT_TYPES = {b"%PDF-": "application/pdf", b"\xff\xd8\xff": "image/jpeg",
                    b"\x89PNG\r\n\x1a\n": "image/png"}
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENT_MAX_COUNT = 5


def attachment_type(content: bytes) -> str | None:
    """The content type a file's own bytes show (PDF, JPEG or PNG), or None."""
    return next((kind for magic, kind in ATTACHMENT_TYPES.items()
                 if content.startswith(magic)), None)
