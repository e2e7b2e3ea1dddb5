"""Reporting's rules as plain functions: labels, the organisation tree and scopes, study-hour
quotas, file names, and the filing (备案) rules — deadlines, versions, who may file and review,
what counts as overdue. No nameko, no database."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

# Every report speaks Chinese, in the one vocabulary's words: reports read them here as
# d.TRACKS, d.label and so on.
from services.contracts import rules
from services.contracts.vocabulary import (  # noqa: F401 - re-exported for the reports
    ATTENDANCE_STATUSES,
    CATEGORIES,
    CLASS_STATUSES,
    COMPLETION,
    DELIVERIES,
    ENROLLMENT_MODES,
    ENROLLMENT_ORIGINS,
    ENROLLMENT_STATUSES,
    FILING_KINDS,
    FILING_STATES,
    FORMATS,
    MODULES,
    NO_SECTOR,
    PERSON_ROLES,
    REPORTS,
    RUN_BY,
    SECTORS,
    SESSION_KINDS,
    SESSION_STATUSES,
    STUDY_HOUR_PARTS,
    STUDY_HOUR_SOURCES,
    TRACKS,
    label,
    yes_no,
)
from services.kit.clock import as_utc, local, now, today  # noqa: F401 - d.now() for filings
from services.kit.errors import DomainError, Forbidden, InvalidInput, NotFound

CONTENT_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "png": "image/png",
}


# -- labels -----------------------------------------------------------------------------------

def sector_label(code: str | None) -> str:
    """A sector's label; an organisation without one (or with a code the vocabulary lacks) is
    NO_SECTOR."""
    return SECTORS.get(code, NO_SECTOR)


# -- numbers ----------------------------------------------------------------------------------

def hours(centi: int | None) -> float:
    """Stored hundredths of a study hour as hours."""
    return round((centi or 0) / 100, 2)


def rate(part: int, whole: int) -> float | None:
    """A share rounded to four places; None when there is nothing to share."""
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True)
class Quotas:
    secretary: float = 56.0
    member: float = 32.0

    def for_role(self, role: str) -> float:
        return self.secretary if role == "secretary" else self.member


def quotas() -> Quotas:
    """Yearly study-hour quotas: 56 for secretaries (national plan 2019–2023), 32 for members
    (条例 2019 Art. 20). Plans change, so the environment may say otherwise."""
    return Quotas(rules.quota_hours("secretary"), rules.quota_hours("member"))


def reached_quota(hours_centi: int, quota_hours: float) -> bool:
    return hours_centi >= round(quota_hours * 100)


# -- time (Asia/Shanghai, from the kit's clock) -----------------------------------------------

def local_iso(value: datetime | None) -> str | None:
    return None if value is None else local(value).isoformat()


def time_span(starts: datetime, ends: datetime) -> str:
    return f"{local(starts):%H:%M}-{local(ends):%H:%M}"


# -- the organisation tree and scopes ---------------------------------------------------------

@dataclass
class Org:
    org_code: str
    name: str
    parent_code: str | None
    kind: str
    sector: str | None
    secretary_member_no: str | None


@dataclass
class OrgTree:
    """The tree as organisation_changed events told it. A committee is the ancestor directly
    under the root (DESIGN §1)."""

    orgs: dict[str, Org]
    children: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, orgs) -> "OrgTree":
        tree = cls({o.org_code: o for o in orgs})
        for org in sorted(tree.orgs.values(), key=lambda o: o.org_code):
            if org.parent_code:
                tree.children.setdefault(org.parent_code, []).append(org.org_code)
        return tree

    def get(self, code: str | None) -> Org | None:
        return self.orgs.get(code) if code else None

    def name(self, code: str | None) -> str:
        org = self.get(code)
        return org.name if org else (code or "—")

    def is_root(self, code: str) -> bool:
        org = self.get(code)
        return org is not None and (org.parent_code is None or org.parent_code not in self.orgs)

    def roots(self) -> list[str]:
        return sorted(code for code in self.orgs if self.is_root(code))

    def ancestors(self, code: str) -> list[str]:
        """From the organisation itself up to its root (a cycle stops the walk)."""
        chain, seen = [], set()
        while code and code not in seen:
            seen.add(code)
            chain.append(code)
            org = self.orgs.get(code)
            code = org.parent_code if org else None
        return chain

    def committee_of(self, code: str | None) -> str | None:
        if not code:
            return None
        chain = self.ancestors(code)
        return chain[-2] if len(chain) >= 2 else None

    def subtree(self, code: str) -> set[str]:
        found, stack = set(), [code]
        while stack:
            current = stack.pop()
            if current in found:
                continue
            found.add(current)
            stack.extend(self.children.get(current, ()))
        return found

    def within(self, scope: str | None, code: str | None) -> bool:
        """Is `code` in the subtree of `scope` (None: the whole district)?"""
        if scope is None:
            return True
        return code is not None and scope in self.ancestors(code)

    def grassroots(self) -> list[Org]:
        return sorted((o for o in self.orgs.values() if o.kind == "grassroots"),
                      key=lambda o: o.org_code)

    def secretaries(self) -> dict[str, str]:
        """member_no -> the organisation they are the current secretary of."""
        return {o.secretary_member_no: o.org_code for o in self.orgs.values()
                if o.secretary_member_no}


def run_by(tree: OrgTree, program_organiser: str | None) -> str:
    """A program organised by the district root is district-run; any other is a unit's own
    (各单位参照区级层面做法), whose target never adds to the district's."""
    return "district" if program_organiser and tree.is_root(program_organiser) else "unit"


class Scope:
    """The organisation subtree a report is limited to: what was asked (`org_code`), within what
    the caller may see (`within`, the gateway's token org); None means the whole district."""

    def __init__(self, tree: OrgTree, org_code: str | None = None, within: str | None = None):
        if within is not None and tree.get(within) is None:
            raise Forbidden(f"organisation {within} is not known to reporting", rule="scope")
        if org_code is not None and tree.get(org_code) is None:
            raise NotFound(f"organisation {org_code} is not known",
                           errors={"org_code": ["no organisation_changed event named it"]})
        if org_code is not None and within is not None and not tree.within(within, org_code):
            raise Forbidden(f"organisation {org_code} is outside your organisation's subtree",
                            rule="scope")
        self.tree = tree
        self.org_code = org_code or within
        self.codes = None if self.org_code is None else tree.subtree(self.org_code)

    def contains(self, code: str | None) -> bool:
        return self.codes is None or code in self.codes

    def describe(self) -> dict | None:
        if self.org_code is None:
            return None
        return {"org_code": self.org_code, "name": self.tree.name(self.org_code)}


def file_name(report: str, scope: str | None, year: int | None, ext: str,
              section: str | None = None) -> str:
    """`<report>-<scope>-<year>.<ext>`; district-wide reports leave the scope out (DESIGN §5).
    A CSV of another section than the main table says which: `…-2026-sessions.csv`."""
    parts = [report] + [str(p) for p in (scope, year, section) if p is not None]
    return "-".join(parts) + f".{ext}"


# -- filing (备案) ------------------------------------------------------------------------------

RECORD_DAYS = 7


def plan_deadline(start_date: date) -> date:
    """The plan is filed before the class starts: the last day in time is the day before."""
    return start_date - timedelta(days=1)


def record_deadline(completed_on: date) -> date:
    """The record is filed within 7 days of completion, until 23:59 (Asia/Shanghai) of day 7."""
    return completed_on + timedelta(days=RECORD_DAYS)


def deadline_for(kind: str, start_date: date, completed_on: date | None) -> date | None:
    if kind == "plan":
        return plan_deadline(start_date)
    return record_deadline(completed_on) if completed_on else None


def in_time(filed_at: datetime, deadline: date) -> bool:
    return today(as_utc(filed_at)) <= deadline


def reviewer_of(tree: OrgTree, organiser: str) -> str | None:
    """The organisation a filing goes to: the organiser's parent. None: the district root,
    whose own filings a district_admin reviews."""
    org = tree.get(organiser)
    if org is None or tree.is_root(organiser):
        return None
    return org.parent_code


def check_may_file(kind: str, class_status: str, organiser: str, acting_org: str | None,
                   pending_version: int | None) -> None:
    """The organiser (or a district_admin, acting_org None) files; a record only once the class
    has completed; nothing for a cancelled class; not while a version awaits review."""
    if kind not in FILING_KINDS:
        raise InvalidInput("unknown filing kind",
                           errors={"kind": [f"must be one of {', '.join(FILING_KINDS)}"]})
    if acting_org is not None and acting_org != organiser:
        raise Forbidden(f"only the organiser ({organiser}) files this class's {kind}",
                        rule="filing_organiser")
    if class_status == "cancelled":
        raise DomainError("the class is cancelled: there is nothing to file", rule="cancelled")
    if kind == "record" and class_status != "completed":
        raise DomainError("the training record is filed once the class has completed",
                          rule="record_after_completion")
    if pending_version is not None:
        raise DomainError(f"version {pending_version} is still awaiting review; it must be "
                          "acknowledged or returned before a new version", rule="pending_review")


def check_may_review(parent_code: str | None, acting_org: str | None, reviewed: str | None,
                     action: str, reason: str | None) -> None:
    """The superior organisation reviews (a district_admin any filing, and alone those of the
    district root); once; a return says why."""
    if acting_org is not None and acting_org != parent_code:
        who = parent_code or "a district_admin"
        raise Forbidden(f"this filing is reviewed by {who}", rule="filing_reviewer")
    if reviewed is not None:
        raise DomainError(f"this version is already {reviewed}", rule="reviewed_once")
    if action == "returned" and not (reason or "").strip():
        raise InvalidInput("a return needs a reason", errors={"reason": ["must not be empty"]})


@dataclass(frozen=True)
class FilingState:
    state: str            # due | not_due | overdue | filed | acknowledged | returned | changed
    late: bool            # the first version came after the deadline
    overdue: bool         # listed as overdue: missing past the deadline, late, or returned
    reason: str | None    # why it is overdue, in Chinese


def changed_since_filed(filed_sequence: int | None, class_sequence: int | None) -> bool:
    """Did the class change (class_changed) after this version was built? A version filed
    before sequences were kept was filed before any change."""
    return (class_sequence or 0) > (filed_sequence or 0)


def filing_state(deadline: date | None, versions: list[tuple[datetime, str | None]],
                 as_of: date, changed: bool = False) -> FilingState:
    """`versions`: (filed_at, review action or None) in version order. A record is not due until
    the class completes (deadline None). `changed`: the class changed after the latest version
    was filed, which then waits to be filed again (a returned one already does)."""
    if not versions:
        if deadline is None:
            return FilingState("not_due", False, False, None)
        if as_of > deadline:
            return FilingState("overdue", False, True, "逾期未报")
        return FilingState("due", False, False, None)
    first_at = versions[0][0]
    late = deadline is not None and not in_time(first_at, deadline)
    latest = versions[-1][1] or "filed"
    if latest == "returned" and deadline is not None and as_of > deadline:
        return FilingState("returned", late, True, "退回后逾期未重报")
    if changed and latest != "returned":
        latest = "changed"
    if late:
        return FilingState(latest, True, True, "逾期报送")
    return FilingState(latest, False, False, None)
