"""结业证书: one A4 landscape page per completed enrolment — the person, the class and its
dates, the hours credited, the organiser — with the verification code and its QR code, which
leads to the gateway's public /verify page for anyone who holds the paper."""

from datetime import date

import segno

from .paper import FAMILY, RED, Paper

QR_SIZE = 30.0     # mm, quiet zone included


def chinese_date(iso: str) -> str:
    day = date.fromisoformat(iso[:10])
    return f"{day.year}年{day.month}月{day.day}日"


def grouped(code: str) -> str:
    """ABCD-EFGH-…: easier to read off paper and to type (verification ignores the hyphens)."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


class Certificates(Paper):
    def __init__(self, title: str):
        super().__init__(title, orientation="L")
        self.set_margins(0, 0, 0)
        self.set_auto_page_break(False)

    def border(self) -> None:
        self.set_draw_color(*RED)
        self.set_line_width(1.2)
        self.rect(10, 10, self.w - 20, self.h - 20)
        self.set_line_width(0.4)
        self.rect(13, 13, self.w - 26, self.h - 26)
        self.set_draw_color(0)
        self.set_line_width(0.2)

    def certificate(self, made: dict, verify_url: str) -> None:
        self.add_page()
        self.border()
        self.set_text_color(*RED)
        self.set_font(FAMILY, size=34)
        self.set_xy(0, 30)
        with self.strong():
            self.cell(self.w, 16, "结　业　证　书", align="C")
        self.set_text_color(0)
        left, width = 42.0, self.w - 84.0
        self.set_xy(left, 62)
        self.set_font(FAMILY, size=18)
        self.cell(self.get_string_width(f"{made['name']} 同志：") + 3, 10,
                  f"{made['name']} 同志：")
        if made.get("org_name"):
            self.set_font(FAMILY, size=11)
            self.set_text_color(90)
            self.cell(0, 10, f"（{made['org_name']}）")
            self.set_text_color(0)
        hours = f"{made['hours']:g}"
        dates = chinese_date(made["start_date"]) if made["start_date"] == made["end_date"] \
            else f"{chinese_date(made['start_date'])}至{chinese_date(made['end_date'])}"
        self.set_font(FAMILY, size=16)
        indent = self.get_string_width("两字")   # each paragraph starts two characters in
        self.set_left_margin(left)
        self.set_right_margin(self.w - left - width)
        for y, paragraph in ((78, f"于{dates}参加{made['organiser_name']}举办的"
                                  f"“{made['class_title']}”，完成规定课程学习，累计取得"
                                  f"{hours}学时，经考核合格，准予结业。"),
                             (None, "特发此证。")):
            self.set_xy(left + indent, y if y is not None else self.get_y() + 10)
            self.write(10, paragraph)
        self.set_margins(0, 0, 0)
        self.set_font(FAMILY, size=14)
        self.set_xy(self.w / 2, 148)
        self.cell(self.w / 2 - 42, 8, made["organiser_name"], align="R")
        self.set_xy(self.w / 2, 157)
        self.cell(self.w / 2 - 42, 8, chinese_date(made["end_date"]), align="R")
        self.verification(made["code"], verify_url, 36, self.h - 26 - QR_SIZE)

    def verification(self, code: str, verify_url: str, x: float, y: float) -> None:
        qr = segno.make(verify_url, error="m")
        rows = [list(row) for row in qr.matrix_iter(scale=1, border=2)]
        module = QR_SIZE / len(rows)
        self.runs(rows, x, y, module, module)
        self.set_font(FAMILY, size=10)
        self.set_xy(x + QR_SIZE + 4, y + 8)
        self.cell(0, 6, f"验证码：{grouped(code)}")
        self.set_font(FAMILY, size=8.5)
        self.set_text_color(90)
        self.set_xy(x + QR_SIZE + 4, y + 15)
        self.cell(0, 5, f"扫描二维码或访问 {verify_url} 核验真伪")
        self.set_text_color(0)


def certificates_pdf(made: list[dict], verify_url) -> bytes:
    """One page per certificate; `verify_url(code)` is where its QR code leads."""
    title = "结业证书" if len(made) != 1 else f"结业证书 · {made[0]['name']}"
    pdf = Certificates(title)
    for one in made:
        pdf.certificate(one, verify_url(one["code"]))
    return bytes(pdf.output())
