"""Stored report files and the replay, on SQLite: the same report with nothing new told is the
same stored file; a rebuild from the log gives byte-identical JSON reports."""

import base64
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from services.contracts.topology import queue_name
from services.kit.models import inbox
from services.reporting import models, projections, replay, store
from tests.support.databases import sqlite_engine
from tests.support.districts import District, small_district, uid
from tests.support.fakes import FakeOutbox


def live(engine, envelopes, batch=50):
    """What the live handlers do: apply a batch and record its events in the inbox."""
    with Session(engine) as session, session.begin():
        for start in range(0, len(envelopes), batch):
            chunk = envelopes[start:start + batch]
            projections.apply(session, chunk)
            session.execute(insert(inbox), [
                {"consumer": queue_name("reporting", e["source"], e["type"]),
                 "event_id": e["id"], "source": e["source"], "type": e["type"], "payload": e,
                 "received_at": datetime.now(UTC)} for e in chunk])


@pytest.fixture
def engine(tmp_path):
    engine = sqlite_engine(tmp_path / "reporting.db", "reporting")
    yield engine
    engine.dispose()


EVERY_REPORT = [("class-record", {"class_id": uid("K1")}), ("class-plan", {"class_id": uid("K1")}),
                ("annual-summary", {"year": 2026}), ("coverage-gaps", {"year": 2026}),
                ("personal-archive", {"member_no": "S12"}),
                ("filing-status", {"year": 2026, "as_of": "2026-06-01"})]


def fresh_json(engine) -> dict:
    with Session(engine) as db:
        out = {}
        for name, params in EVERY_REPORT:
            spec, loaded = store.resolve(name, params, "json")
            out[name] = store.build_content(spec, spec.build(db, loaded, None), "json")
        return out


def test_pulling_again_with_nothing_new_returns_the_same_stored_file(engine):
    live(engine, small_district().events)
    outbox = FakeOutbox()
    with Session(engine) as db:
        first = store.pull(db, outbox, "annual-summary", {"year": 2026}, "xlsx")
        db.commit()
        second = store.pull(db, outbox, "annual-summary", {"year": 2026}, "xlsx")
        assert (first["cached"], second["cached"]) == (False, True)
        assert second["content_b64"] == first["content_b64"]
        assert second["sha256"] == first["sha256"]
        assert db.execute(select(func.count()).select_from(models.report_file)).scalar() == 1
    assert [t for t, _ in outbox.events] == ["report_generated"]
    assert outbox.events[0][1]["sha256"] == first["sha256"]


def test_a_new_event_makes_a_new_file_that_reflects_it(engine):
    district = small_district()
    live(engine, district.events)
    with Session(engine) as db:
        before = store.pull(db, None, "class-record", {"class_id": uid("K1")}, "json")
        db.commit()
    late = District()
    late.enrol("enrollment_confirmed", "E10", "K1", "S13", "G12", "C1", "residential")
    live(engine, late.events)
    with Session(engine) as db:
        after = store.pull(db, None, "class-record", {"class_id": uid("K1")}, "json")
    assert not after["cached"] and after["position"] > before["position"]
    assert b'"S13"' in base64.b64decode(after["content_b64"])


def test_the_stored_file_records_its_parameters_position_and_hash(engine):
    live(engine, small_district().events)
    with Session(engine) as db:
        answer = store.pull(db, None, "coverage-gaps", {"year": 2026, "org_code": "C1"}, "csv")
        row = db.execute(select(models.report_file)).mappings().one()
    assert row["file_name"] == answer["file_name"] == "coverage-gaps-C1-2026.csv"
    assert '"org_code": "C1"' in row["params"] and '"year": 2026' in row["params"]
    assert row["position"] == len(small_district().events)
    assert row["sha256"] == answer["sha256"]


def test_replay_rebuilds_byte_identical_json_reports(engine):
    live(engine, small_district().events, batch=13)
    before = fresh_json(engine)
    seen = []
    result = replay.replay(engine, batch=17, on_progress=seen.append)
    assert result.events == sum(seen) == len(small_district().events)
    assert result.generation == 1
    assert fresh_json(engine) == before


def test_replay_empties_what_no_event_in_the_log_supports(engine):
    live(engine, small_district().events)
    with Session(engine) as session, session.begin():   # a row the log never told
        session.execute(insert(models.rp_person).values(
            member_no="GHOST", org_code="G11", active=True, vkey="0"))
    replay.replay(engine)
    with engine.connect() as connection:
        assert connection.execute(select(models.rp_person.c.member_no).where(
            models.rp_person.c.member_no == "GHOST")).first() is None


def test_replay_skips_other_consumers_rows_in_the_inbox(engine):
    live(engine, small_district().events)
    stranger = small_district().events[0]
    with Session(engine) as session, session.begin():
        session.execute(insert(inbox).values(
            consumer="evt-enrollment-organisation_changed--batchprobe", event_id=stranger["id"],
            source="enrollment", type="organisation_changed",
            payload={**stranger, "data": {**stranger["data"], "name": "改过的名字"}},
            received_at=datetime.now(UTC)))
    replay.replay(engine)
    with engine.connect() as connection:
        assert connection.execute(select(models.rp_org.c.name).where(
            models.rp_org.c.org_code == "FX")).scalar_one() == "奉贤区委"


def test_after_a_replay_a_pull_builds_afresh(engine):
    live(engine, small_district().events)
    with Session(engine) as db:
        first = store.pull(db, None, "annual-summary", {"year": 2026}, "json")
        db.commit()
    replay.replay(engine)
    with Session(engine) as db:
        again = store.pull(db, None, "annual-summary", {"year": 2026}, "json")
    assert not again["cached"]                     # the generation moved on
    assert again["content_b64"] == first["content_b64"]   # and the bytes are the same
