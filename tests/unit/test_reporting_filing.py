"""Filing (备案) on SQLite: versions, review, what a filed version is, and that it never changes."""

import hashlib
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.orm import Session

from services.kit.errors import DomainError, Forbidden, Tampered
from services.reporting import filing
from tests.support.databases import sqlite_engine
from tests.support.districts import District, load, small_district, uid
from tests.support.fakes import FakeOutbox


@pytest.fixture
def db(tmp_path):
    engine = sqlite_engine(tmp_path / "reporting.db", "reporting")
    load(engine, small_district().events)
    with Session(engine) as session:
        yield session
    engine.dispose()


def when(text_: str) -> datetime:
    return datetime.fromisoformat(text_).astimezone(UTC)


def test_a_filing_keeps_the_report_as_it_stood_with_its_sha256(db):
    outbox = FakeOutbox()
    filed = filing.file(db, outbox, uid("K2"), "plan", "C1", "org_admin:C1",
                        now=when("2026-05-01T10:00:00+08:00"))
    assert (filed["version"], filed["status"], filed["parent_code"]) == (1, "filed", "FX")
    assert filed["late"] is False and filed["deadline"] == "2026-05-09"
    stored = filing.get(db, filed["filing_id"])
    assert hashlib.sha256(stored["content"]).hexdigest() == filed["sha256"]
    assert json.loads(stored["content"])["report"] == "class-plan"
    assert outbox.events == [("report_filed", {
        "filing_id": filed["filing_id"], "org_code": "C1", "parent_code": "FX",
        "class_id": uid("K2"), "kind": "plan", "version": 1, "sha256": filed["sha256"],
        "status": "filed", "reason": None, "report": "class-plan",
        "file_name": filed["file_name"]})]


def test_the_district_roots_filings_go_to_the_district_admin(db):
    filed = filing.file(db, FakeOutbox(), uid("K1"), "plan", None, "district_admin")
    assert filed["parent_code"] is None
    with pytest.raises(Forbidden):
        filing.review(db, FakeOutbox(), filed["filing_id"], "acknowledged", None, "FX", "org:FX")
    assert filing.review(db, FakeOutbox(), filed["filing_id"], "acknowledged", None, None,
                         "district_admin")["status"] == "acknowledged"


def test_a_return_then_a_refiling_is_a_new_version_and_the_old_one_is_unchanged(db):
    outbox = FakeOutbox()
    first = filing.file(db, outbox, uid("K2"), "plan", "C1", "org_admin:C1")
    with pytest.raises(DomainError):   # one version awaits review at a time
        filing.file(db, outbox, uid("K2"), "plan", "C1", "org_admin:C1")
    returned = filing.review(db, outbox, first["filing_id"], "returned", "缺少授课人", "FX",
                             "committee_admin:FX")
    assert (returned["status"], returned["reason"]) == ("returned", "缺少授课人")
    second = filing.file(db, outbox, uid("K2"), "plan", "C1", "org_admin:C1")
    assert second["version"] == 2
    versions = filing.of_class(db, uid("K2"))["items"]
    assert [(v["version"], v["status"]) for v in versions] == [(1, "returned"), (2, "filed")]
    assert versions[0]["sha256"] == first["sha256"]
    assert [t for t, _ in outbox.events] == ["report_filed", "filing_returned", "report_filed"]


def test_a_record_filed_after_the_seventh_day_is_late(db):
    late = filing.file(db, FakeOutbox(), uid("K1"), "record", None, "district_admin",
                       now=when("2026-04-10T00:00:01+08:00"))
    assert (late["deadline"], late["late"]) == ("2026-04-09", True)


def test_a_record_cannot_be_filed_before_the_class_completes(db):
    with pytest.raises(DomainError) as raised:
        filing.file(db, FakeOutbox(), uid("K4"), "record", None, "district_admin")
    assert raised.value.info["rule"] == "record_after_completion"


def test_only_the_parent_reviews_and_only_once(db):
    filed = filing.file(db, FakeOutbox(), uid("K2"), "plan", "C1", "org_admin:C1")
    with pytest.raises(Forbidden):
        filing.review(db, FakeOutbox(), filed["filing_id"], "acknowledged", None, "C1", "org:C1")
    filing.review(db, FakeOutbox(), filed["filing_id"], "acknowledged", None, "FX", "org:FX")
    with pytest.raises(DomainError):
        filing.review(db, FakeOutbox(), filed["filing_id"], "returned", "晚了", "FX", "org:FX")


def test_a_filed_version_cannot_be_altered_or_deleted_in_the_database(db):
    filed = filing.file(db, FakeOutbox(), uid("K2"), "plan", "C1", "org_admin:C1")
    db.commit()
    for statement in ("UPDATE filing SET content = :c WHERE filing_id = :i",
                      "UPDATE filing SET sha256 = :c WHERE filing_id = :i",
                      "DELETE FROM filing WHERE filing_id = :i AND :c IS NOT NULL"):
        with pytest.raises(sa_exc.DatabaseError, match="a filed version never changes"):
            db.execute(text(statement), {"c": b"{}", "i": filed["filing_id"]})
        db.rollback()
    assert filing.get(db, filed["filing_id"])["sha256"] == filed["sha256"]


def test_tampered_bytes_are_refused_on_every_read(db):
    filed = filing.file(db, FakeOutbox(), uid("K2"), "plan", "C1", "org_admin:C1")
    db.commit()
    # Someone with the keys to the database drops the guard and edits the filed bytes.
    db.execute(text("DROP TRIGGER filing_no_update"))
    db.execute(text("UPDATE filing SET content = :c WHERE filing_id = :i"),
               {"c": b'{"report":"class-plan","forged":true}', "i": filed["filing_id"]})
    db.commit()
    for read in (lambda: filing.get(db, filed["filing_id"]),
                 lambda: filing.document(db, filed["filing_id"], "pdf"),
                 lambda: filing.of_class(db, uid("K2")),
                 lambda: filing.inbox(db, "FX")):
        with pytest.raises(Tampered):
            read()


def test_a_filed_version_does_not_follow_later_events(db, tmp_path):
    filed = filing.file(db, FakeOutbox(), uid("K2"), "plan", "C1", "org_admin:C1")
    db.commit()
    later = District()
    later.session("session_scheduled", "F", "K2", "新增课程", False,
                  "2026-05-10T16:00:00+08:00", 2)
    load(db.get_bind(), later.events)
    document = json.loads(filing.get(db, filed["filing_id"])["content"])
    assert [s["course_title"] for s in document["sessions"]] == [
        "弘扬宪法精神,提升法治意识", "党员发展与党费管理"]


def test_the_inbox_lists_what_awaits_the_parents_review(db):
    filed = filing.file(db, FakeOutbox(), uid("K2"), "plan", "C1", "org_admin:C1")
    filing.file(db, FakeOutbox(), uid("K1"), "plan", None, "district_admin")   # to the district
    inbox = filing.inbox(db, "FX")
    assert [i["filing_id"] for i in inbox["items"]] == [filed["filing_id"]]
    assert inbox["total"] == 1
    # a district_admin's inbox: what is addressed to the root or to no one, oldest first
    assert [i["class_id"] for i in filing.inbox(db, None)["items"]] == [uid("K2"), uid("K1")]
    filing.review(db, FakeOutbox(), filed["filing_id"], "acknowledged", None, "FX", "org:FX")
    assert filing.inbox(db, "FX")["total"] == 0
    assert filing.inbox(db, "FX", "acknowledged")["total"] == 1


def test_the_filed_document_renders_as_pdf_from_the_filed_bytes(db):
    filed = filing.file(db, FakeOutbox(), uid("K1"), "record", None, "district_admin")
    pdf = filing.document(db, filed["filing_id"], "pdf")
    assert pdf["file_name"] == f"class-record-{uid('K1')}-2026-v1.pdf"
    assert pdf["sha256"] == filed["sha256"]   # the filed version's hash, not the PDF's
