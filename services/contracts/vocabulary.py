"""The domain's words, once: each code and the Chinese label people read for it.

Every service, the gateway's pages, the reports, the importers and the demo take their labels
from here, so a category is called the same thing on a page, in a report and in a file. The
codes themselves (what the events carry) are the keys; `fields` validates against them."""

# -- programs and classes

TRACKS = {"secretaries": "千名书记进党校", "members": "万名党员进课堂"}
SECTORS = {"village": "村", "residential": "居民区", "institution": "机关事业单位",
           "soe": "国有(集体)企业", "two_new": "“两新”组织"}
NO_SECTOR = "未分领域"
MODULES = {"basic_theory": "基础理论", "advanced": "拓展提升"}
# The article's words for the three member groups the members' track recommends (推荐).
CATEGORIES = {"institution": "机关事业单位在职党员", "enterprise": "企业党员",
              "new_member": "三年内新入党党员"}
EMPLOYMENTS = {"institution": "机关事业单位", "enterprise": "企业", "other": "其他"}
ORG_KINDS = {"district": "区委", "committee": "党(工)委", "grassroots": "基层党组织"}
DELIVERIES = {"offline": "线下", "live": "直播", "hybrid": "线下+直播"}
SESSION_KINDS = {"lecture": "讲座", "onsite": "现场教学", "seminar": "专题研讨",
                 "oath": "重温入党誓词"}
CLASS_STATUSES = {"draft": "草稿", "published": "已发布", "in_progress": "进行中",
                  "completed": "已结业", "cancelled": "已取消"}
SESSION_STATUSES = {"scheduled": "已排课", "completed": "已完成", "cancelled": "已取消"}

# -- people and their enrolments

PERSON_ROLES = {"secretary": "书记", "member": "党员"}
ENROLLMENT_MODES = {"offline": "线下", "online": "线上"}
ENROLLMENT_STATUSES = {"nominated": "待审核", "confirmed": "已报名", "waitlisted": "候补",
                       "rejected": "未通过", "withdrawn": "已退出", "released": "已释放",
                       "completed": "已结业", "incomplete": "未结业"}
# How a person came into a class: nominated by their committee, or by watching the open
# live broadcast (直播课堂) without a nomination.
ENROLLMENT_ORIGINS = {"nomination": "组织调训", "live": "直播自主参学"}
# Where study hours from outside this system's classes come from (其他学时).
STUDY_HOUR_SOURCES = {"unit": "单位自行组织", "online": "网络自学", "party_school": "党校培训",
                      "other": "其他"}
# The parts of a person's yearly study hours that every quota figure shows (DESIGN §1).
STUDY_HOUR_PARTS = {"class": "集中培训学时", "other": "其他学时", "total": "合计学时"}
# Who ran a class: the district's own programs, or a unit's (各单位参照区级层面做法).
RUN_BY = {"district": "区级调训", "unit": "单位自主培训"}
ATTENDANCE_STATUSES = {"present": "出席", "online": "线上", "leave": "请假", "absent": "缺勤"}
COMPLETION = {"completed": "已结业", "incomplete": "未达结业要求"}
# What enrollment flags for a person to look at (never dropped, never credited by itself).
ANOMALY_KINDS = {"checkin_outside_time": "签到时间不在课次时段内",
                 "overlapping_sessions": "同一时段在其他课次签到",
                 "online_not_enrolled": "未报名人员观看直播",
                 "online_report_after_deadline": "超过更正期限的观看记录",
                 "online_session_not_live": "非直播课次的观看记录",
                 "online_report_after_completion": "课次已完成后收到的观看记录"}

# -- filings

FILING_KINDS = {"plan": "培训方案", "record": "培训情况"}
FILING_STATES = {"due": "待报送", "filed": "已报送待审核", "acknowledged": "已备案",
                 "returned": "已退回", "overdue": "逾期未报", "not_due": "未到报送时间",
                 # the class changed (class_changed) after this version was filed
                 "changed": "有变更待重新报送"}

# -- who may do what (the gateway's roles)

ACCESS_ROLES = {"district_admin": "区级管理员", "committee_admin": "党(工)委管理员",
                "org_admin": "基层党组织管理员", "checkin": "签到员", "system": "外部系统"}
ADMIN_ROLES = ("district_admin", "committee_admin", "org_admin")
# Roles limited to the subtree of their organisation: they need one.
ROLES_WITH_ORG = ("committee_admin", "org_admin")

# -- reports

REPORTS = ("class-record", "class-plan", "annual-summary", "coverage-gaps", "personal-archive",
           "filing-status")
FORMATS = ("json", "csv", "xlsx", "pdf", "png")


def label(table: dict, code) -> str:
    """The Chinese label of `code`, the code itself when the table lacks it, "—" for none."""
    if code is None:
        return "—"
    return table.get(code, code)


def yes_no(flag) -> str:
    return "是" if flag else "否"
