"""Issue 13's figures on the unit district of tests/support/districts.py (SQLite, no broker):
district-run and unit-run person-times, cards that add up, nominations waiting or rejected,
live viewers, a class's changes and the filing they mark, study hours from elsewhere, names on
records. Every expected figure is counted by hand from the events the builder told."""

import base64
import io
import json
import random
import subprocess
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.contracts.document import Document
from services.gateway.pages import views
from services.kit.errors import Forbidden
from services.reporting import filing, models, store
from services.reporting.render import render
from services.reporting.reports import REPORTS
from tests.support.databases import sqlite_engine
from tests.support.districts import NAMES, District, k4_changes, load, snapshot, uid, unit_district
from tests.support.fakes import FakeOutbox


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    engine = sqlite_engine(tmp_path_factory.mktemp("units") / "reporting.db", "reporting")
    load(engine, unit_district().events)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine):
    with Session(engine) as session:
        yield session


def build(db, name, within=None, **params):
    spec, loaded = store.resolve(name, params, "json")
    return spec.build(db, loaded, within)


def pulled(db, name, fmt, **params) -> bytes:
    return base64.b64decode(store.pull(db, None, name, params, fmt)["content_b64"])


def tracks_of(summary) -> dict:
    keys = ("district_target", "district_person_times", "unit_target", "unit_person_times",
            "person_times", "enrolled", "classes_attended", "classes")
    return {t["track"]: tuple(t[k] for k in keys) for t in summary["tracks"]}


# -- district-run and unit-run -----------------------------------------------------------------

def test_a_unit_programs_target_never_adds_to_the_districts(db):
    summary = build(db, "annual-summary", year=2026)
    # (district target, district-run, unit target, unit-run, total, enrolled, classes the
    # enrolments are in, classes organised)
    assert tracks_of(summary) == {
        "secretaries": (4, 2, 2, 1, 3, 5, 3, 3),   # K1 S11 S21; K6 S12 (G12's own program)
        "members": (5, 2, 3, 1, 3, 4, 2, 2),       # K2 M1 M2; K5 M1 (C1's own program)
    }
    secretaries = summary["tracks"][0]
    assert (secretaries["target"], secretaries["achievement"]) == (4, 0.5)   # the district's
    assert summary["totals"]["district_target"] == 9
    assert summary["totals"]["unit_target"] == 5
    assert summary["totals"]["person_times"] == 6


def test_the_annual_summary_shows_both_kinds_in_every_format(db):
    csv_text = pulled(db, "annual-summary", "csv", year=2026)[3:].decode()
    assert '千名书记进党校,4,2,"=""50.0%""",2,1,3,5,3,3' in csv_text
    workbook = load_workbook(io.BytesIO(pulled(db, "annual-summary", "xlsx", year=2026)))
    rows = [[c.value for c in row] for row in workbook["培训项目"].iter_rows()]
    assert rows[2] == ["万名党员进课堂", 5, 2, 0.4, 3, 1, 3, 4, 2, 2]
    text = pdf_text(pulled(db, "annual-summary", "pdf", year=2026))
    assert "区级调训 4，目标 9" in text and "单位自主培训 2，目标 5" in text


def test_a_committees_cards_and_rows_add_up_with_what_its_people_did(db):
    # C1's people: S11 (K1), S12 (K1, K4, K6 by watching), M1 (K2, K5), M2 (K2; K5 waiting).
    c1 = build(db, "annual-summary", year=2026, org_code="C1")
    assert tracks_of(c1) == {"secretaries": (0, 1, 2, 1, 2, 4, 3, 1),
                             "members": (0, 2, 3, 1, 3, 3, 2, 2)}
    page = views.glance(c1, REPORTS["annual-summary"].layout(c1), None, "C1")
    assert '<div class="value">7</div>' in page and "分布在 5 个班次 · 范围内主办 3 个" in page
    assert '<div class="value">5</div>' in page and "区级调训 3（目标 0 人次" in page
    # C2's one secretary sat in the district's K1: one enrolment in one class, none organised.
    c2 = build(db, "annual-summary", year=2026, org_code="C2")
    secretaries = c2["tracks"][0]
    assert (secretaries["enrolled"], secretaries["classes_attended"],
            secretaries["classes"]) == (1, 1, 0)


def test_a_class_names_its_own_program_and_who_runs_it(db):
    k5 = build(db, "class-plan", class_id=uid("K5"))["class"]
    assert (k5["program_name"], k5["run_by"], k5["run_by_label"]) == ("PU", "unit", "单位自主培训")
    # K2 is organised by C1 in the district's program: district-run.
    k2 = build(db, "class-plan", class_id=uid("K2"))["class"]
    assert (k2["organiser_org_code"], k2["program_name"], k2["run_by"]) == ("C1", "PM",
                                                                          "district")
    k1 = build(db, "class-record", class_id=uid("K1"))
    assert (k1["class"]["program_name"], k1["class"]["run_by"]) == ("PS", "district")
    lines = dict(REPORTS["class-record"].layout(k1).facts)
    assert lines["培训项目"] == "PS（2026年 千名书记进党校 · 区级调训）"


# -- nominations and live viewers --------------------------------------------------------------

def test_a_nomination_waiting_or_rejected_is_no_participant(db):
    record = build(db, "class-record", class_id=uid("K5"))
    assert [p["member_no"] for p in record["participants"]] == ["M1"]
    summary = record["summary"]
    assert (summary["enrolled"], summary["nominated"], summary["rejected"]) == (1, 1, 1)
    archive = build(db, "personal-archive", member_no="M2", year=2026)
    assert [c["title"] for c in archive["years"][0]["classes"]] == ["K2班"]


def test_a_live_viewer_is_a_participant_labelled_so_and_covers_the_secretary(db):
    record = build(db, "class-record", class_id=uid("K6"))
    [viewer] = record["participants"]
    assert (viewer["member_no"], viewer["origin_label"], viewer["completion"]) == \
        ("S12", "直播自主参学", "completed")
    assert record["summary"]["live"] == 1
    summary = build(db, "annual-summary", year=2026)
    assert summary["coverage"] == {"orgs": 4, "covered": 3, "rate": 0.75}
    gaps = build(db, "coverage-gaps", year=2026)
    assert [g["org_code"] for g in gaps["secretaries"]] == ["G22"]


# -- a class that changes ----------------------------------------------------------------------

def test_the_highest_class_sequence_wins_whatever_its_stamp_or_arrival(engine, tmp_path):
    with engine.connect() as connection:
        row = connection.execute(select(models.rp_class).where(
            models.rp_class.c.class_id == uid("K4"))).mappings().one()
    assert (row["title"], row["offline_capacity"], row["sequence"], row["status"]) == \
        ("K4班（调整）", 80, 2, "published")
    events = unit_district().events
    in_order = sqlite_engine(tmp_path / "in-order.db", "reporting")
    load(in_order, events)
    for seed in (1, 2):
        shuffled = random.Random(seed).sample(events, len(events))
        other = sqlite_engine(tmp_path / f"shuffled{seed}.db", "reporting")
        load(other, shuffled, batch=5)
        assert snapshot(other) == snapshot(in_order)
        other.dispose()
    in_order.dispose()


def test_a_plan_changed_after_filing_shows_so_until_it_is_filed_again(tmp_path):
    engine = sqlite_engine(tmp_path / "reporting.db", "reporting")
    load(engine, unit_district(changes=False).events)
    outbox = FakeOutbox()
    with Session(engine) as db:
        plan = filing.file(db, outbox, uid("K4"), "plan", None, "district_admin",
                           now=datetime(2026, 8, 1, 2, tzinfo=UTC))
        filing.review(db, outbox, plan["filing_id"], "acknowledged", None, None, "d",
                      now=datetime(2026, 8, 2, 2, tzinfo=UTC))
        db.commit()

    def k4_plan(db):
        status = build(db, "filing-status", year=2026, as_of="2026-09-02")
        [item] = [i for i in status["items"] if i["class_id"] == uid("K4")
                  and i["kind"] == "plan"]
        return item, status

    with Session(engine) as db:
        assert k4_plan(db)[0]["state"] == "acknowledged"
    changes = unit_district(changes=False)
    changes.events.clear()
    k4_changes(changes)
    load(engine, changes.events)
    with Session(engine) as db:
        item, status = k4_plan(db)
        assert (item["state"], item["state_label"]) == ("changed", "有变更待重新报送")
        assert status["totals"]["changed"] == 1
        [shown] = filing.of_class(db, uid("K4"))["items"]
        assert shown["changed_since_filed"] and shown["changed_label"] == "有变更待重新报送"
        again = filing.file(db, outbox, uid("K4"), "plan", None, "district_admin",
                            now=datetime(2026, 9, 3, 2, tzinfo=UTC))
        assert not again["changed_since_filed"]
        assert json.loads(filing.get(db, again["filing_id"])["content"])["class"]["title"] == \
            "K4班（调整）"
        assert k4_plan(db)[0]["state"] == "filed"
    engine.dispose()


# -- filing by a unit below committee level ----------------------------------------------------

def test_a_grassroots_organisers_filings_go_to_its_parents_inbox(tmp_path):
    engine = sqlite_engine(tmp_path / "reporting.db", "reporting")
    load(engine, unit_district().events)
    outbox = FakeOutbox()
    with Session(engine) as db:
        with pytest.raises(Forbidden):   # its committee does not file for it
            filing.file(db, outbox, uid("K6"), "plan", "C1", "c1")
        plan = filing.file(db, outbox, uid("K6"), "plan", "G12", "g12",
                           now=datetime(2026, 6, 20, 2, tzinfo=UTC))
        record = filing.file(db, outbox, uid("K6"), "record", "G12", "g12",
                             now=datetime(2026, 7, 3, 2, tzinfo=UTC))
        assert (plan["parent_code"], record["parent_code"]) == ("C1", "C1")
        assert {f["filing_id"] for f in filing.inbox(db, "C1")["items"]} == \
            {plan["filing_id"], record["filing_id"]}
        assert filing.inbox(db, None)["total"] == 0          # not the district's to review
        for stranger in ("G12", "C2", "FX"):
            with pytest.raises(Forbidden):
                filing.review(db, outbox, plan["filing_id"], "acknowledged", None, stranger, "x")
        filing.review(db, outbox, plan["filing_id"], "acknowledged", None, "C1", "c1")
        status = build(db, "filing-status", within="C1", year=2026, as_of="2026-07-05")
        states = {(i["org_code"], i["kind"]): i["state"] for i in status["items"]
                  if i["class_id"] == uid("K6")}
        assert states == {("G12", "plan"): "acknowledged", ("G12", "record"): "filed"}
    engine.dispose()


# -- study hours -------------------------------------------------------------------------------

def test_study_hours_from_elsewhere_count_in_the_annual_quota_figures(db):
    groups = {g["role"]: g for g in build(db, "annual-summary", year=2026)
              ["study_hours"]["groups"]}
    secretaries, members = groups["secretary"], groups["member"]
    # S11 8 + 10, S12 3 (K6; K1 incomplete), S21 8: classes 19, elsewhere 10.
    assert (secretaries["class_hours"], secretaries["other_hours"],
            secretaries["total_hours"]) == (19.0, 10.0, 29.0)
    # M1 8 + 4 and 6, M2 8 (its 5 withdrawn), M3 0, M4 0.
    assert (members["class_hours"], members["other_hours"], members["total_hours"]) == \
        (20.0, 6.0, 26.0)
    assert members["bands"] == {"none": 2, "under_half": 1, "under_quota": 1, "reached": 0}


def test_the_quota_is_reached_with_hours_from_elsewhere(db, monkeypatch):
    monkeypatch.setenv("PEIXUN_QUOTA_MEMBER_HOURS", "18")     # M1: 12 from classes + 6
    members = build(db, "annual-summary", year=2026)["study_hours"]["groups"][1]
    assert members["reached"] == 1


def test_the_personal_archive_counts_a_classs_hours_once_it_is_completed_and_says_so(db):
    archive = build(db, "personal-archive", member_no="S12")
    assert [(s["year"], s["class_hours"], s["other_hours"], s["total_hours"])
            for s in archive["summary"]] == [(2025, 6.0, 3.0, 9.0), (2026, 3.0, 0.0, 3.0)]
    classes = {c["title"]: (c["attended_hours"], c["counted_hours"], c["counted_label"])
               for c in archive["years"][1]["classes"]}
    assert classes == {"K1班": (5.0, 0.0, "未达结业要求，不计入"),
                       "K4班（调整）": (0.0, 0.0, "结业后计入"),
                       "K6班": (3.0, 3.0, "已结业，计入")}
    document = REPORTS["personal-archive"].layout(archive)
    headings = {t.title: [c.label for c in t.columns] for t in document.tables}
    assert headings["年度学时"][1:4] == ["集中培训学时", "其他学时", "合计学时"]
    assert "获得学时" not in str(headings)          # one word for one figure
    assert [h["title"] for h in archive["years"][0]["other"]] == ["红色教育基地参观"]


def test_a_withdrawn_entry_counts_nowhere(db):
    archive = build(db, "personal-archive", member_no="M2", year=2026)
    assert archive["years"][0]["other"] == []
    assert archive["summary"][0]["other_hours"] == 0.0


def test_a_withdrawal_wins_over_its_entry_whatever_the_stamps(tmp_path):
    w = District()
    entry = w.study_hours("H9", "M1", 2026, 2, "online", "网络自学", "2026-03-01",
                          at=datetime(2026, 3, 2, 2, tzinfo=UTC))
    w.study_hours("H9", "M1", 2026, 2, "online", "网络自学", "2026-03-01", withdrawn=True,
                  at=entry.occurred_at.replace(hour=1))   # a replica's clock behind
    engine = sqlite_engine(tmp_path / "reporting.db", "reporting")
    load(engine, w.events)
    with engine.connect() as connection:
        assert connection.execute(select(models.rp_study_hours.c.withdrawn)).scalar_one()
    engine.dispose()


def test_a_secretary_only_nominated_is_a_gap_waiting_for_review(tmp_path):
    w = unit_district()
    w.org("G22", "某科技公司党支部", "C2", "grassroots", "two_new", "S22")
    w.enrol("enrollment_nominated", "E81", "K4", "S22", "G22", "C2", "two_new",
            status="nominated")
    engine = sqlite_engine(tmp_path / "reporting.db", "reporting")
    load(engine, w.events)
    with Session(engine) as db:
        gaps = build(db, "coverage-gaps", year=2026)
        summary = build(db, "annual-summary", year=2026)
    engine.dispose()
    assert [(g["org_code"], g["gap_label"]) for g in gaps["secretaries"]] == \
        [("G22", "报名待审核")]
    assert summary["tracks"][0]["enrolled"] == 5          # the nomination is no enrolment


# -- names on records --------------------------------------------------------------------------

def test_every_record_names_each_person_beside_their_number(db):
    record = build(db, "class-record", class_id=uid("K1"))
    assert {p["member_no"]: p["name"] for p in record["participants"]} == \
        {m: NAMES[m] for m in ("S11", "S12", "S21")}
    csv_text = pulled(db, "class-record", "csv", class_id=uid("K1"))[3:].decode()
    assert f"S11,{NAMES['S11']}," in csv_text
    people = load_workbook(io.BytesIO(pulled(db, "class-record", "xlsx",
                                             class_id=uid("K1"))))["参训人员"]
    assert [c.value for c in people[1]][:2] == ["党员编号", "姓名"]
    assert NAMES["S21"] in pdf_text(pulled(db, "class-record", "pdf", class_id=uid("K1")))

    archive = build(db, "personal-archive", member_no="M1")
    assert archive["person"]["name"] == NAMES["M1"]
    assert ("姓名", NAMES["M1"]) in REPORTS["personal-archive"].layout(archive).facts

    gaps = build(db, "coverage-gaps", year=2026)
    assert [(m["member_no"], m["name"]) for m in gaps["members"]] == [("M3", NAMES["M3"])]
    gaps_csv = pulled(db, "coverage-gaps", "csv", year=2026, section="members")[3:].decode()
    assert f"M3,{NAMES['M3']}" in gaps_csv


def test_a_filed_record_names_each_person_in_every_format(tmp_path):
    engine = sqlite_engine(tmp_path / "reporting.db", "reporting")
    load(engine, unit_district().events)
    with Session(engine) as db:
        filed = filing.file(db, FakeOutbox(), uid("K2"), "record", "C1", "c1")
        documents = {fmt: base64.b64decode(filing.document(db, filed["filing_id"], fmt)
                                           ["content_b64"]) for fmt in ("json", "csv", "pdf")}
    engine.dispose()
    people = json.loads(documents["json"])["participants"]
    assert {p["member_no"]: p["name"] for p in people} == {m: NAMES[m] for m in ("M1", "M2",
                                                                                 "M3")}
    assert f"M2,{NAMES['M2']}," in documents["csv"].decode("utf-8-sig")
    assert NAMES["M3"] in pdf_text(documents["pdf"])


def test_a_record_filed_before_names_and_programs_were_kept_is_still_drawn(db):
    record = build(db, "class-record", class_id=uid("K1"))
    for key in ("program_name", "run_by", "run_by_label"):
        del record["class"][key]
    for key in ("live", "nominated", "rejected"):
        del record["summary"][key]
    for person in record["participants"]:
        del person["name"], person["origin"], person["origin_label"]
    document = REPORTS["class-record"].layout(record)
    assert dict(document.facts)["培训项目"] == "千名书记进党校（2026年 千名书记进党校）"
    assert render(document, "csv").startswith(b"\xef\xbb\xbf")


# -- charts ------------------------------------------------------------------------------------

def test_person_times_by_sector_are_one_of_the_summarys_charts_so_the_pdf_draws_it(db, tmp_path):
    summary = build(db, "annual-summary", year=2026)
    document: Document = REPORTS["annual-summary"].layout(summary)
    by_sector = {c.title: c for c in document.charts}["各领域参训人次"]
    # village: S11 (K1), M1 (K2, K5); residential: S12 (K6), M2 (K2); institution: S21 (K1)
    assert dict(zip(by_sector.categories, zip(*by_sector.series.values(), strict=True),
                    strict=True)) == {"村": (1, 2), "居民区": (1, 1), "机关事业单位": (1, 0)}
    # The PDF embeds the charts as one image, two to a row: five charts take three rows.
    path = tmp_path / "summary.pdf"
    path.write_bytes(pulled(db, "annual-summary", "pdf", year=2026))
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True,
                            text=True, check=True).stdout.splitlines()[2:]
    width, height = (int(v) for v in images[0].split()[3:5])
    assert len(document.charts) == 5
    assert height / width == pytest.approx(3 * 4.3 / 14.0, rel=0.01)
    # ... and that image fits on the one page after the tables, nothing cut at its foot.
    without = replace(document, charts=[])
    assert pages(render(document, "pdf")) == pages(render(without, "pdf")) + 1


def pages(pdf: bytes) -> int:
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True)
    return int(next(line.split()[-1] for line in info.stdout.decode().splitlines()
                    if line.startswith("Pages:")))


def pdf_text(content: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=content,
                          capture_output=True, check=True).stdout.decode()
