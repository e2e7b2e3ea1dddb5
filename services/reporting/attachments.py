"""What a filing carries besides its report (附件): a scanned signed 签到表, photos.

PDF, JPEG or PNG only, known by the file's first bytes rather than its name; each at most
ATTACHMENT_MAX_BYTES, at most ATTACHMENT_MAX_COUNT to a version. They are written in the filing's
own transaction with their sha256 and are as final as the version: the database refuses to
change or delete them, every download checks the bytes, and a re-filing carries its own.
"""

import base64
import binascii
import hashlib
import re
import uuid

from sqlalchemy import select

from services.contracts.rules import (
    ATTACHMENT_MAX_BYTES,
    ATTACHMENT_MAX_COUNT,
    attachment_type,
)
from services.kit.errors import InvalidInput, NotFound, Tampered

from . import domain as d
from .models import filing_attachment

EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")
MEGABYTE = 1024 * 1024


def _name(raw: str | None, position: int, content_type: str) -> str:
    """The uploader's file name without a path or control characters, or 附件N.ext."""
    name = UNSAFE.sub("", (raw or "").replace("\\", "/").rsplit("/", 1)[-1]).strip()
    return name[-200:] if name else f"附件{position}.{EXTENSIONS[content_type]}"


def checked(files: list[dict] | None) -> list[dict]:
    """Uploads ({file_name, content_b64}) as rows to keep, or a refusal naming each bad one."""
    files = files or []
    if len(files) > ATTACHMENT_MAX_COUNT:
        raise InvalidInput(f"at most {ATTACHMENT_MAX_COUNT} attachments to a filing",
                           errors={"attachments": [f"每次报送最多 {ATTACHMENT_MAX_COUNT} 个附件"]},
                           rule="attachment_count")
    rows, reasons, rule = [], [], None
    for position, upload in enumerate(files, start=1):
        raw_name = upload.get("file_name") or f"附件{position}"
        try:
            content = base64.b64decode(upload.get("content_b64") or "", validate=True)
        except (binascii.Error, ValueError):
            content = b""
        content_type = attachment_type(content)
        if len(content) > ATTACHMENT_MAX_BYTES:
            reasons.append(f"{raw_name}：{len(content) / MEGABYTE:.1f} MB，超过每个附件 "
                           f"{ATTACHMENT_MAX_BYTES // MEGABYTE} MB 的上限")
            rule = rule or "attachment_size"
        elif content_type is None:
            reasons.append(f"{raw_name}：不是 PDF、JPEG 或 PNG 文件（按文件内容判断，"
                           "与文件名无关）")
            rule = rule or "attachment_type"
        else:
            rows.append({"attachment_id": str(uuid.uuid4()), "position": position,
                         "file_name": _name(upload.get("file_name"), position, content_type),
                         "content_type": content_type, "size": len(content),
                         "sha256": hashlib.sha256(content).hexdigest(), "content": content})
    if reasons:
        raise InvalidInput("an attachment is refused", errors={"attachments": reasons},
                           rule=rule)
    return rows


def listed(db, filing_ids) -> dict[str, list[dict]]:
    """Each filing's attachments, as the API and the pages list them (without their bytes)."""
    ids = sorted(set(filing_ids))
    found = {i: [] for i in ids}
    if not ids:
        return found
    columns = [c for c in filing_attachment.c if c.name != "content"]
    for row in db.execute(select(*columns).where(filing_attachment.c.filing_id.in_(ids))
                          .order_by(filing_attachment.c.position)).mappings():
        found[row["filing_id"]].append({k: row[k] for k in (
            "attachment_id", "file_name", "content_type", "size", "sha256")})
    return found


def download(db, filing_id: str, attachment_id: str, filed_at) -> dict:
    """One attachment as a file, after checking its bytes against the sha256 kept with it."""
    row = db.execute(select(filing_attachment).where(
        filing_attachment.c.filing_id == filing_id,
        filing_attachment.c.attachment_id == attachment_id)).mappings().first()
    if row is None:
        raise NotFound(f"attachment {attachment_id} is not one of this filing's",
                       errors={"attachment_id": ["not known"]})
    content = bytes(row["content"])
    if hashlib.sha256(content).hexdigest() != row["sha256"]:
        raise Tampered(f"attachment {attachment_id} does not match the sha256 it was filed "
                       "with", rule="integrity")
    return {"file_name": row["file_name"], "content_type": row["content_type"],
            "sha256": row["sha256"], "size": len(content), "format": None,
            "created_at": d.local_iso(filed_at),
            "content_b64": base64.b64encode(content).decode()}
