"""A seeded, reproducible district modelled on 奉贤区: about 40 party (work) committees, 4,000
grassroots organisations across the five sectors, each with its secretary, and 60,000 members.

It produces rows in the import formats of DESIGN §4, so that the demo loads them through the
same `peixun import orgs|members` path an organisation department would use.
"""

import random
from dataclasses import dataclass
from datetime import date, timedelta

DISTRICT_CODE = "FX"
DISTRICT_NAME = "中共上海市奉贤区委员会"

TOWNS = ["南桥镇", "奉城镇", "庄行镇", "金汇镇", "四团镇", "青村镇", "柘林镇", "海湾镇"]
STREETS = ["西渡街道", "奉浦街道", "金海街道"]
ZONES = ["海湾旅游区", "奉贤经济开发区", "东方美谷集团", "临港奉贤园区"]
SYSTEM_COMMITTEES = [
    "区级机关工作党委", "区国资委党委", "区教育工作党委", "区卫生健康工作党委",
    "区“两新”组织综合党委", "区商务委党委", "区建设管理委党委", "区农业农村委党委",
    "区市场监管局党委", "区公安分局党委", "区交通委党委", "区文化旅游局党委",
    "区民政局党委", "区人社局党委", "区科委党委", "区生态环境局党委", "区司法局党委",
    "区规划资源局党委", "区水务局党委", "区应急管理局党委", "区城管执法局党委",
    "区退役军人事务局党委", "区税务局党委", "区金融工作党委", "区社会组织党委",
]

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余"
            "杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙"
            "史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文辉力鹏宇浩凯俊"
         "峰飞云鑫波斌宁琳颖婷雪梅琴晨佳欣怡思雨嘉豪博航志海东晓春燕丹蕾倩萱晗")
VILLAGE_WORDS = "光明 新强 和平 金星 永福 南星 长堤 吴房 李窑 渔沥 沈陆 杨王 新叶 潘垫 庄行 浦秀 " \
                "存古 乐善 明星 新农 拾村 迎龙 华严 护民 朱新 四团 平海 五四 邵靓 桥港".split()
ROAD_WORDS = "江海 阳光 古华 汇丰 贝港 南中 望园 金水 九华 环城 解放 正阳 育秀 航南 肖塘 " \
             "西渡 奉浦 金海 恒盛 绿地 碧桂 海湾 海兴 青溪 柘林 新寺 胡桥".split()
FIRM_WORDS = "东方美谷 上海奉贤 申能 海港 百联 锦江 光明 奉发 奉投 城建 水务 燃气 交投 " \
             "华谊 上药 联合 新城 南桥 金汇 滨海 临港 东海 青村".split()


@dataclass(frozen=True)
class Org:
    org_code: str
    name: str
    parent_code: str | None
    kind: str                   # committee | grassroots (the district root has no row kind)
    sector: str | None

    def row(self) -> dict:
        return {"org_code": self.org_code, "name": self.name, "parent_code": self.parent_code,
                "kind": self.kind, "sector": self.sector}


@dataclass(frozen=True)
class Member:
    member_no: str
    name: str
    org_code: str
    joined_on: date
    employment: str
    secretary_of: str | None

    def row(self) -> dict:
        return {"member_no": self.member_no, "name": self.name, "org_code": self.org_code,
                "joined_on": self.joined_on.isoformat(), "employment": self.employment,
                "secretary_of": self.secretary_of}


@dataclass
class District:
    orgs: list[Org]
    members: list[Member]

    @property
    def committees(self) -> list[Org]:
        return [o for o in self.orgs if o.kind == "committee"]

    @property
    def grassroots(self) -> list[Org]:
        return [o for o in self.orgs if o.kind == "grassroots"]

    def secretaries(self) -> list[Member]:
        return [m for m in self.members if m.secretary_of]


def _name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def _committees() -> list[tuple[str, str]]:
    names = [f"{t}党委" for t in TOWNS] + [f"{s}党工委" for s in STREETS] + \
        [f"{z}党委" for z in ZONES] + SYSTEM_COMMITTEES
    return [(f"{DISTRICT_CODE}{i:02d}", name) for i, name in enumerate(names, 1)]


def _sectors_for(committee_name: str) -> list[tuple[str, int]]:
    """Which sectors a committee's grassroots organisations are in, with weights."""
    if committee_name.endswith("镇党委"):
        return [("village", 5), ("residential", 3), ("two_new", 6), ("institution", 1),
                ("soe", 1)]
    if committee_name.endswith("街道党工委"):
        return [("residential", 6), ("two_new", 5), ("institution", 1)]
    if "国资" in committee_name or "集团" in committee_name:
        return [("soe", 1)]
    if "两新" in committee_name or "开发区" in committee_name or "园区" in committee_name \
            or "社会组织" in committee_name:
        return [("two_new", 1)]
    return [("institution", 1)]


def _size_of(committee_name: str) -> float:
    """Towns and the "two new" committees hold most grassroots organisations; a bureau few."""
    if committee_name.endswith("镇党委"):
        return 6.0
    if committee_name.endswith("街道党工委"):
        return 4.0
    if _sectors_for(committee_name) == [("two_new", 1)]:
        return 7.0
    if _sectors_for(committee_name) == [("soe", 1)]:
        return 5.0
    return 1.0


def _org_name(rng: random.Random, sector: str, committee_name: str, serial: int) -> str:
    place = committee_name.replace("党委", "").replace("党工委", "")
    if sector == "village":
        return f"{place}{rng.choice(VILLAGE_WORDS)}村党总支部委员会"
    if sector == "residential":
        return f"{place}{rng.choice(ROAD_WORDS)}第{serial}居民区党总支部委员会"
    if sector == "soe":
        return f"{rng.choice(FIRM_WORDS)}{rng.choice(['集团', '公司', '有限公司'])}第{serial}党支部"
    if sector == "two_new":
        kind = rng.choice(["科技有限公司", "实业有限公司", "商贸有限公司", "社会工作服务社",
                           "生物科技有限公司", "化妆品有限公司", "物流有限公司"])
        return f"上海{rng.choice(ROAD_WORDS)}{rng.choice(FIRM_WORDS)}{kind}党支部"
    return f"{place}机关第{serial}党支部"


def _employment(rng: random.Random, sector: str) -> str:
    weights = {"village": (0.05, 0.15, 0.80), "residential": (0.10, 0.25, 0.65),
               "institution": (0.92, 0.03, 0.05), "soe": (0.05, 0.90, 0.05),
               "two_new": (0.02, 0.93, 0.05)}[sector]
    return rng.choices(("institution", "enterprise", "other"), weights)[0]


def _joined_on(rng: random.Random, today: date) -> date:
    # About one member in six joined within the last three years (三年内新入党党员).
    if rng.random() < 0.16:
        return today - timedelta(days=rng.randint(30, 3 * 365 - 30))
    return date(rng.randint(1965, today.year - 3), rng.randint(1, 12), rng.randint(1, 28))


def generate(seed: int = 2026, grassroots: int = 4000, members: int = 60000,
             today: date = date(2026, 1, 1)) -> District:
    """The same seed gives the same district, to the last member."""
    rng = random.Random(seed)
    orgs = [Org(code, name, DISTRICT_CODE, "committee", None) for code, name in _committees()]
    weights = [rng.uniform(0.7, 1.3) * _size_of(o.name) for o in orgs]
    per_committee = [max(3, round(grassroots * w / sum(weights))) for w in weights]
    per_committee[-1] += grassroots - sum(per_committee)
    for committee, count in zip(list(orgs), per_committee, strict=True):
        sectors, sector_weights = zip(*_sectors_for(committee.name), strict=True)
        for serial in range(1, count + 1):
            sector = rng.choices(sectors, sector_weights)[0]
            orgs.append(Org(f"{committee.org_code}{serial:04d}",
                            _org_name(rng, sector, committee.name, serial),
                            committee.org_code, "grassroots", sector))
    ground = [o for o in orgs if o.kind == "grassroots"]
    sizes = [rng.randint(3, 30) for _ in ground]
    scale = members / sum(sizes)
    sizes = [max(3, round(s * scale)) for s in sizes]
    sizes[-1] = max(3, sizes[-1] + members - sum(sizes))
    people = []
    number = 0
    for org, size in zip(ground, sizes, strict=True):
        for index in range(size):
            number += 1
            people.append(Member(
                member_no=f"31012{number:08d}", name=_name(rng), org_code=org.org_code,
                joined_on=_joined_on(rng, today) if index else
                date(rng.randint(1975, today.year - 5), rng.randint(1, 12), rng.randint(1, 28)),
                employment=_employment(rng, org.sector),
                secretary_of=org.org_code if index == 0 else None))
    return District(orgs, people)


def small(seed: int = 7) -> District:
    """A tiny district for tests and `demo --small`: seconds, not minutes."""
    return generate(seed=seed, grassroots=60, members=600)
