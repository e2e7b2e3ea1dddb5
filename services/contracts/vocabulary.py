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

# -- refusals: each rule a service names (`rule` in problem details), as people read it

RULES = {
    # scheduling: classes, sessions and the catalogue
    "two_thirds_core_theory": "核心理论课（原原本本学习）课次不少于三分之二",
    "class_has_sessions": "班次至少安排一个课次",
    "class_double_booked": "同一班次的课次时间不能重叠",
    "venue_double_booked": "教室在该时段已被其他课次占用",
    "site_double_booked": "现场教学点在该时段已被其他课次占用",
    "instructor_double_booked": "授课人在该时段已有其他课次",
    "venue_capacity": "教室座位数不能少于班次线下名额",
    "site_capacity": "现场教学点接待人数不能少于班次线下名额",
    "site_audience": "现场教学点须适合本班次的党员类别",
    "within_class_dates": "课次须在班次起止日期之内",
    "live_delivery": "直播班次的每个课次都须直播",
    "class_audience": "书记班须选择模块（领域可选），党员班须选择党员类别",
    "no_silent_edits": "已发布班次的课次只能调课或取消，不能直接修改或删除",
    "class_lifecycle": "班次当前的状态不允许此操作",
    "session_lifecycle": "课次当前的状态不允许此操作",
    "class_completion": "所有课次完成或取消后，班次才能结业",
    "one_program_per_year_track_organiser": "同一单位每年每类培训只设一个培训项目",
    "catalogue_reference": "课程、教室、现场教学点和授课人须选自课程库",
    "catalogue_unique": "课程库中已有同名条目",
    "fixed_after_publishing": "班次发布后，培训对象和培训方式不能再改",
    "capacity_below_seated": "线下名额不能少于已就座的报名人数",
    "session_not_ended": "课次结束后才能标记为已完成",
    "seats_unknown": "暂时无法核对已报名人数，名额未作调整",
    # enrollment: nominations and their review
    "duplicate": "同一人在本次报名中重复出现",
    "mode": "班次不提供这种参训方式",
    "class_status": "只有已发布的班次可以报名和审核",
    "member": "查无此党员，或其已不在党组织中",
    "eligibility": "不符合班次的培训对象",
    "online_open": "班次未开放线上自主参学，线上参训也须报名",
    "scope": "不在本单位及下级党组织范围内",
    "one_enrolment": "已报名本班次",
    "quota": "本单位在该班次的名额已用完",
    "quota_committee": "名额只能分配给主办单位及其下级的党委（党工委）",
    "withdraw": "只有待审核、已报名或候补的报名可以退出",
    "review": "只有待审核的报名可以审核",
    "not_yet_known": "班次刚刚发布，报名服务尚未收到，请稍后再试",
    # enrollment: attendance and certificates
    "enrolled": "不在本班名单",
    "session_cancelled": "本课次已取消",
    "correction_window": "已过考勤更正期限（课次结束后第7天24时）",
    "not_completed": "只有已结业的报名才有结业证书",
    "no_completions": "本班次（您的管理范围内）暂无已结业人员",
    # reporting: filings (备案) and what they carry
    "filing_organiser": "只有主办单位可以报送本班次的备案",
    "filing_reviewer": "只有上级党组织可以审核这份备案",
    "cancelled": "班次已取消，无需备案",
    "record_after_completion": "班次结业后才能报送培训情况",
    "pending_review": "上一版尚待审核，审核（备案或退回）后才能重新报送",
    "reviewed_once": "这一版已审核过",
    "concurrent_filing": "同一版本刚被他人报送，请刷新后查看",
    "integrity": "存档文件与报送时的校验值（sha256）不一致，已拒绝读取",
    "attachment_type": "附件只能是 PDF、JPEG 或 PNG 文件",
    "attachment_size": "每个附件不超过 10 MB",
    "attachment_count": "每次报送最多 5 个附件",
    "confirm": "请先勾选确认再提交",
    # the gateway: who may do what
    "subtree": "只能办理本单位及下级单位的事项",
    "role": "当前角色无权办理此事项",
    "csrf": "表单已过期，请刷新页面后重新提交",
    "class": "签到员只能为指定给他的班次签到",
}

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
