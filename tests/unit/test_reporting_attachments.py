"""A filing's attachments (附件) on SQLite: PDF, JPEG or PNG by their bytes, size-limited, kept
with their sha256 and as final as the version they were filed with."""

import base64
import hashlib

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.orm import Session

from services.contracts.rules import ATTACHMENT_MAX_BYTES, ATTACHMENT_MAX_COUNT
from services.kit.errors import Forbidden, InvalidInput, Tampered
from services.reporting import filing
from tests.support.databases import sqlite_engine
from tests.support.districts import load, small_district, uid
from tests.support.fakes import FakeOutbox

PDF = b"%PDF-1.4\n% a scanned sign-in sheet\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def upload(name: str, content: bytes) -> dict:
    return {"file_name": name, "content_b64": base64.b64encode(content).decode()}


@pytest.fixture
def db(tmp_path):
    engine = sqlite_engine(tmp_path / "reporting.db", "reporting")
    load(engine, small_district().events)
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_a_filing_keeps_its_attachments_with_their_sha256(db):
    filed = filing.file(db, FakeOutbox(), uid("K2"), "plan", "C1", "org_admin:C1",
                        attachments=[upload("签到表.pdf", PDF), upload("现场.jpg", JPEG),
                                     upload("合影.png", PNG)])
    listed = filed["attachments"]
    assert [(a["file_name"], a["content_type"], a["sha256"]) for a in listed] == [
        ("签到表.pdf", "application/pdf", hashlib.sha256(PDF).hexdigest()),
        ("现场.jpg", "image/jpeg", hashlib.sha256(JPEG).hexdigest()),
        ("合影.png", "image/png", hashlib.sha256(PNG).hexdigest())]
    got = filing.attachment(db, filed["filing_id"], listed[0]["attachment_id"], "FX")
    assert base64.b64decode(got["content_b64"]) == PDF
    assert filing.inbox(db, "FX")["items"][0]["attachments"] == listed
    assert filing.of_class(db, uid("K2"))["items"][0]["attachments"] == listed


def test_an_attachment_is_known_by_its_bytes_not_its_name(db):
    with pytest.raises(InvalidInput) as refused:
        filing.file(db, FakeOutbox(), uid("K2"), "plan", "C1", "org_admin:C1",
                    attachments=[upload("签到表.pdf", b"PK\x03\x04 a word file")])
    assert refused.value.info["rule"] == "attachment_type"
    assert "不是 PDF、JPEG 或 PNG" in refused.value.errors["attachments"][0]
    assert filing.of_class(db, uid("K2"))["items"] == []   # nothing was filed


def test_an_attachment_over_the_size_limit_is_refused(db):
    too_big = PDF + b"0" * ATTACHMENT_MAX_BYTES
    with pytest.raises(InvalidInput) as refused:
        filing.file(db, FakeOutbox(), uid("K2"), "plan", "C1", "org_admin:C1",
                    attachments=[upload("大文件.pdf", too_big)])
    assert refused.value.info["rule"] == "attachment_size"
    assert "10 MB" in refused.value.errors["attachments"][0]
    with pytest.raises(InvalidInput) as many:
        filing.file(db, FakeOutbox(), uid("K2"), "plan", "C1", "org_admin:C1",
                    attachments=[upload("p.png", PNG)] * (ATTACHMENT_MAX_COUNT + 1))
    assert many.value.info["rule"] == "attachment_count"


def test_a_filed_versions_attachments_cannot_be_altered_or_deleted(db):
    filed = filing.file(db, FakeOutbox(), uid("K2"), "plan", "C1", "org_admin:C1",
                        attachments=[upload("签到表.pdf", PDF)])
    db.commit()
    attachment_id = filed["attachments"][0]["attachment_id"]
    for statement in ("UPDATE filing_attachment SET content = :c WHERE attachment_id = :i",
                      "UPDATE filing_attachment SET filing_id = 'x' WHERE attachment_id = :i "
                      "AND :c IS NOT NULL",
                      "DELETE FROM filing_attachment WHERE attachment_id = :i AND :c IS NOT NULL"):
        with pytest.raises(sa_exc.DatabaseError, match="a filed version never changes"):
            db.execute(text(statement), {"c": PNG, "i": attachment_id})
        db.rollback()
    db.execute(text("DROP TRIGGER filing_attachment_no_update"))
    db.execute(text("UPDATE filing_attachment SET content = :c WHERE attachment_id = :i"),
               {"c": PDF + b"forged", "i": attachment_id})
    db.commit()
    with pytest.raises(Tampered):
        filing.attachment(db, filed["filing_id"], attachment_id)


def test_a_refiling_carries_its_own_attachments_and_a_neighbour_reads_none(db):
    first = filing.file(db, FakeOutbox(), uid("K2"), "plan", "C1", "org_admin:C1",
                        attachments=[upload("v1.pdf", PDF)])
    filing.review(db, FakeOutbox(), first["filing_id"], "returned", "请补充照片", "FX", "org:FX")
    second = filing.file(db, FakeOutbox(), uid("K2"), "plan", "C1", "org_admin:C1",
                         attachments=[upload("v2.pdf", PDF), upload("照片.png", PNG)])
    versions = filing.of_class(db, uid("K2"))["items"]
    assert [[a["file_name"] for a in v["attachments"]] for v in versions] == [
        ["v1.pdf"], ["v2.pdf", "照片.png"]]
    with pytest.raises(Forbidden):
        filing.attachment(db, second["filing_id"], second["attachments"][0]["attachment_id"],
                          "C2")
