"""The year's plan, worked out before anything is sent: which classes run when and where, who is
nominated, who turns up. Pure and seeded: the same district and catalogue give the same year.

The shape follows the article: secretaries take a 基础理论 class (hybrid: the party school's
hall plus the live broadcast to every grassroots secretary; some are nominated to none and only
watch the broadcast, which enrols them) and some an 拓展提升 class for their sector; members
nominated by their committees take a class for their category, with an on-site visit for their
audience and, for new members, the oath at the party-building service centre. A few party (work)
committees run programs and classes of their own for their own people (各单位参照区级层面做法),
one of them reviewing its nominations and later taking its waitlist in. Every class keeps at
least two thirds of its sessions core theory.
"""

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from services.contracts.vocabulary import CATEGORIES, SECTORS
from services.kit.clock import SHANGHAI

from .district import District

YEAR = 2026
FIRST_DAY = date(YEAR, 3, 2)
MORNING, AFTERNOON = time(9, 0), time(14, 0)
# Of the grassroots secretaries, the share nominated to no 基础理论 class: they only watch it.
WATCH_ONLY = 0.15
SITE_AUDIENCE = {"institution": ("rural_revitalisation", "social_governance"),
                 "enterprise": ("new_city_project", "two_new_demo"),
                 "new_member": ("red_village", "archives")}


@dataclass
class Catalogue:
    """What the demo needs of scheduling's catalogue, by id."""

    core: list[dict]            # core-theory courses (lectures and seminars)
    general: list[dict]         # non-core courses for every sector
    by_sector: dict[str, list[dict]]
    onsite: dict[str, dict]     # site kind -> its on-site course
    oath: dict
    venues: list[dict]          # by seats, largest first
    sites: dict[str, list[dict]]   # site kind -> sites
    professors: list[str]       # instructor ids of party-school professors

    @classmethod
    def from_lists(cls, courses, venues, sites, instructors) -> "Catalogue":
        onsite_by_word = {"乡村振兴": "rural_revitalisation", "社会治理": "social_governance",
                          "新城": "new_city_project", "两新": "two_new_demo",
                          "红色村居": "red_village", "档案馆": "archives"}
        onsite = {}
        for course in courses:
            if course["default_kind"] == "onsite":
                for word, kind in onsite_by_word.items():
                    if word in course["title"]:
                        onsite[kind] = course
        by_sector = defaultdict(list)
        for course in courses:
            if not course["core_theory"] and course["default_kind"] in ("lecture", "seminar"):
                for sector in course["sectors"]:
                    by_sector[sector].append(course)
        site_groups = defaultdict(list)
        for site in sites:
            site_groups[site["kind"]].append(site)
        return cls(
            core=[c for c in courses if c["core_theory"]],
            general=[c for c in courses if not c["core_theory"] and not c["sectors"]
                     and c["default_kind"] in ("lecture", "seminar")],
            by_sector=dict(by_sector), onsite=onsite,
            oath=next(c for c in courses if c["default_kind"] == "oath"),
            venues=sorted(venues, key=lambda v: -v["seats"]), sites=dict(site_groups),
            professors=[i["instructor_id"] for i in instructors
                        if i["kind"] == "party_school_professor"])


@dataclass
class PlannedSession:
    course: dict
    starts_at: datetime
    ends_at: datetime
    venue_id: str | None = None
    site_id: str | None = None
    instructor_id: str | None = None
    venue_name: str | None = None       # a unit's own room, not in the catalogue
    session_id: str | None = None       # once scheduled
    live: bool = False                  # broadcast live, as scheduling decided

    def payload(self) -> dict:
        data = {"course_id": self.course["course_id"], "starts_at": self.starts_at.isoformat(),
                "ends_at": self.ends_at.isoformat()}
        for name in ("venue_id", "site_id", "instructor_id", "venue_name"):
            if getattr(self, name):
                data[name] = getattr(self, name)
        return data


@dataclass
class PlannedClass:
    track: str
    title: str
    audience: dict
    delivery: str
    offline_capacity: int
    sessions: list[PlannedSession]
    offline: list[str] = field(default_factory=list)      # member numbers nominated offline
    online: list[str] = field(default_factory=list)       # … and online
    organiser: str | None = None        # the unit running it; None: the district
    # Sitting secretaries nominated to no class of this kind who watch its broadcast, and
    # people its audience does not admit who watch it all the same.
    watchers: list[str] = field(default_factory=list)
    outsiders: list[str] = field(default_factory=list)
    review: bool = False                # nominations wait for the organiser's review
    rejected: list[str] = field(default_factory=list)     # … of which it turns these down
    raised_capacity: int | None = None  # the capacity the organiser raises it to once published
    class_id: str | None = None                            # once scheduled

    @property
    def start_date(self) -> date:
        return min(s.starts_at for s in self.sessions).astimezone(SHANGHAI).date()

    @property
    def end_date(self) -> date:
        return max(s.ends_at for s in self.sessions).astimezone(SHANGHAI).date()

    def payload(self, program_id: str) -> dict:
        return {"program_id": program_id, "title": self.title, "audience": self.audience,
                "offline_capacity": self.offline_capacity, "delivery": self.delivery,
                "start_date": self.start_date.isoformat(),
                "end_date": self.end_date.isoformat(), "publish": True,
                "review_nominations": self.review,
                "sessions": [s.payload() for s in self.sessions]}


class Calendar:
    """Half-day slots on weekdays, and who is booked in each."""

    def __init__(self):
        self.booked: dict[tuple[date, time], set[str]] = defaultdict(set)

    def free(self, day: date, slot: time, *resources: str) -> bool:
        return not any(r in self.booked[(day, slot)] for r in resources if r)

    def book(self, day: date, slot: time, *resources: str) -> None:
        self.booked[(day, slot)].update(r for r in resources if r)


def weekdays(start: date):
    day = start
    while True:
        if day.weekday() < 5:
            yield day
        day += timedelta(days=1)


def _at(day: date, clock: time, hours: float) -> tuple[datetime, datetime]:
    begins = datetime.combine(day, clock, SHANGHAI)
    return begins, begins + timedelta(hours=hours)


def lay_out(courses: list[dict], calendar: Calendar, catalogue: Catalogue, start: date,
            venue: dict | None, offline_capacity: int, rng: random.Random
            ) -> list[PlannedSession]:
    """Put a class's courses into the first run of consecutive half-days from `start` where its
    venue, instructors and sites are all free."""
    for first in weekdays(start):
        if first.year > YEAR:
            raise RuntimeError(f"no room left in {YEAR} for a class of {offline_capacity}")
        slots = []
        days = weekdays(first)
        while len(slots) < len(courses):
            day = next(days)
            slots += [(day, MORNING), (day, AFTERNOON)]
        planned, ok = [], True
        trial = Calendar()
        trial.booked = defaultdict(set, {k: set(v) for k, v in calendar.booked.items()})
        for course, (day, slot) in zip(courses, slots, strict=False):
            kind = course["default_kind"]
            instructor = course.get("default_instructor_id")
            if instructor in catalogue.professors and not trial.free(day, slot, instructor):
                spare = [p for p in catalogue.professors if trial.free(day, slot, p)]
                instructor = rng.choice(spare) if spare else instructor
            site_id = venue_id = None
            if kind in ("onsite", "oath"):
                kinds = [k for k, c in catalogue.onsite.items() if c is course] \
                    or ["party_service_centre"]
                options = [s for k in kinds for s in catalogue.sites.get(k, [])
                           if s["group_capacity"] >= offline_capacity
                           and trial.free(day, slot, s["site_id"])]
                if not options:
                    ok = False
                    break
                site_id = options[0]["site_id"]
            elif venue is not None:
                venue_id = venue["venue_id"]
            if not trial.free(day, slot, venue_id, instructor):
                ok = False
                break
            trial.book(day, slot, venue_id, site_id, instructor)
            begins, ends = _at(day, slot, course["default_hours"])
            planned.append(PlannedSession(course, begins, ends, venue_id, site_id, instructor))
        if ok:
            calendar.booked = trial.booked
            return planned
    raise RuntimeError("no room in the year")   # pragma: no cover - the year is long


@dataclass
class YearPlan:
    classes: list[PlannedClass]

    def sessions(self):
        return sorted(((c, s) for c in self.classes for s in c.sessions),
                      key=lambda pair: pair[1].starts_at)


def plan_year(district: District, catalogue: Catalogue, *, scale: float = 1.0,
              seed: int = 2026) -> YearPlan:
    rng = random.Random(seed)
    calendar = Calendar()
    classes: list[PlannedClass] = []
    hall = catalogue.venues[0]
    rooms = catalogue.venues[1:]
    secretaries = district.secretaries()
    sector_of = {o.org_code: o.sector for o in district.grassroots}

    # 基础理论: hybrid, every sector together, the hall plus the live broadcast, which the
    # secretaries nominated to none of them watch (and a few members it is not for).
    basic_classes = max(1, round(8 * scale))
    pool = secretaries[:]
    rng.shuffle(pool)
    watch_only = round(len(pool) * WATCH_ONLY)
    pool, watching = pool[watch_only:], pool[:watch_only]
    per_class = -(-len(pool) // basic_classes)
    per_watching = -(-len(watching) // basic_classes)
    not_secretaries = [m.member_no for m in district.members if not m.secretary_of]
    start = FIRST_DAY
    for index in range(basic_classes):
        courses = rng.sample(catalogue.core, 3) + [catalogue.general[0]]
        capacity = min(hall["seats"], per_class)
        sessions = lay_out(courses, calendar, catalogue, start, hall, capacity, rng)
        people = [m.member_no for m in pool[index * per_class:(index + 1) * per_class]]
        classes.append(PlannedClass(
            "secretaries", f"{YEAR}年基层党组织书记基础理论培训班（第{index + 1}期）",
            {"sector": None, "module": "basic_theory"}, "hybrid", capacity, sessions,
            offline=people[:capacity], online=people[capacity:],
            watchers=[m.member_no for m in
                      watching[index * per_watching:(index + 1) * per_watching]],
            outsiders=rng.sample(not_secretaries, 2)))
        start += timedelta(days=14)

    # 拓展提升: offline, one sector each, a classroom.
    start = FIRST_DAY + timedelta(days=35)
    for sector in SECTORS:
        in_sector = [m for m in secretaries if sector_of[m.secretary_of] == sector]
        rng.shuffle(in_sector)
        for number in range(max(1, round(2 * scale))):
            room = rooms[number % len(rooms)]
            capacity = min(room["seats"], 120)
            specific = (catalogue.by_sector.get(sector, []) + catalogue.general[1:])[:2]
            courses = rng.sample(catalogue.core, 4) + specific
            sessions = lay_out(courses, calendar, catalogue, start, room, capacity, rng)
            people = [m.member_no for m in in_sector[number * capacity:(number + 1) * capacity]]
            classes.append(PlannedClass(
                "secretaries",
                f"{YEAR}年{SECTORS[sector]}党组织书记拓展提升培训班（第{number + 1}期）",
                {"sector": sector, "module": "advanced"}, "offline", capacity, sessions,
                offline=people))
            start += timedelta(days=9)

    # 万名党员进课堂: per category, nominated by the committees.
    counts = {"institution": 45, "enterprise": 55, "new_member": 30}
    committee_of = {o.org_code: o.parent_code for o in district.grassroots}
    taken: set[str] = set()
    members = [m for m in district.members if not m.secretary_of]

    def by_category(category: str, on: date):
        three_years_before = on.replace(year=on.year - 3)
        if category == "new_member":
            return [m for m in members if m.joined_on > three_years_before]
        return [m for m in members if m.employment == category
                and m.joined_on <= three_years_before]

    start = FIRST_DAY + timedelta(days=7)
    ordered = [c for c, n in counts.items() for _ in range(max(1, round(n * scale)))]
    rng.shuffle(ordered)
    serial = defaultdict(int)
    for category in ordered:
        serial[category] += 1
        site_kinds = SITE_AUDIENCE[category]
        onsite = catalogue.onsite[site_kinds[serial[category] % 2]]
        extra = catalogue.oath if category == "new_member" else \
            catalogue.general[serial[category] % len(catalogue.general)]
        courses = rng.sample(catalogue.core, 4) + [onsite, extra]
        delivery = "hybrid" if serial[category] % 2 else "offline"
        room = rooms[serial[category] % len(rooms)]
        site_room = max(s["group_capacity"] for k in site_kinds if onsite is catalogue.onsite[k]
                        for s in catalogue.sites[k])
        capacity = min(room["seats"], 100, site_room)
        sessions = lay_out(courses, calendar, catalogue, start, room, capacity, rng)
        class_start = min(s.starts_at for s in sessions).astimezone(SHANGHAI).date()
        wanted = capacity * 5 // 2 if delivery == "hybrid" else capacity
        eligible = [m for m in by_category(category, class_start) if m.member_no not in taken]
        chosen = rng.sample(eligible, min(wanted, len(eligible)))
        taken.update(m.member_no for m in chosen)
        chosen.sort(key=lambda m: committee_of[m.org_code])   # nominated committee by committee
        people = [m.member_no for m in chosen]
        classes.append(PlannedClass(
            "members", f"{YEAR}年{CATEGORIES[category]}示范培训班（第{serial[category]}期）",
            {"category": category}, delivery, capacity, sessions,
            offline=people[:capacity], online=people[capacity:]))
        start += timedelta(days=2)

    classes += unit_classes(district, catalogue, calendar, rng, taken,
                            committees=max(2, round(4 * scale)))
    return YearPlan(classes)


def unit_classes(district: District, catalogue: Catalogue, calendar: Calendar,
                 rng: random.Random, taken: set[str], committees: int) -> list[PlannedClass]:
    """The largest party (work) committees' own classes, in their own rooms, for their own
    people: each a members' class for the category most of its members are in;
    the first also a class for its secretaries; the second reviews its nominations, turns a few
    down, seats fewer than it accepts and, once published, raises the capacity to take all but
    one of its waitlist in."""
    orgs = {o.org_code: o for o in district.orgs}
    people_of = defaultdict(list)
    for member in district.members:
        people_of[orgs[member.org_code].parent_code].append(member)
    largest = sorted(district.committees, key=lambda c: (-len(people_of[c.org_code]),
                                                         c.org_code))[:committees]
    classes = []
    start = FIRST_DAY + timedelta(days=21)
    for number, committee in enumerate(largest):
        place = committee.name.removesuffix("党工委").removesuffix("党委")
        room = f"{place}党群服务中心"
        courses = rng.sample(catalogue.core, 4) + catalogue.general[1:3]
        sessions = lay_out(courses, calendar, catalogue, start, None, 0, rng)
        for session in sessions:
            session.venue_name = room
        class_start = min(s.starts_at for s in sessions).astimezone(SHANGHAI).date()
        three_years_before = class_start.replace(year=class_start.year - 3)
        eligible = defaultdict(list)   # those the district's classes have not taken first
        for member in sorted(people_of[committee.org_code], key=lambda m: m.member_no in taken):
            if member.secretary_of:
                continue
            if member.joined_on > three_years_before:
                eligible["new_member"].append(member.member_no)
            elif member.employment in ("institution", "enterprise"):
                eligible[member.employment].append(member.member_no)
        category = max(sorted(eligible), key=lambda c: len(eligible[c]))
        people = eligible[category][:60]
        taken.update(people)
        planned = PlannedClass(
            "members", f"{YEAR}年{place}{CATEGORIES[category]}培训班", {"category": category},
            "offline", len(people), sessions, offline=people, organiser=committee.org_code)
        if number == 1:
            planned.review = True
            planned.rejected = people[-max(1, len(people) // 10):]
            waiting = max(2, len(people) // 6)
            planned.offline_capacity = len(people) - len(planned.rejected) - waiting
            planned.raised_capacity = planned.offline_capacity + waiting - 1
        classes.append(planned)
        start += timedelta(days=10)
        if number == 0:
            secretaries = [m.member_no for m in people_of[committee.org_code] if m.secretary_of]
            courses = rng.sample(catalogue.core, 4) + catalogue.general[1:3]
            sessions = lay_out(courses, calendar, catalogue, start, None, 0, rng)
            for session in sessions:
                session.venue_name = room
            classes.append(PlannedClass(
                "secretaries", f"{YEAR}年{place}基层党组织书记轮训班",
                {"sector": None, "module": "advanced"}, "offline", len(secretaries), sessions,
                offline=secretaries, organiser=committee.org_code))
            start += timedelta(days=10)
    return classes
