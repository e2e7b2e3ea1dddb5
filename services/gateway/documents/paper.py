"""What every document the gateway draws stands on: A4 in fpdf2 with the project's CJK font
embedded (a subset), text fitted into a box, bars and modules drawn as filled rectangles (a
barcode or a QR code is vector, sharp at any printer's resolution)."""

from collections.abc import Iterable
from contextlib import contextmanager

from fpdf import FPDF

from services.kit import config

FAMILY = "cjk"
RED = (176, 0, 0)
MIN_SIZE = 7.0


class Paper(FPDF):
    def __init__(self, title: str, orientation: str = "P"):
        super().__init__(orientation=orientation, unit="mm", format="A4")
        self.add_font(FAMILY, fname=str(config.cjk_font()))
        self.set_font(FAMILY, size=10)
        self.set_title(title)
        self.set_creator("peixun")

    @contextmanager
    def strong(self):
        """Bold without a bold face (the font has none): the glyphs filled and outlined."""
        with self.local_context(text_mode="FILL_STROKE", line_width=0.2):
            yield

    def fitted(self, text: str, x: float, y: float, w: float, h: float, size: float = 10.0,
               align: str = "L") -> None:
        """`text` inside the box: smaller type down to MIN_SIZE, then wrapped, then cut with
        an ellipsis, so that a long organisation name never runs into the next column."""
        text = text or ""
        while True:
            self.set_font(FAMILY, size=size)
            line = size * 0.45
            lines = self.multi_cell(w, line, text, dry_run=True, output="LINES")
            if len(lines) * line <= h or size <= MIN_SIZE:
                break
            size -= 0.5
        fit = max(1, int(h // line))
        if len(lines) > fit:
            lines = lines[:fit]
            while lines[-1] and self.get_string_width(lines[-1] + "…") > w:
                lines[-1] = lines[-1][:-1]
            lines[-1] += "…"
        top = y + (h - len(lines) * line) / 2
        for i, text_line in enumerate(lines):
            self.set_xy(x, top + i * line)
            self.cell(w, line, text_line, align=align)

    def runs(self, rows: Iterable[Iterable], x: float, y: float, module_w: float,
             module_h: float) -> None:
        """Dark modules, row by row (truthy = dark), as one rectangle per horizontal run."""
        self.set_fill_color(0)
        for r, row in enumerate(rows):
            start = None
            row = list(row) + [0]
            for c, dark in enumerate(row):
                if dark and start is None:
                    start = c
                elif not dark and start is not None:
                    self.rect(x + start * module_w, y + r * module_h,
                              (c - start) * module_w, module_h, style="F")
                    start = None
