"""What completing a session or closing a class says it will do, from enrollment's attendance
sheets (the gateway asks before it completes): nobody's attendance recorded means everyone
enrolled is marked absent, or does not complete."""

from services.gateway.routes.scheduling import class_warnings, session_warnings


def sheet(total, **counts):
    return {"total": total, "counts": counts}


def test_a_session_nobody_was_recorded_at_says_everyone_will_be_absent():
    [warning] = session_warnings(sheet(12))
    assert warning["code"] == "no_attendance_recorded" and warning["enrolled"] == 12
    assert "12 人将全部记为缺勤" in warning["message"]
    assert session_warnings(sheet(12, absent=12)) == session_warnings(sheet(12))


def test_a_session_with_any_presence_online_or_leave_completes_without_a_word():
    assert session_warnings(sheet(12, present=1)) == []
    assert session_warnings(sheet(12, leave=1)) == []
    assert session_warnings(sheet(0)) == []   # nobody enrolled: nobody marked


def test_without_enrollments_answer_the_warning_says_what_happens_anyway():
    [warning] = session_warnings(None)
    assert warning["code"] == "attendance_unchecked" and "记为缺勤" in warning["message"]
    assert class_warnings(None)[0]["code"] == "attendance_unchecked"


def test_a_class_nobody_attended_says_nobody_will_complete():
    [warning] = class_warnings([sheet(8, absent=8), sheet(8, leave=2, absent=6)])
    assert warning["enrolled"] == 8 and "未达结业要求" in warning["message"]
    assert class_warnings([sheet(8, absent=8), sheet(8, online=1, absent=7)]) == []
