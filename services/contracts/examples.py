"""One example per event type: in the AsyncAPI document, and checked against the contracts."""

from datetime import UTC, date, datetime

ID = "6f1c2a3e-8d4b-4c1e-9a7f-2b5d8e0c1f3a"
NOW = datetime(2026, 5, 6, 1, 0, tzinfo=UTC)
CLASS = {"class_id": ID, "program_id": ID, "year": 2026, "track": "secretaries",
         "organiser_org_code": "FX", "title": "村书记班",
         "audience": {"sector": "village", "module": "basic_theory", "category": None},
         "offline_capacity": 50, "delivery": "hybrid", "start_date": date(2026, 5, 6),
         "end_date": date(2026, 5, 7), "core_theory_ratio": 0.75, "online_open": True,
         "review_nominations": False, "sequence": 0}
SESSION = {"session_id": ID, "class_id": ID, "course_title": "党建引领乡村振兴实践",
           "core_theory": False, "kind": "onsite", "starts_at": NOW,
           "ends_at": datetime(2026, 5, 6, 3, 30, tzinfo=UTC), "hours": 2.5,
           "venue_name": "某村乡村振兴示范点", "instructor_name": "村党组织书记", "live": True,
           "sequence": 1}
ENROLLMENT = {"enrollment_id": ID, "class_id": ID, "member_no": "M0001", "org_code": "FX01",
              "committee_code": "FX", "sector": "village", "category": None, "mode": "offline",
              "status": "confirmed", "origin": "nomination"}
FILING = {"filing_id": ID, "org_code": "FX01", "parent_code": "FX", "class_id": ID,
          "kind": "record", "version": 1, "sha256": "a" * 64, "status": "filed", "reason": None}
EXAMPLES = {
    "program_changed": {"program_id": ID, "year": 2026, "track": "members",
                        "organiser_org_code": "FX", "target_person_times": 20000},
    "class_published": CLASS, "class_cancelled": CLASS, "class_completed": CLASS,
    "class_changed": {**CLASS, "offline_capacity": 60, "sequence": 1,
                      "changed": ["offline_capacity"]},
    "session_scheduled": SESSION, "session_rescheduled": SESSION,
    "session_cancelled": SESSION, "session_completed": SESSION,
    "organisation_changed": {"org_code": "FX01", "name": "某村党总支", "parent_code": "FX",
                             "kind": "grassroots", "sector": "village",
                             "secretary_member_no": "M0001"},
    "person_changed": {"member_no": "M0001", "name": "张三", "org_code": "FX01",
                       "committee_code": "FX", "joined_on": date(2024, 7, 1),
                       "employment": "other", "secretary_of": "FX01"},
    "enrollment_confirmed": ENROLLMENT, "enrollment_waitlisted": ENROLLMENT,
    "enrollment_withdrawn": ENROLLMENT,
    "enrollment_nominated": {**ENROLLMENT, "status": "nominated"},
    "enrollment_rejected": {**ENROLLMENT, "status": "rejected", "reason": "名额已满"},
    "attendance_recorded": {"enrollment_id": ID, "session_id": ID, "class_id": ID,
                            "member_no": "M0001", "status": "online", "hours_earned": 2.5,
                            "recorded_at": NOW, "correction": False},
    "completion_recorded": {"enrollment_id": ID, "class_id": ID, "member_no": "M0001",
                            "year": 2026, "status": "completed", "attended_hours": 20,
                            "class_hours": 24},
    "study_hours_recorded": {"entry_id": ID, "member_no": "M0001", "year": 2026, "hours": 4,
                             "source": "online", "title": "远程教育平台专题学习",
                             "on": date(2026, 6, 1), "withdrawn": False},
    "report_generated": FILING, "report_filed": FILING, "filing_acknowledged": FILING,
    "filing_returned": {**FILING, "status": "returned", "reason": "缺少签到表"},
    "viewer_attended": {"session_id": ID, "member_no": "M0001", "watched_minutes": 96,
                        "site": "某村远程教育站点"},
    "member_changed": {"member_no": "M0001", "change": "transferred", "name": "张三",
                       "org_code": "FX02", "joined_on": date(2010, 7, 1),
                       "employment": "enterprise"},
}
