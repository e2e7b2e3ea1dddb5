"""The check-in page and the certificate verification page as HTML. The check-in page is made
for a barcode scanner (it types the number and presses Enter into the focused field) and for a
phone at the door: the answer to the last scan in large type at the top, the field below it
empty and focused again, then who has checked in and who has not. No script. No RPC here."""

from datetime import datetime

from services.contracts.vocabulary import (
    ATTENDANCE_STATUSES,
    ENROLLMENT_STATUSES,
    RULES,
    label,
)
from services.kit.clock import local

from .markup import Markup, el, facts
from .views import FIELD_LABELS, shell

CHECKED = ("present", "leave")
CORRECTABLE = ("present", "online", "leave", "absent")
NOT_DONE = "未能办理，请重试；仍不行请联系管理员"
FIELDS = {**FIELD_LABELS, "member_no": "党员编号", "status": "更正为", "reason": "更正原因"}
NOT_GENUINE = {"unknown": "未查到这个验证码：该证书不是本系统签发的，或验证码有误。",
               "not_completed": "这个验证码对应的结业记录已被更正，该证书已失效。"}

STYLE = """
.checkin-form{background:#fff;padding:12px 16px;border-radius:3px;display:flex;
flex-wrap:wrap;gap:8px;align-items:flex-end;max-width:760px;margin:12px 0}
.checkin-form label{flex:1 1 15em}
.checkin-form input[name=member_no]{width:100%;font-size:22px;padding:8px 10px}
.checkin-form button{font-size:18px;padding:9px 20px}
.correct-form{background:#fff;padding:12px 16px;border-radius:3px;display:flex;
flex-wrap:wrap;gap:8px;align-items:flex-end;max-width:760px}
.correct-form input[name=reason]{width:14em}
.result{font-size:20px;padding:12px 16px;border-radius:3px;margin:8px 0 4px;max-width:760px}
.result .who{font-weight:700;margin-right:12px}
.result.ok{background:#eaf6e6;border:1px solid #9c9}
.result.again{background:#fff7dd;border:1px solid #e3c35a}
.result.refused{background:#fdecea;border:1px solid #e99;color:#8c0000}
.counts{font-size:15px;margin:8px 0}
.counts b{font-size:20px}
@media (max-width:700px){
header{flex-wrap:wrap;gap:0 12px;padding:0 12px}
header nav{order:3;flex-basis:100%;flex-wrap:wrap}
header nav a{padding:6px 8px}
main{padding:12px}
.checkin-form,.correct-form{padding:10px}
.correct-form input[name=reason]{width:100%}
}
"""


def session_time(session: dict) -> str:
    """2026-04-01 09:00–10:30 on Shanghai's clock (scheduling answers local times)."""
    starts, ends = session["starts_at"], session["ends_at"]
    end = ends[11:16] if ends[:10] == starts[:10] else ends[:16].replace("T", " ")
    return f"{starts[:10]} {starts[11:16]}–{end}"


def clock_time(iso: str | None) -> str:
    return "—" if not iso else f"{local(datetime.fromisoformat(iso)):%H:%M}"


# -- what a scan did ---------------------------------------------------------------------------

def outcome(standing: dict, action: str, answer: dict, status: str | None) -> dict:
    """The answer to a recorded (or harmlessly repeated) scan, leave or correction."""
    recorded = answer["recorded"]
    if action == "present":
        text = "出席，已记录" if recorded else "已签到（重复扫描，未重复记录）"
    elif action == "leave":
        text = "请假，已记录" if recorded else "已登记请假（未重复记录）"
    else:
        status_text = label(ATTENDANCE_STATUSES, status)
        text = f"已更正为{status_text}" if recorded else f"本已是{status_text}，未作更改"
    return {"kind": "ok" if recorded else "again", "member_no": standing["member_no"],
            "name": standing["name"], "text": text, "status": 200}


def refusal(member_no: str, name: str | None, status: int, reason: str) -> dict:
    return {"kind": "refused", "member_no": member_no, "name": name, "text": reason,
            "status": status}


def stranger(standing: dict) -> str:
    """Why a scanned person is not on this session's list."""
    if not standing["known"]:
        return RULES["member"]
    status = standing["enrolment_status"]
    if status is None:
        return RULES["enrolled"]
    return f"报名{label(ENROLLMENT_STATUSES, status)}，不在本班签到名单"


def field_reasons(errors: dict | None) -> str | None:
    """A form's own refusals (already in Chinese) by field; a service's English ones are
    said as "填写有误" beside the field's label."""
    said = []
    for field, reasons in (errors or {}).items():
        chinese = [r for r in reasons if not r.isascii()]
        said.append(f"{FIELDS.get(field, field)}：{'；'.join(chinese) or '填写有误'}")
    return "；".join(said) or None


# -- the page ----------------------------------------------------------------------------------

def _result(result: dict | None):
    if result is None:
        return None
    who = result["name"] or result["member_no"] or ""
    return el("div", el("span", who, class_="who") if who else None,
              el("span", result["text"]), class_=f"result {result['kind']}", role="status")


def _people(rows: list[dict], caption: str, empty: str):
    head = el("tr", *[el("th", text, scope="col") for text in ("姓名", "状态", "时间",
                                                               "所在党组织")])
    body = [el("tr",
               el("td", p["name"], el("div", p["member_no"], class_="note"), class_="nowrap"),
               el("td", label(ATTENDANCE_STATUSES, p["attendance"])
                  if p["attendance"] else "未签到", class_="nowrap"),
               el("td", clock_time(p["checked_in_at"]), class_="nowrap"),
               el("td", p["org_name"])) for p in rows] \
        or [el("tr", el("td", empty, colspan=4, class_="empty"))]
    return el("div", el("table", el("caption", caption), el("thead", head), el("tbody", *body)),
              class_="table-wrap")


def check_in_page(session: dict, people: list[dict], principal, csrf: str,
                  result: dict | None) -> object:
    """`people`: the session's roster (everyone taking part whom the caller may see)."""
    action = f"/admin/sessions/{session['session_id']}/check-in"
    offline = [p for p in people if p["mode"] == "offline"]
    checked = sorted((p for p in people if p["attendance"] in CHECKED),
                     key=lambda p: p["checked_in_at"] or "", reverse=True)
    waiting = [p for p in offline if p["attendance"] not in CHECKED]
    present = sum(1 for p in people if p["attendance"] == "present")
    leave = sum(1 for p in people if p["attendance"] == "leave")
    admin = principal.role != "checkin"
    scan = el("form",
              el("label", "党员编号（扫码或输入后按回车）", el("br"),
                 el("input", name="member_no", required=True, autofocus=True,
                    autocomplete="off", spellcheck="false", maxlength=64,
                    aria_label="党员编号")),
              el("input", type="hidden", name="csrf", value=csrf) if csrf else None,
              el("button", "签到", type="submit", name="action", value="present"),
              el("button", "请假", type="submit", name="action", value="leave",
                 class_="plain"),
              method="post", action=action, class_="checkin-form")
    correct = el("form",
                 el("label", "党员编号", el("br"),
                    el("input", name="member_no", required=True, autocomplete="off",
                       maxlength=64, style="width:10em")),
                 el("label", "更正为", el("br"),
                    el("select", *[el("option", ATTENDANCE_STATUSES[s], value=s)
                                   for s in CORRECTABLE], name="status")),
                 el("label", "更正原因", el("br"),
                    el("input", name="reason", required=True, maxlength=200)),
                 el("input", type="hidden", name="csrf", value=csrf) if csrf else None,
                 el("button", "更正", type="submit", name="action", value="correct",
                    class_="plain"),
                 method="post", action=action, class_="correct-form") if admin else None
    return shell(
        f"签到 · {session['course_title']}",
        el("style", Markup(STYLE)),
        el("h1", f"签到 · {session['course_title']}"),
        el("p", f"{session['class_title']} · {session_time(session)} · "
                f"{session['venue_name'] or '地点未定'}", class_="sub"),
        _result(result),
        scan,
        el("p", "出席 ", el("b", present), " 人 · 请假 ", el("b", leave), " 人 · 线下应到 ",
           el("b", len(offline)), " 人 · ",
           el("a", "打印签到表（PDF）", href=f"/admin/sessions/{session['session_id']}"
                                           "/sign-in-sheet.pdf"), class_="counts"),
        _people(checked, "已签到 / 请假", "还没有人签到"),
        _people(waiting, "尚未签到（线下）", "线下人员均已签到"),
        el("h2", "考勤更正") if admin else None,
        el("p", "课次结束后第 7 天 24 时前，可把某人的考勤更正为出席、线上、请假或缺勤，"
                "须写明原因。", class_="hint") if admin else None,
        correct,
        principal=principal, nav=admin)


# -- certificate verification ------------------------------------------------------------------

def verify_page(answer: dict) -> object:
    if answer["genuine"]:
        dates = answer["start_date"] if answer["start_date"] == answer["end_date"] \
            else f"{answer['start_date']} 至 {answer['end_date']}"
        body = [el("p", "该结业证书真实有效。", class_="notice"),
                facts([("姓名", answer["name"]), ("班次", answer["class_title"]),
                       ("培训时间", dates), ("获得学时", f"{answer['hours']:g} 学时"),
                       ("主办单位", answer["organiser_name"])]),
                el("p", "姓名已部分隐去，仅供核对。", class_="hint")]
    else:
        body = [el("p", NOT_GENUINE.get(answer.get("reason"), NOT_GENUINE["unknown"]),
                   class_="error")]
    return shell("结业证书核验", el("div", el("h1", "结业证书核验"), *body, class_="login"),
                 nav=False)

