"""`make demo`: a district's year run through peixun's doors, at the real scale.

It starts every service (the same `nameko run` commands compose uses), loads a generated
district through the importers, schedules and publishes the year's classes (the district's, and a
few committees' own), nominates people (one committee reviewing its nominations, then raising its
class's capacity), then walks through the year week by week on a simulated clock: check-ins at
the party school, viewing reports published by a separate live-platform process over AMQP (the
secretaries nominated to no 基础理论 class watch its broadcast, and are enrolled by watching),
sessions completed, corrections; it imports a file of study hours earned elsewhere, and files
plans and records (some late, some returned). It waits until reporting has caught up, pulls every
report into out/, prints the headline figures checked against the ones it works out from what it
did itself (exiting 1 when they disagree), and stops what it started.
"""

import base64
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction

import click
import openpyxl
from kombu import Connection
from nameko.standalone.rpc import ClusterRpcProxy

import services.kit.rpc  # noqa: F401 - domain errors cross RPC as themselves
from services.cli import launch
from services.cli.importing import run_import
from services.contracts import imports, topology, vocabulary
from services.kit import DomainError, clock, config, processes

from . import district as districts
from . import plan as plans

SHANGHAI = plans.SHANGHAI
YEAR = plans.YEAR
REPORTS = ("annual-summary", "coverage-gaps", "filing-status")
# The import columns and values of DESIGN §4, in Chinese as an organisation department has them.
ORG_HEADERS = [chinese for _english, chinese in imports.ORG_HEADERS.values()]
MEMBER_HEADERS = [chinese for _english, chinese in imports.MEMBER_HEADERS.values()]
IMPORT_SECTORS = {"village": "村", "residential": "居民区", "institution": "机关事业单位",
                  "soe": "国有企业", "two_new": "两新组织"}
FORMATS = ("json", "csv", "xlsx", "pdf")
# DESIGN §1: online when a person's viewing reports add up to 80% of the session; completed when
# the attended hours reach 80% of the class's.
ONLINE_SHARE = COMPLETION_SHARE = Fraction(4, 5)
HOURS_HEADERS = [chinese for _english, chinese in imports.HOURS_HEADERS.values()]
# Study hours earned elsewhere (其他学时): what each source's entries are called.
ELSEWHERE = {"unit": ["支部“三会一课”专题党课", "主题党日集中学习", "单位理论学习中心组学习"],
             "online": ["上海干部在线学习城专题课程", "“学习强国”专题学习", "远程教育平台专题课件"],
             "party_school": ["区委党校专题培训班", "市委党校专题轮训"],
             "other": ["红色场馆参观学习", "党建读书会"]}
NOT_ENROLLED, NOT_LIVE = "online_not_enrolled", "online_session_not_live"   # anomaly kinds
UNKNOWN_MEMBER = "3101299999999"


def say(text: str) -> None:
    click.echo(text, err=False)


@contextmanager
def step(title: str):
    started = time.monotonic()
    say(f"▶ {title}")
    yield
    say(f"  … {time.monotonic() - started:.1f}s")


class Year:
    def __init__(self, rpc, amqp_uri: str, var, small: bool, seed: int, clock_file=None):
        self.rpc, self.amqp_uri, self.var = rpc, amqp_uri, var
        self.small, self.seed, self.rng = small, seed, random.Random(seed)
        self.clock_file = clock_file   # None: the services keep real time (`peixun seed`)
        self.counts = defaultdict(int)
        self.platform = None      # the live platform's process, once the first week needs it
        self.looking = None       # the connection that watches queue depths
        self.due: list[tuple] = []   # corrections to make when the clock reaches them
        self.weeks_run = 0
        self.spent = defaultdict(float)   # seconds per part of the weeks, printed at the end
        # What the demo itself did, from which it works out the figures reporting must show:
        self.confirmed = defaultdict(set)   # class_id -> people given a place, as nominate said
        self.viewers = defaultdict(set)     # class_id -> people it enrolled by their watching
        self.present = defaultdict(set)     # (class_id, member_no) -> sessions checked in to
        self.watched = defaultdict(int)     # (session_id, member_no) -> minutes reported seen
        self.viewed = []   # this week's (session_id, people enrolled, people online) to see
        self.flagged = Counter()            # anomaly kind -> viewing reports that earn it
        self.waiting = defaultdict(list)    # class_id -> (member_no, enrollment_id) to review
        self.unit_targets = Counter()       # (organiser, track) -> a unit program's target
        self.other_hours = Counter()        # member_no -> study hours imported (good rows)

    @contextmanager
    def timed(self, part: str):
        started = time.monotonic()
        yield
        self.spent[part] += time.monotonic() - started

    def at(self, moment: datetime) -> None:
        if self.clock_file is not None:
            clock.set_simulated(self.clock_file, moment)

    def prepare(self, district) -> plans.YearPlan:
        """The district loaded, the year's classes scheduled and published, the committees'
        nominations made: where the demo's year begins, and all `peixun seed` does."""
        # The article's yearly targets, scaled to the district: 4,000 secretaries'
        # person-times for 4,000 secretaries, 20,000 members' for 60,000 members.
        self.targets = (len(district.secretaries()), len(district.members) // 3)
        self.names = {o.org_code: o.name for o in district.orgs}
        self.load_district(district)
        with step("seed the catalogue and plan the year"):
            year_plan = plans.plan_year(district, self.catalogue(),
                                        scale=0.1 if self.small else 1.0, seed=self.seed)
        with step(f"schedule and publish {len(year_plan.classes)} classes, "
                  f"{sum(len(c.sessions) for c in year_plan.classes)} sessions"):
            self.at(datetime(YEAR, 1, 12, 10, tzinfo=SHANGHAI))
            self.schedule(year_plan)
        with step("committees nominate"):
            self.at(datetime(YEAR, 2, 2, 10, tzinfo=SHANGHAI))
            self.nominate(year_plan)
        with step("an organiser reviews its nominations and raises its class's capacity"):
            self.at(datetime(YEAR, 2, 9, 10, tzinfo=SHANGHAI))
            self.review(year_plan)
            self.wait_for_queues()
        return year_plan

    # -- the district ---------------------------------------------------------------------------

    def load_district(self, district) -> None:
        orgs = self.var / "orgs.csv"
        with open(orgs, "w", encoding="utf-8-sig") as f:
            f.write(",".join(ORG_HEADERS) + "\n")
            for o in district.orgs:
                kind = vocabulary.ORG_KINDS[o.kind]
                sector = IMPORT_SECTORS[o.sector] if o.sector else ""
                f.write(f"{o.org_code},{o.name},{o.parent_code or ''},{kind},{sector}\n")
            f.write(f"{districts.DISTRICT_CODE},{districts.DISTRICT_NAME},,"
                    f"{vocabulary.ORG_KINDS['district']},\n")
        members = self.var / "members.xlsx"
        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet("党员")
        sheet.append(MEMBER_HEADERS)
        for m in district.members:
            sheet.append([m.member_no, m.name, m.org_code, m.joined_on.isoformat(),
                          vocabulary.EMPLOYMENTS[m.employment], m.secretary_of or ""])
        book.save(members)
        with step(f"import {len(district.orgs)} organisations ({orgs.name})"):
            if run_import("orgs", str(orgs), echo=say) != 0:
                raise RuntimeError("the organisation import failed")
        with step(f"import {len(district.members)} members ({members.name})"):
            if run_import("members", str(members), echo=say) != 0:
                raise RuntimeError("the member import failed")

    # -- the schedule ---------------------------------------------------------------------------

    def catalogue(self) -> plans.Catalogue:
        scheduling = self.rpc.scheduling
        scheduling.seed_catalogue()

        def every(method, **query):
            return method(per_page=200, **query)["items"]

        return plans.Catalogue.from_lists(every(scheduling.list_courses),
                                          every(scheduling.list_venues),
                                          every(scheduling.list_sites),
                                          every(scheduling.list_instructors))

    def schedule(self, year_plan) -> dict:
        """The district's two programs and each unit's own (its target: the places it plans),
        then every class, published."""
        programs = {}
        for track, name, target in (("secretaries", f"{YEAR}年“千名书记进党校”", self.targets[0]),
                                    ("members", f"{YEAR}年“万名党员进课堂”", self.targets[1])):
            programs[None, track] = self.rpc.scheduling.create_program({
                "year": YEAR, "track": track, "organiser_org_code": districts.DISTRICT_CODE,
                "name": name, "target_person_times": target})["program_id"]
        for planned in year_plan.classes:
            if planned.organiser is not None:
                self.unit_targets[planned.organiser, planned.track] += \
                    planned.raised_capacity or planned.offline_capacity
        for (organiser, track), target in sorted(self.unit_targets.items()):
            programs[organiser, track] = self.rpc.scheduling.create_program({
                "year": YEAR, "track": track, "organiser_org_code": organiser,
                "name": f"{YEAR}年{self.names[organiser]}{vocabulary.TRACKS[track]}",
                "target_person_times": target})["program_id"]
        created = {}
        with click.progressbar(year_plan.classes, label="  classes", file=sys.stdout) as bar:
            for planned in bar:
                answer = self.rpc.scheduling.create_class(
                    planned.payload(programs[planned.organiser, planned.track]))
                by_start = {s["starts_at"]: s for s in answer["sessions"]}
                for session in planned.sessions:
                    scheduled = by_start[session.starts_at.isoformat()]
                    session.session_id, session.live = scheduled["session_id"], scheduled["live"]
                planned.class_id = answer["class_id"]
                created[answer["class_id"]] = planned
        return created

    def nominate(self, year_plan) -> None:
        """Each class's nominations in order (offline first, a thousand people a call), eight
        classes at a time: the committees nominate side by side, and what one class decides
        never depends on another's. A unit nominates into its own classes as itself."""
        # Enrollment hears of classes and of their sessions by separate events: both, first.
        self.wait_for_queues()
        with click.progressbar(length=len(year_plan.classes), label="  nominations",
                               file=sys.stdout) as bar:
            for first in range(0, len(year_plan.classes), 8):
                group = year_plan.classes[first:first + 8]
                calls = [[(planned.class_id, {"member_nos": people[chunk:chunk + 1000],
                                              "mode": mode, "by_org_code": planned.organiser})
                          for mode, people in (("offline", planned.offline),
                                               ("online", planned.online))
                          for chunk in range(0, len(people), 1000)] for planned in group]
                for round_ in range(max(map(len, calls))):
                    replies = [self.rpc.enrollment.nominate.call_async(*of_class[round_])
                               for of_class in calls if round_ < len(of_class)]
                    for reply in replies:
                        answer = reply.result()
                        self.counts["enrolled"] += len(answer["enrolled"])
                        self.counts["refused"] += len(answer["refused"])
                        for enrolment in answer["enrolled"]:
                            if enrolment["status"] == "confirmed":   # not waitlisted
                                self.confirmed[enrolment["class_id"]].add(
                                    enrolment["member_no"])
                            elif enrolment["status"] == "nominated":   # for review
                                self.waiting[enrolment["class_id"]].append(
                                    (enrolment["member_no"], enrolment["enrollment_id"]))
                bar.update(len(group))

    def review(self, year_plan) -> None:
        """The organiser of a reviewed class accepts its nominations in order (a seat while
        one is free, then the waitlist) but for those it turns down; then it raises the
        capacity, and enrollment seats the waitlist's first, first come first served."""
        for planned in year_plan.classes:
            if not planned.review:
                continue
            waitlist = []
            for member_no, enrollment_id in self.waiting[planned.class_id]:
                if member_no in planned.rejected:
                    self.rpc.enrollment.reject_nomination(
                        enrollment_id, {"reason": "本年度已参加同类培训，请安排其他党员"},
                        by=planned.organiser)
                    self.counts["rejected"] += 1
                    continue
                answer = self.rpc.enrollment.accept_nomination(enrollment_id,
                                                               by=planned.organiser)
                self.counts["accepted"] += 1
                if answer["status"] == "confirmed":
                    self.confirmed[planned.class_id].add(member_no)
                else:
                    waitlist.append(member_no)
            if planned.raised_capacity is not None:
                self.rpc.scheduling.update_class(planned.class_id,
                                                 {"offline_capacity": planned.raised_capacity})
                seated = len(self.confirmed[planned.class_id])
                promoted = waitlist[:max(0, planned.raised_capacity - seated)]
                self.confirmed[planned.class_id].update(promoted)
                self.counts["promoted"] += len(promoted)

    # -- the weeks --------------------------------------------------------------------------------

    def run_weeks(self, year_plan) -> None:
        weeks = defaultdict(list)
        for planned, session in year_plan.sessions():
            weeks[session.starts_at.astimezone(SHANGHAI).isocalendar()[:2]].append(
                (planned, session))
        with click.progressbar(sorted(weeks.items()), label="  weeks", file=sys.stdout) as bar:
            for number, ((year, week), held) in enumerate(bar, start=1):
                self.run_week(held)
                if not sys.stdout.isatty() and number % 10 == 0:   # a log has no bar
                    say(f"  week {number} of {len(weeks)} done ({year}-W{week:02d}), "
                        f"{self.counts['sessions']} sessions completed")
        say("  " + ", ".join(f"{part} {seconds:.1f}s" for part, seconds in self.spent.items()))
        self.run_corrections(max(s.ends_at for _, s in year_plan.sessions()) + timedelta(days=9))

    def run_week(self, held) -> None:
        """The week's sessions: check-ins at the school and the live platform's viewing reports
        go out session by session without waiting for each answer (the school's devices and the
        platform do not wait for one another either); once enrollment has taken in the week's
        viewings, scheduling completes the sessions."""
        self.run_corrections(min(s.starts_at for _, s in held) - timedelta(hours=1))
        checking_in, viewings = [], 0
        with self.timed("check-ins and viewings sent"):
            for planned, session in held:
                self.at(session.starts_at - timedelta(minutes=30))
                entries = self.check_ins(planned, session)
                checking_in += [self.rpc.enrollment.check_in_batch.call_async(
                    session.session_id, {"entries": entries[chunk:chunk + 5000]})
                    for chunk in range(0, len(entries), 5000)]
                viewings += self.send_viewings(planned, session)
        with self.timed("check-ins answered"):
            for reply in checking_in:
                self.counts["check_ins"] += reply.result()["recorded"]
        self.at(max(s.ends_at for _, s in held) + timedelta(hours=1))
        with self.timed("viewings confirmed"):
            self.flush_viewings(viewings)
        with self.timed("viewings consumed"):
            self.wait_for_queues(("evt-live_platform-viewer_attended--enrollment",),
                                 outboxes=False)
            # A queue looks empty while its consumer still holds what it fetched: wait for
            # what the viewings do in enrollment, so that none comes after its session ends.
            self.wait(self.viewings_taken_in, "enrollment to take in the week's viewings")
        with self.timed("sessions completed"):
            completing = [self.rpc.scheduling.complete_session.call_async(session.session_id)
                          for _, session in sorted(held, key=lambda pair: pair[1].starts_at)]
            for reply in completing:
                reply.result()
                self.counts["sessions"] += 1
        self.plan_corrections(held)

    def check_ins(self, planned, session) -> list[dict]:
        entries = []
        seated = self.confirmed[planned.class_id]
        for member_no in planned.offline:
            if member_no not in seated:   # turned down, or still on the waitlist
                continue
            roll = self.rng.random()
            if roll < 0.90:
                late = timedelta(minutes=self.rng.randint(-25, 10))
                if roll < 0.0005:   # a badge scanned long after the session: flagged
                    late = timedelta(hours=6)
                entries.append({"member_no": member_no, "status": "present",
                                "at": (session.starts_at + late).isoformat()})
                self.present[(planned.class_id, member_no)].add(session.session_id)
            elif roll < 0.94:
                entries.append({"member_no": member_no, "status": "leave", "at": None})
        return entries

    def send_viewings(self, planned, session) -> int:
        """The session's viewing reports, handed to the live platform's own process (another
        system: its own process, sharing only the contract and the broker)."""
        if self.platform is None:
            self.platform = subprocess.Popen(
                [sys.executable, "-m", "demo.live_platform"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, text=True, cwd=config.ROOT,
                env={**os.environ, "AMQP_URI": self.amqp_uri})
        minutes = (session.ends_at - session.starts_at).total_seconds() / 60
        if not session.live:
            # An on-site visit is not broadcast; now and then a phone reports one all the same:
            # flagged, never credited.
            if not planned.online or self.rng.random() >= 0.25:
                return 0
            self.platform.stdin.write(json.dumps({
                "session_id": session.session_id, "member_no": planned.online[0],
                "watched_minutes": round(minutes)}) + "\n")
            self.platform.stdin.flush()
            self.flagged[NOT_LIVE] += 1
            return 1
        viewings = []
        for member_no in planned.online:
            roll = self.rng.random()
            if roll < 0.85:         # watched it through, sometimes on two devices
                first = round(minutes * self.rng.uniform(0.45, 0.6))
                viewings.append((member_no, first))
                viewings.append((member_no, round(minutes) - first))
            elif roll < 0.95:       # dropped out early
                viewings.append((member_no, round(minutes * self.rng.uniform(0.1, 0.7))))
        # Secretaries nominated to none: watching enrols them, from their first viewing on.
        for member_no in planned.watchers:
            roll = self.rng.random()
            if roll < 0.8:
                viewings.append((member_no, round(minutes)))
            elif roll < 0.9:
                viewings.append((member_no, round(minutes * self.rng.uniform(0.2, 0.7))))
            else:
                continue
            self.viewers[planned.class_id].add(member_no)
        # People the audience does not admit, and someone nobody knows: flagged, uncredited.
        strangers = planned.outsiders + ([UNKNOWN_MEMBER] if self.rng.random() < 0.02 else [])
        viewings += [(member_no, round(minutes)) for member_no in strangers]
        self.flagged[NOT_ENROLLED] += len(strangers)
        self.platform.stdin.write("".join(
            json.dumps({"session_id": session.session_id, "member_no": member_no,
                        "watched_minutes": watched}) + "\n" for member_no, watched in viewings))
        for member_no, watched in viewings:
            self.watched[(session.session_id, member_no)] += watched
        self.platform.stdin.flush()
        enrolled = self.confirmed[planned.class_id] | self.viewers[planned.class_id]
        length = Fraction(int((session.ends_at - session.starts_at).total_seconds()), 60)
        self.viewed.append((session.session_id, len(enrolled), sum(
            self.watched[(session.session_id, m)] >= ONLINE_SHARE * length for m in enrolled)))
        return len(viewings)

    def viewings_taken_in(self) -> bool:
        """Whether enrollment shows everything the viewings sent this week should do: the
        people of each session's class (with those watching enrolled), those online, and the
        flags."""
        flags = flag_counts(self.rpc, self.flagged)
        if any(flags[kind] < sent for kind, sent in self.flagged.items()):
            return False
        while self.viewed:
            session_id, enrolled, online = self.viewed[0]
            sheet = self.rpc.enrollment.session_attendance(session_id, {"per_page": 1})
            if sheet["total"] < enrolled or sheet["counts"].get("online", 0) < online:
                return False
            self.viewed.pop(0)
        return True

    def flush_viewings(self, sent: int) -> None:
        """Until the live platform has the broker's confirms for everything sent to it."""
        if self.platform is None:
            return
        self.platform.stdin.write("FLUSH\n")
        self.platform.stdin.flush()
        answer = self.platform.stdout.readline()
        if not answer.startswith("published"):
            raise RuntimeError("the live platform stopped")
        self.counts["viewings"] += sent

    def close(self) -> None:
        if self.looking is not None:
            self.looking.release()
        if self.platform is not None:
            self.platform.stdin.close()
            self.platform.wait(timeout=30)

    def plan_corrections(self, held) -> None:
        """Now and then a teacher corrects a leave that was really an attendance: three days
        after the session it is accepted; one tried on day eight is refused, as the rule says."""
        planned, session = held[0]
        self.weeks_run += 1
        if planned.offline and self.weeks_run % 4 == 1:
            for days, label in ((3, "corrections"), (8, "late_corrections")):
                self.due.append((session.ends_at + timedelta(days=days), label,
                                 planned.class_id, session.session_id, planned.offline[-1]))

    def run_corrections(self, until: datetime) -> None:
        """The corrections due before `until`, each at its own time (the clock never goes
        back)."""
        for when, label, class_id, session_id, member_no in sorted(
                d for d in self.due if d[0] < until):
            self.at(when)
            try:
                self.rpc.enrollment.correct_attendance(session_id, {
                    "member_no": member_no, "status": "present",
                    "reason": "签到设备故障，经班主任核实已到课"})
                self.counts[label] += 1
                self.present[(class_id, member_no)].add(session_id)
            except DomainError:
                self.counts[f"{label}_refused"] += 1
        self.due = [d for d in self.due if d[0] >= until]

    # -- study hours from elsewhere ----------------------------------------------------------------

    def import_hours(self, district, last_day) -> None:
        """A file of study hours earned outside the year's classes (其他学时), as units and the
        remote-education platform send them in, with Chinese headers, imported by `peixun
        import hours`; among its rows two are wrong (a member nobody knows, hours that are no
        number) and are reported, not kept."""
        rows, keys = [], set()
        days = (last_day - date(YEAR, 1, 5)).days
        while len(rows) < (40 if self.small else 3000):
            member = self.rng.choice(district.members)
            source = self.rng.choice(sorted(ELSEWHERE))
            title = self.rng.choice(ELSEWHERE[source])
            on = date(YEAR, 1, 5) + timedelta(days=self.rng.randint(0, days))
            if (member.member_no, title, on) in keys:
                continue
            keys.add((member.member_no, title, on))
            hours = self.rng.choice((1, 1.5, 2, 3, 4, 8))
            rows.append([member.member_no, YEAR, hours, vocabulary.STUDY_HOUR_SOURCES[source],
                         title, on.isoformat()])
            self.other_hours[member.member_no] += Fraction(str(hours))
        good = rows[:]
        rows.insert(len(rows) // 3, ["3101299999998", YEAR, 2, "党校培训", "区委党校专题培训班",
                                     f"{YEAR}-03-02"])
        rows.insert(len(rows) // 2, [good[0][0], YEAR, "两小时", "网络自学",
                                     "“学习强国”专题学习", f"{YEAR}-03-03"])
        path = self.var / "hours.csv"
        with open(path, "w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(HOURS_HEADERS)
            writer.writerows(rows)
        self.counts["hours_rows"] = len(good)
        with step(f"import {len(rows)} rows of study hours earned elsewhere ({path.name})"):
            if run_import("hours", str(path), echo=say) != 0:
                raise RuntimeError("the study-hour import failed")

    # -- filings ----------------------------------------------------------------------------------

    def file(self, year_plan) -> None:
        reporting = self.rpc.reporting
        for planned in year_plan.classes:
            start = min(s.starts_at for s in planned.sessions)
            end = max(s.ends_at for s in planned.sessions)
            late_plan = self.rng.random() < 0.08
            self.at(start + (timedelta(days=2) if late_plan else -timedelta(days=10)))
            plan = self.filing(reporting.file_report, planned.class_id, "plan")
            if plan is not None:                          # the district reviews it next day
                self.at(start + (timedelta(days=3) if late_plan else -timedelta(days=9)))
                reporting.acknowledge_filing(plan["filing_id"])
                self.counts["acknowledged"] += 1
            roll = self.rng.random()
            self.at(end + timedelta(days=12 if roll < 0.07 else 3))
            if roll > 0.97:
                continue                                  # never filed: overdue
            filed = self.filing(reporting.file_report, planned.class_id, "record")
            if filed is None:
                continue
            if roll < 0.12:                               # the district sends it back
                reporting.return_filing(filed["filing_id"], "缺少现场教学签到表，请补充后重新备案")
                self.counts["returned"] += 1
                self.at(end + timedelta(days=5))
                filed = self.filing(reporting.file_report, planned.class_id, "record")
            if filed is not None:
                reporting.acknowledge_filing(filed["filing_id"])
                self.counts["acknowledged"] += 1

    def filing(self, method, class_id, kind):
        try:
            filed = method(class_id, kind)
            self.counts[f"filed_{kind}"] += 1
            return filed
        except DomainError as exc:
            self.counts["filing_refused"] += 1
            say(f"  filing refused: {exc}")
            return None

    # -- catching up and pulling -------------------------------------------------------------------

    def wait(self, predicate, what: str, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for {what}")
            time.sleep(0.2)

    def wait_for_queues(self, names=None, outboxes: bool = True) -> None:
        """Until the named consumer queues (default: all) and their retry queues, and every
        outbox unless told not to look, have stayed empty for three looks in a row."""
        names = names or [q.name for q in topology.all_queues()
                          if q.name not in (topology.DEAD_LETTER_QUEUE, topology.DROPPED_QUEUE)
                          and not q.name.endswith(".retry")]
        names = [n for name in names for n in (name, topology.retry_queue_name(name))]
        if self.looking is None:
            self.looking = Connection(self.amqp_uri)
        channel = self.looking.default_channel
        quiet = 0
        deadline = time.monotonic() + 600
        while quiet < 3:
            pending = sum(channel.queue_declare(name, passive=True)[1] for name in names)
            if outboxes and not pending:
                pending = sum(getattr(self.rpc, s).health().get("outbox_pending", 0)
                              for s in ("scheduling", "enrollment", "reporting"))
            quiet = quiet + 1 if pending == 0 else 0
            if time.monotonic() > deadline:
                raise RuntimeError(f"{pending} events still waiting after ten minutes")
            time.sleep(0.05)

    def pull(self, out, name: str, params: dict, fmt: str) -> bytes:
        answer = self.rpc.reporting.report(name, params, fmt)
        content = base64.b64decode(answer["content_b64"])
        (out / answer["file_name"]).write_bytes(content)
        return content

    def person_hours(self, out, member_nos) -> dict:
        """Each person's study hours of the year as their personal archive (JSON) shows them."""
        shown = {}
        for member_no in member_nos:
            archive = json.loads(self.pull(out, "personal-archive",
                                           {"member_no": member_no, "year": YEAR}, "json"))
            line = next((y for y in archive["summary"] if y["year"] == YEAR), {})
            shown[member_no] = {part: line.get(part, 0.0)
                                for part in ("class_hours", "other_hours")}
        return shown

    def pull_reports(self, out, year_plan, district) -> dict:
        summary = None
        for name in REPORTS:
            for fmt in FORMATS:
                content = self.pull(out, name, {"year": YEAR}, fmt)
                if name == "annual-summary" and fmt == "json":
                    summary = json.loads(content)
        self.pull(out, "annual-summary", {"year": YEAR}, "png")
        for planned in year_plan.classes[:3] + year_plan.classes[-2:]:
            for name in ("class-record", "class-plan"):
                for fmt in FORMATS:
                    self.pull(out, name, {"class_id": planned.class_id}, fmt)
        secretary = district.secretaries()[0].member_no
        for fmt in FORMATS:
            self.pull(out, "personal-archive", {"member_no": secretary, "year": YEAR}, fmt)
        return summary


@dataclass
class YearRun:
    """What `make bench` reads of a demo year."""

    agreed: bool                    # reporting's figures agree with what the demo did
    seconds: float                  # end to end, services started to services stopped
    peak_rss_mb: dict[str, float]   # each service's peak resident memory


def main(small: bool = False, seed: int = 2026) -> int:
    if run(small, seed).agreed:
        return 0
    click.echo("the annual summary disagrees with what the demo did (the ✗ lines above)",
               err=True)
    return 1


def run(small: bool = False, seed: int = 2026, out=None) -> YearRun:
    """The year, with the reports written to `out` (default: out/ at the top of the tree)."""
    started = time.monotonic()
    var = config.var_dir() / "demo"
    shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True)
    out = out or config.ROOT / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    clock_file = var / "clock"
    clock.set_simulated(clock_file, datetime(YEAR, 1, 5, 9, tzinfo=SHANGHAI))
    os.environ.update({"PEIXUN_VAR_DIR": str(var), "PEIXUN_CLOCK_FILE": str(clock_file)})
    amqp_uri = config.amqp_uri()
    district = districts.small() if small else districts.generate(seed=seed)
    log_path = var / "services.log"
    say(f"peixun demo: a district year ({'small' if small else 'full scale'}); "
        f"service logs in {log_path}")
    with open(log_path, "wb") as log:
        running = {name: launch.popen_service(name, stdout=log) for name in config.SERVICES}
        try:
            with step("start scheduling, enrollment, reporting, gateway"):
                processes.wait_healthy(config.SERVICES, amqp_uri, running, timeout=120)
            with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=300) as rpc:
                year = Year(rpc, amqp_uri, var, small, seed, clock_file=clock_file)
                year_plan = year.prepare(district)
                with step("run the year week by week"):
                    year.run_weeks(year_plan)
                last = max(s.ends_at for _, s in year_plan.sessions())
                year.at(last + timedelta(days=10))
                year.import_hours(district, last.astimezone(SHANGHAI).date())
                with step("file plans and training records (备案)"):
                    year.file(year_plan)
                with step("wait for reporting to catch up"):
                    year.at(datetime(YEAR, 12, 31, 18, tzinfo=SHANGHAI))
                    year.wait_for_queues()
                with step("pull the reports into out/"):
                    summary = year.pull_reports(out, year_plan, district)
                year.close()
                expected = expected_figures(year, year_plan, district)
                (out / f"demo-figures-{YEAR}.json").write_text(
                    json.dumps(expected, ensure_ascii=False, indent=1))
                counted = {"completed": completed_enrolments(rpc, year_plan),
                           "flags": flag_counts(rpc, expected["flags"]),
                           "archives": year.person_hours(out, expected["study_hours"]["people"])}
                agreed = headline(summary, expected, year.counts, counted, out)
                peak = {name: processes.peak_rss_mb(p.pid) for name, p in running.items()}
                # PDFs and charts are drawn by reporting's own renderer process
                peak["reporting_renderer"] = rpc.reporting.health()["renderer_peak_rss_mb"]
            say("peak memory: " + ", ".join(f"{name} {mb:.0f} MB" for name, mb in peak.items()))
        finally:
            processes.stop(running)
    seconds = time.monotonic() - started
    say(f"done in {seconds:.0f}s; every service stopped")
    return YearRun(agreed, seconds, peak)


def plan_for(year: int) -> None:
    """Plan `year` instead of the demo's own (`peixun seed --year`). The planner and the year
    read it from their modules, and `peixun seed` runs once in its process."""
    global YEAR
    YEAR = plans.YEAR = year
    plans.FIRST_DAY = date(year, 3, 2)


def seed(small: bool = False, seed: int = 2026, year: int | None = None) -> int:
    """`peixun seed`: the district and a year's plan (`year`, else the demo's), nominations
    made, into services that are already running (`make run`), on their real clock and with
    nothing completed, so that people can explore it through the API and the admin pages."""
    if year is not None:
        plan_for(year)
    amqp_uri = config.amqp_uri()
    try:
        processes.wait_healthy(("scheduling", "enrollment", "reporting"), amqp_uri, timeout=10)
    except RuntimeError as exc:
        click.echo(f"{exc}: start the services first (`make run`)", err=True)
        return 1
    var = config.var_dir() / "seed"
    var.mkdir(parents=True, exist_ok=True)
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=300) as rpc:
        if rpc.scheduling.list_classes(year=YEAR, per_page=1)["total"]:
            click.echo(f"{YEAR} already has classes: peixun seed loads an empty system only",
                       err=True)
            return 1
        district = districts.small() if small else districts.generate(seed=seed)
        year = Year(rpc, amqp_uri, var, small, seed)
        year_plan = year.prepare(district)
    say(f"seeded {YEAR}: {len(district.orgs)} organisations, {len(district.members)} members, "
        f"{len(year_plan.classes)} classes, {year.counts['enrolled']} enrolments; "
        "nothing is completed yet")
    say("explore it: `peixun user create --username admin --role district_admin "
        f"--password-stdin`, then sign in at http://localhost:{config.http_port()}/admin "
        "(a token from `peixun token create` opens /api/v1/docs)")
    return 0


def flag_counts(rpc, kinds) -> dict:
    """Enrollment's count of the anomaly flags of each kind."""
    return {kind: rpc.enrollment.list_anomalies({"kind": kind, "per_page": 1})["total"]
            for kind in kinds}


def completed_enrolments(rpc, year_plan) -> int:
    """What enrollment decided, counted on its side: the person-times reporting must show."""
    return sum(rpc.enrollment.list_enrolments(c.class_id, {"status": "completed",
                                                          "per_page": 1})["total"]
               for c in year_plan.classes)


def expected_figures(year: Year, year_plan, district) -> dict:
    """The annual summary's figures as the demo works them out from what it did itself: the
    classes it scheduled and who ran them, the targets it set, the places nominate, the review
    and the raised capacity gave, the check-ins, viewing reports (live sessions only) and
    corrections it sent, the study hours it imported, and the rules of DESIGN §1. Reporting
    builds its own from the services' events; the two must agree. Written to out/ as
    demo-figures-<year>.json."""
    orgs = {o.org_code: o for o in district.orgs}
    org_of = {m.member_no: orgs[m.org_code] for m in district.members}

    def committee_of(org):
        while org is not None and org.kind != "committee":
            org = orgs.get(org.parent_code)
        return org.org_code if org is not None else None

    tracks = {track: Counter(classes=0, target=0, unit_target=0, enrolled=0,
                             district_person_times=0, unit_person_times=0, person_times=0)
              for track in vocabulary.TRACKS}
    for track, target in zip(("secretaries", "members"), year.targets, strict=True):
        tracks[track]["target"] = target
    for (_organiser, track), target in year.unit_targets.items():
        tracks[track]["unit_target"] += target
    by_sector, by_committee = Counter(), Counter()
    trained = set()   # people who completed a secretaries' class
    class_hours = Counter()   # member_no -> hours credited by the classes they completed
    watching = Counter()      # enrolled by watching, and of them completed
    for planned in year_plan.classes:
        figures = tracks[planned.track]
        figures["classes"] += 1
        run_by = "district" if planned.organiser is None else "unit"
        hours = {s.session_id: Fraction(str(s.course["default_hours"])) for s in planned.sessions}
        minutes = {s.session_id: Fraction(int((s.ends_at - s.starts_at).total_seconds()), 60)
                   for s in planned.sessions if s.live}
        viewers = year.viewers[planned.class_id]
        for member_no in year.confirmed[planned.class_id] | viewers:
            figures["enrolled"] += 1
            watching["enrolled"] += member_no in viewers
            online = {session_id for session_id, length in minutes.items()
                      if year.watched.get((session_id, member_no), 0) >= ONLINE_SHARE * length}
            attended = year.present.get((planned.class_id, member_no), set()) | online
            credited = sum(hours[s] for s in attended)
            if credited < COMPLETION_SHARE * sum(hours.values()):
                continue
            figures["person_times"] += 1
            figures[f"{run_by}_person_times"] += 1
            watching["completed"] += member_no in viewers
            class_hours[member_no] += credited
            by_sector[org_of[member_no].sector] += 1
            by_committee[committee_of(org_of[member_no])] += 1
            if planned.track == "secretaries":
                trained.add(member_no)
    secretary_of = {m.secretary_of: m.member_no for m in district.members if m.secretary_of}
    # Whose personal archives to read: a few with hours from elsewhere, a secretary who only
    # watched, and people of the units' own classes, each one who completed.
    unit_people = sorted(m for c in year_plan.classes if c.organiser
                         for m in year.confirmed[c.class_id] if m in class_hours)
    sample = sorted(year.other_hours)[:3] + \
        sorted(m for c in year_plan.classes for m in year.viewers[c.class_id]
               if m in class_hours)[:1] + unit_people[:1] + unit_people[-1:]
    return {
        "tracks": {track: dict(figures) for track, figures in tracks.items()},
        "person_times": sum(f["person_times"] for f in tracks.values()),
        "by_sector": [{"sector": s, "total": n} for s, n in by_sector.items()],
        "by_committee": [{"committee_code": c, "total": n} for c, n in by_committee.items()],
        "coverage": {"orgs": len(district.grassroots),
                     "covered": sum(secretary_of.get(o.org_code) in trained
                                    for o in district.grassroots)},
        "watching": dict(watching),
        "study_hours": {
            "class_hours": _hours(sum(class_hours.values())),
            "other_hours": _hours(sum(year.other_hours.values())),
            "people": {m: {"class_hours": _hours(class_hours[m]),
                           "other_hours": _hours(year.other_hours[m])}
                       for m in dict.fromkeys(sample)}},
        "flags": {kind: year.flagged[kind] for kind in (NOT_ENROLLED, NOT_LIVE)},
    }


def _hours(value) -> float:
    return round(float(value), 2)


def _brief(figure) -> str:
    """A figure as a ✓ line shows it: a breakdown by its size and sum, a pair as a / b."""
    if isinstance(figure, dict) and len(figure) > 2:
        return f"{len(figure)} 项 合计 {sum(figure.values())}"
    if isinstance(figure, dict):
        return " / ".join(str(value) for value in figure.values())
    return str(figure)


def headline(summary: dict, expected: dict, counts: dict, counted: dict, out) -> bool:
    """Print the year's figures; True when each of the annual summary's and of the personal
    archives the demo read (`counted["archives"]`) agrees with the demo's own, and so do
    enrollment's counts of completed enrolments and of flags."""
    say("")
    say(f"== {YEAR}年 大培训 ==")
    district, unit = vocabulary.RUN_BY["district"], vocabulary.RUN_BY["unit"]
    for track in summary["tracks"]:
        say(f"  {track['label']}: {track['person_times']} 人次 ({district} "
            f"{track['district_person_times']} / 目标 {track['target']} 人次, {unit} "
            f"{track['unit_person_times']} / 目标 {track['unit_target']} 人次; "
            f"{track['classes']} 个班次, 报名 {track['enrolled']} 人次)")
    watching = expected["watching"]
    say(f"  只看直播的书记: {watching.get('enrolled', 0)} 人因观看入班, "
        f"{watching.get('completed', 0)} 人结业")
    coverage = summary["coverage"]
    say(f"  书记培训覆盖: {coverage['covered']} / {coverage['orgs']} 个基层党组织")
    groups = summary["study_hours"]["groups"]
    parts = vocabulary.STUDY_HOUR_PARTS
    for group in groups:
        say(f"  {group['label']}学时达标 ({group['quota']} 学时): {group['reached']} / "
            f"{group['people']} 人; {parts['class']} {group['class_hours']}, "
            f"{parts['other']} {group['other_hours']}, {parts['total']} {group['total_hours']}")
    say("  " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    checks = []   # (what, the reported figure, the demo's)
    for track in summary["tracks"]:
        mine = expected["tracks"][track["track"]]
        checks += [(f"{track['label']}: {figure}", track[figure], mine[figure])
                   for figure in mine]
    checks += [
        ("person-times", summary["totals"]["person_times"], expected["person_times"]),
        ("person-times = completed enrolments (enrollment's count)",
         summary["totals"]["person_times"], counted["completed"]),
        ("person-times by sector",
         {r["sector"]: r["total"] for r in summary["by_sector"] if r["total"]},
         {r["sector"]: r["total"] for r in expected["by_sector"]}),
        ("person-times by party committee",
         {r["committee_code"]: r["total"] for r in summary["by_committee"] if r["total"]},
         {r["committee_code"]: r["total"] for r in expected["by_committee"]}),
        ("grassroots organisations whose secretary completed a class",
         coverage["covered"], expected["coverage"]["covered"]),
        ("grassroots organisations", coverage["orgs"], expected["coverage"]["orgs"]),
        (parts["class"], round(sum(g["class_hours"] for g in groups), 2),
         expected["study_hours"]["class_hours"]),
        (parts["other"], round(sum(g["other_hours"] for g in groups), 2),
         expected["study_hours"]["other_hours"]),
    ]
    for member_no, mine in expected["study_hours"]["people"].items():
        checks.append((f"personal archive {member_no}: {parts['class']}, {parts['other']}",
                       counted["archives"][member_no], mine))
    for kind, sent in sorted(expected["flags"].items()):
        checks.append((f"viewings flagged {kind} (enrollment's count)",
                       counted["flags"][kind], sent))
    for what, reported, own in checks:
        if reported == own:
            say(f"  ✓ {what}: {_brief(reported)} = {_brief(own)}")
        else:
            say(f"  ✗ {what}: reported {reported}, expected {own}")
    say(f"reports in {out}: {len(list(out.iterdir()))} files")
    return all(reported == own for _, reported, own in checks)
