"""The catalogue as the article names it (DESIGN §1): courses, instructors by kind, the district
party school's classrooms and the on-site teaching sites, in Chinese; and the idempotent seed.

Instructors are recorded by role, not by personal name: the catalogue says who teaches, the
names belong to the people's own records.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.kit.errors import DomainError, InvalidInput

from .domain import CATALOGUE_REFERENCE, new_id
from .models import Course, Instructor, Site, Venue

CATALOGUE_UNIQUE = "catalogue_unique"

# name, affiliation, kind
INSTRUCTORS = [
    ("市委党校党建教研部教授", "中共上海市委党校", "party_school_professor"),
    ("市委党校科学社会主义教研部教授", "中共上海市委党校", "party_school_professor"),
    ("市委党校哲学教研部教授", "中共上海市委党校", "party_school_professor"),
    ("市委党校法学教研部教授", "中共上海市委党校", "party_school_professor"),
    ("市委党校经济学教研部教授", "中共上海市委党校", "party_school_professor"),
    ("区外优秀街镇党组织书记", "区外街镇党(工)委", "outstanding_secretary"),
    ("区外优秀村党组织书记", "区外乡镇", "outstanding_secretary"),
    ("区外优秀居民区党组织书记", "区外街道", "outstanding_secretary"),
    ("本区市党代表（领誓人）", "奉贤区", "outstanding_secretary"),
    ("市委组织部专家", "中共上海市委组织部", "department_head"),
    ("区委组织部组织科负责同志", "中共奉贤区委组织部", "department_head"),
    ("区党建服务中心负责同志", "奉贤区党建服务中心", "department_head"),
    ("区发展改革委负责同志", "奉贤区发展和改革委员会", "department_head"),
    ("区司法局负责同志", "奉贤区司法局", "department_head"),
    ("区农业农村委负责同志", "奉贤区农业农村委员会", "department_head"),
    ("区生态环境局负责同志", "奉贤区生态环境局", "department_head"),
    ("区民政局负责同志", "奉贤区民政局", "department_head"),
    ("上海电气集团党委副书记", "上海电气集团", "industry_party_worker"),
    ("静安区教育学院附中党组织书记", "静安区教育学院附属学校", "industry_party_worker"),
    ("优秀“两新”组织党组织书记", "“两新”组织", "industry_party_worker"),
    ("优秀党务工作者", "奉贤区", "industry_party_worker"),
]

# title, themes, core theory, default kind, default hours, default instructor, sectors
# (sectors: the secretaries the course is written for; empty for every audience)
COURSES = [
    # 原原本本学习新思想: the core theory every class needs two thirds of.
    ("学习贯彻习近平新时代党建思想", ["新思想", "党的建设"], True, "lecture", 3.0,
     "市委党校党建教研部教授", []),
    ("原原本本读原著、学原文、悟原理：习近平新时代中国特色社会主义思想", ["新思想", "原著研读"],
     True, "lecture", 3.0, "市委党校科学社会主义教研部教授", []),
    ("习近平新时代中国特色社会主义思想的世界观和方法论", ["新思想", "原著研读"], True,
     "lecture", 3.0, "市委党校哲学教研部教授", []),
    ("深入学习贯彻党的十九大精神", ["新思想", "党的建设"], True, "lecture", 3.0,
     "市委党校党建教研部教授", []),
    ("增强“四个意识”，提高政治判断力、政治领悟力、政治执行力", ["新思想", "政治建设"], True,
     "lecture", 3.0, "市委党校科学社会主义教研部教授", []),
    ("“不忘初心、牢记使命”：新思想原著选读", ["新思想", "主题教育"], True, "lecture", 3.0,
     "市委党校党建教研部教授", []),
    ("新思想专题研讨：学思用贯通、知信行统一", ["新思想", "专题研讨"], True, "seminar", 2.0,
     "市委党校哲学教研部教授", []),
    # The district, the law, the party's regulations and routine work.
    ("奉贤区经济社会形势报告", ["经济社会形势"], False, "lecture", 3.0,
     "区发展改革委负责同志", []),
    ("弘扬宪法精神，提升法治意识", ["法治"], False, "lecture", 3.0, "市委党校法学教研部教授", []),
    ("《中国共产党支部工作条例》解读", ["党内法规", "党务"], False, "lecture", 3.0,
     "市委组织部专家", []),
    ("发展党员工作实务", ["党务"], False, "lecture", 2.0, "区委组织部组织科负责同志", []),
    ("党费收缴、使用和管理", ["党务"], False, "lecture", 2.0, "区党建服务中心负责同志", []),
    # 拓展提升, by sector.
    ("党建引领乡村振兴实践", ["乡村振兴"], False, "lecture", 3.0, "区外优秀村党组织书记",
     ["village"]),
    ("农村“三资”管理", ["乡村振兴", "农村集体资产"], False, "lecture", 3.0,
     "区农业农村委负责同志", ["village"]),
    ("奉贤“三块地”改革", ["乡村振兴", "土地改革"], False, "lecture", 3.0,
     "区农业农村委负责同志", ["village"]),
    ("农村生态环境治理", ["乡村振兴", "生态环境"], False, "lecture", 3.0,
     "区生态环境局负责同志", ["village"]),
    ("党建引领社会治理创新", ["社会治理"], False, "lecture", 3.0, "区外优秀街镇党组织书记",
     ["residential"]),
    ("如何做好“宜居小区·和美楼组”创建工作", ["社会治理", "居民区"], False, "lecture", 3.0,
     "区民政局负责同志", ["residential"]),
    ("如何做好一名居民区党组织书记", ["居民区", "书记履职"], False, "lecture", 3.0,
     "区外优秀居民区党组织书记", ["residential"]),
    ("新形势下学校党建的思路和做法", ["行业党建", "教育"], False, "lecture", 3.0,
     "静安区教育学院附中党组织书记", ["institution"]),
    ("国企党建专题培训", ["行业党建", "国有企业"], False, "lecture", 3.0,
     "上海电气集团党委副书记", ["soe"]),
    ("“两新”组织党建经验交流", ["行业党建", "两新组织"], False, "seminar", 2.0,
     "优秀“两新”组织党组织书记", ["two_new"]),
    # 现场教学 and the oath.
    ("现场教学：乡村振兴实践点位", ["现场教学", "乡村振兴"], False, "onsite", 3.0, None, []),
    ("现场教学：社会治理创新点位", ["现场教学", "社会治理"], False, "onsite", 3.0, None, []),
    ("现场教学：奉贤新城重大工程", ["现场教学", "新城建设"], False, "onsite", 3.0, None, []),
    ("现场教学：优秀“两新”组织党建示范点位", ["现场教学", "两新组织"], False, "onsite", 3.0,
     None, []),
    ("现场教学：“红色村居·和美家园”创建点位", ["现场教学", "红色村居"], False, "onsite", 3.0,
     None, []),
    ("现场教学：区档案馆", ["现场教学", "档案"], False, "onsite", 2.0, None, []),
    ("重温入党誓词", ["思想引领", "入党誓词"], False, "oath", 1.0, "本区市党代表（领誓人）", []),
]

# name, seats: the district party school's classrooms
VENUES = [
    ("区委党校报告厅", 300),
    ("区委党校第一教室", 150),
    ("区委党校第二教室", 120),
    ("区委党校第三教室", 120),
    ("区委党校第四教室", 80),
    ("区委党校第五教室", 60),
    ("区委党校研讨室", 40),
]
VENUE_ADDRESS = "奉贤区委党校"

# name, kind, audiences (member categories it suits), group capacity
SITES = [
    ("乡村振兴示范村现场教学点（一）", "rural_revitalisation", ["institution"], 120),
    ("乡村振兴示范村现场教学点（二）", "rural_revitalisation", ["institution"], 80),
    ("社会治理创新点位（居民区）", "social_governance", ["institution"], 100),
    ("社会治理创新点位（街镇）", "social_governance", ["institution"], 80),
    ("奉贤新城重大工程现场教学点", "new_city_project", ["enterprise"], 120),
    ("奉贤新城建设展示馆", "new_city_project", ["enterprise"], 100),
    ("优秀“两新”组织党建示范点（一）", "two_new_demo", ["enterprise"], 80),
    ("优秀“两新”组织党建示范点（二）", "two_new_demo", ["enterprise"], 60),
    ("“红色村居·和美家园”创建点位（一）", "red_village", ["new_member"], 100),
    ("“红色村居·和美家园”创建点位（二）", "red_village", ["new_member"], 80),
    ("奉贤区档案馆", "archives", ["new_member"], 80),
    ("奉贤区党建服务中心", "party_service_centre", ["new_member"], 150),
]


def seed(db: Session) -> dict:
    """Adds whatever of the article's catalogue is missing, by name; running it again adds
    nothing. Answers, per kind, how many were created and how many there are."""
    created = {}
    instructors = {i.name: i for i in db.scalars(select(Instructor))}
    created["instructors"] = 0
    for name, affiliation, kind in INSTRUCTORS:
        if name not in instructors:
            instructors[name] = Instructor(id=new_id(), name=name, affiliation=affiliation,
                                           kind=kind)
            db.add(instructors[name])
            created["instructors"] += 1

    titles = set(db.scalars(select(Course.title)))
    created["courses"] = 0
    for title, themes, core, kind, hours, instructor, sectors in COURSES:
        if title not in titles:
            db.add(Course(id=new_id(), title=title, themes=themes, core_theory=core,
                          default_kind=kind, default_hours=hours, sectors=sectors,
                          default_instructor_id=instructors[instructor].id if instructor
                          else None))
            created["courses"] += 1

    venues = set(db.scalars(select(Venue.name)))
    created["venues"] = 0
    for name, seats in VENUES:
        if name not in venues:
            db.add(Venue(id=new_id(), name=name, seats=seats, address=VENUE_ADDRESS))
            created["venues"] += 1

    sites = set(db.scalars(select(Site.name)))
    created["sites"] = 0
    for name, kind, audiences, capacity in SITES:
        if name not in sites:
            db.add(Site(id=new_id(), name=name, kind=kind, audiences=audiences,
                        group_capacity=capacity))
            created["sites"] += 1
    db.flush()

    totals = {"instructors": len(instructors), "courses": len(titles) + created["courses"],
              "venues": len(venues) + created["venues"], "sites": len(sites) + created["sites"]}
    return {kind: {"created": created[kind], "total": totals[kind]} for kind in created}


NATURAL_KEYS = {Instructor: ("name", "instructor"), Course: ("title", "course"),
                Venue: ("name", "venue"), Site: ("name", "site")}


def add(db: Session, model, data: dict):
    """One new catalogue item; names (course titles) are unique."""
    _check(db, model, data)
    item = model(id=new_id(), **data)
    db.add(item)
    db.flush()
    return item


def change(db: Session, item, changes: dict):
    """An edit of a catalogue item. Sessions scheduled from it keep the copy they were given
    (their own title, core theory, hours, place and instructor names): the edit reaches the
    sessions scheduled after it."""
    _check(db, type(item), changes, item.id)
    for name, value in changes.items():
        setattr(item, name, value)
    db.flush()
    db.refresh(item)   # a new default instructor id: the view names the new instructor
    return item


def _check(db: Session, model, data: dict, item_id: str | None = None) -> None:
    key, noun = NATURAL_KEYS[model]
    if key in data:
        existing = db.scalars(select(model).where(getattr(model, key) == data[key],
                                                  model.id != (item_id or ""))).first()
        if existing is not None:
            raise DomainError(f"{CATALOGUE_UNIQUE}: the catalogue already has a {noun} {key} "
                              f"{data[key]} ({existing.id})", rule=CATALOGUE_UNIQUE,
                              id=existing.id, errors={key: ["already in the catalogue"]})
    instructor_id = data.get("default_instructor_id")
    if instructor_id and db.get(Instructor, instructor_id) is None:
        raise InvalidInput(f"no instructor {instructor_id} in the catalogue",
                           errors={"default_instructor_id": ["no such instructor"]},
                           rule=CATALOGUE_REFERENCE)
