"""How enrollment's things look over RPC: plain JSON-able dicts, dates as ISO strings and
moments in UTC (whatever offset they came with, on either database)."""

from datetime import UTC

from services.contracts.vocabulary import ANOMALY_KINDS, label
from services.kit.sql import aware


def _iso(value):
    if value is None:
        return None
    value = aware(value).astimezone(UTC) if hasattr(value, "hour") else value
    return value.isoformat()


def page(items: list, total: int, page_no: int, per_page: int) -> dict:
    return {"items": items, "total": total, "page": page_no, "per_page": per_page}


def org_view(org) -> dict:
    return {"org_code": org.org_code, "name": org.name, "parent_code": org.parent_code,
            "kind": org.kind, "sector": org.sector, "committee_code": org.committee_code,
            "secretary_member_no": org.secretary_member_no, "depth": org.depth}


def member_view(member, org=None) -> dict:
    """A person as admins see them: no more than nomination needs."""
    return {"member_no": member.member_no, "name": member.name, "org_code": member.org_code,
            "committee_code": org.committee_code if org is not None else None,
            "joined_on": _iso(member.joined_on), "employment": member.employment,
            "secretary_of": member.secretary_of, "active": member.active}


def enrolment_view(enrolment, name: str | None = None) -> dict:
    view = {"enrollment_id": enrolment.enrollment_id, "class_id": enrolment.class_id,
            "member_no": enrolment.member_no, "org_code": enrolment.org_code,
            "committee_code": enrolment.committee_code, "sector": enrolment.sector,
            "category": enrolment.category, "mode": enrolment.mode,
            "status": enrolment.status, "queue_no": enrolment.queue_no,
            "nominated_by": enrolment.nominated_by, "origin": enrolment.origin,
            "reviewed_by": enrolment.reviewed_by,
            "reason": enrolment.reason,
            "created_at": _iso(enrolment.created_at), "updated_at": _iso(enrolment.updated_at)}
    if name is not None:
        view["name"] = name
    return view


def class_view(klass, places: dict | None = None) -> dict:
    view = {"class_id": klass.class_id, "program_id": klass.program_id, "year": klass.year,
            "track": klass.track, "organiser_org_code": klass.organiser_org_code,
            "title": klass.title, "audience": {"sector": klass.sector, "module": klass.module,
                                               "category": klass.category},
            "offline_capacity": klass.offline_capacity, "delivery": klass.delivery,
            "start_date": _iso(klass.start_date), "end_date": _iso(klass.end_date),
            "online_open": klass.online_open, "review_nominations": klass.review_nominations,
            "sequence": klass.sequence, "status": klass.status}
    if places is not None:
        view["places"] = places
    return view


def session_view(row) -> dict:
    return {"session_id": row.session_id, "class_id": row.class_id,
            "starts_at": _iso(row.starts_at), "ends_at": _iso(row.ends_at), "hours": row.hours,
            "live": row.live, "status": row.status}


def entry_view(entry) -> dict:
    return {"position": entry.position, "enrollment_id": entry.enrollment_id,
            "session_id": entry.session_id, "class_id": entry.class_id,
            "member_no": entry.member_no, "status": entry.status,
            "hours_earned": entry.hours_earned, "source": entry.source,
            "correction": entry.correction, "checked_in_at": _iso(entry.checked_in_at),
            "reason": entry.reason, "recorded_at": _iso(entry.recorded_at),
            "recorded_by": entry.recorded_by, "device": entry.device,
            "chain_seq": entry.chain_seq, "entry_hash": entry.entry_hash}


def flag_view(flag) -> dict:
    return {"flag_id": flag.flag_id, "kind": flag.kind,
            "label": label(ANOMALY_KINDS, flag.kind), "member_no": flag.member_no,
            "org_code": flag.org_code, "class_id": flag.class_id,
            "session_id": flag.session_id, "detail": flag.detail,
            "created_at": _iso(flag.created_at)}


def batch_view(done) -> dict:
    """What a batch of check-ins did (attendance.Recorded)."""
    return {"recorded": len(done.entries), "unchanged": done.unchanged,
            "refused": [{k: r[k] for k in ("index", "member_no", "rule", "reason")}
                        for r in done.refused],
            "flags": [flag_view(f) for f in done.flags]}
