"""签到表: the sheet a clerk prints for one session. The class, the course, its time (Asia/
Shanghai) and place, then one row per person taking part offline: number, 姓名, organisation,
a box to sign in and a Code 128 barcode of the member number that the check-in page's scanner
reads back. A4 portrait; the heading and the table's header repeat on every page, which is
numbered."""

from dataclasses import dataclass

from barcode import Code128

from .paper import FAMILY, RED, Paper

COLUMNS = (("序号", 10.0), ("姓名", 30.0), ("所在党组织", 58.0), ("签名", 40.0),
           ("党员编号条码", 48.0))
ROW_HEIGHT = 15.0
HEAD_HEIGHT = 7.0
MODULE = 0.33            # mm per narrow bar: about 2.6 pixels at 200 dpi, 4 at 300 dpi
MIN_MODULE = 0.25        # a long number is drawn narrower rather than past its column
QUIET = 10               # modules of white either side, as Code 128 asks
BAR_HEIGHT = 8.5


@dataclass(frozen=True)
class SheetFacts:
    class_title: str
    course_title: str
    time: str            # "2026-04-01 09:00–10:30"
    place: str
    expected: int


def bar_pattern(member_no: str) -> str:
    """The modules of the number's Code 128 symbol (start, data, checksum, stop): "1" dark."""
    return Code128(member_no).build()[0]


class SignInSheet(Paper):
    def __init__(self, facts: SheetFacts):
        super().__init__(f"签到表 · {facts.class_title}")
        self.facts = facts
        self.set_margins(12, 12, 12)
        self.set_auto_page_break(True, margin=16)

    def header(self):
        facts = self.facts
        self.set_y(10)
        self.set_font(FAMILY, size=17)
        self.set_text_color(*RED)
        with self.strong():
            self.cell(0, 9, "签　到　表", align="C", new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0)
        for label, value in (("班次", facts.class_title), ("课次", facts.course_title),
                             ("时间", facts.time), ("地点", facts.place)):
            self.set_font(FAMILY, size=10)
            self.multi_cell(0, 5.5, f"{label}：{value}", new_x="LMARGIN", new_y="NEXT")
        self.cell(0, 5.5, f"应到：{facts.expected} 人（线下）", new_x="LMARGIN", new_y="NEXT")
        self.ln(1.5)
        self.set_fill_color(240, 230, 230)
        self.set_font(FAMILY, size=10)
        for label, width in COLUMNS:
            self.cell(width, HEAD_HEIGHT, label, border=1, align="C", fill=True)
        self.ln(HEAD_HEIGHT)

    def footer(self):
        self.set_y(-11)
        self.set_font(FAMILY, size=8)
        self.set_text_color(110)
        self.cell(0, 5, f"{self.facts.class_title}　签到表　第 {self.page_no()} 页 / 共 {{nb}} 页",
                  align="C")
        self.set_text_color(0)

    def person(self, number: int, person: dict) -> None:
        if self.will_page_break(ROW_HEIGHT):
            self.add_page()
        x, y = self.l_margin, self.get_y()
        widths = [w for _, w in COLUMNS]
        for i, width in enumerate(widths):
            self.rect(x + sum(widths[:i]), y, width, ROW_HEIGHT)
        self.fitted(str(number), x, y, widths[0], ROW_HEIGHT, align="C")
        self.fitted(person["name"], x + widths[0] + 1, y, widths[1] - 2, ROW_HEIGHT, 11)
        self.fitted(person["org_name"], x + sum(widths[:2]) + 1, y, widths[2] - 2,
                    ROW_HEIGHT, 9.5)
        self.barcode(person["member_no"], x + sum(widths[:4]), y, widths[4])
        self.set_xy(x, y + ROW_HEIGHT)

    def barcode(self, member_no: str, x: float, y: float, width: float) -> None:
        pattern = bar_pattern(member_no)
        modules = len(pattern) + 2 * QUIET
        module = max(MIN_MODULE, min(MODULE, (width - 2) / modules))
        left = x + (width - modules * module) / 2 + QUIET * module
        self.runs([[c == "1" for c in pattern]], left, y + 1.5, module, BAR_HEIGHT)
        self.fitted(member_no, x + 1, y + 1.5 + BAR_HEIGHT, width - 2, 3.5, 7, align="C")

    def nobody(self) -> None:
        self.set_font(FAMILY, size=10)
        self.set_text_color(110)
        self.cell(sum(w for _, w in COLUMNS), ROW_HEIGHT, "本课次暂无线下参训人员", border=1,
                  align="C", new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0)


def sign_in_sheet(facts: SheetFacts, people: list[dict]) -> bytes:
    """The sheet's PDF; `people` in the order to print (each with name, org_name,
    member_no)."""
    pdf = SignInSheet(facts)
    pdf.add_page()
    for number, person in enumerate(people, start=1):
        pdf.person(number, person)
    if not people:
        pdf.nobody()
    return bytes(pdf.output())
