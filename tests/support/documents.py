"""Documents for tests, and reading them back as people's programs do: a document that takes the
renderer a while to draw (for tests of the renderer process); LibreOffice headless opening a
CSV or XLSX and saving it again (as XLSX, CSV or PDF); poppler reading a PDF back page by page
(text, page size) and drawing pages as PNG to look at."""

import os
import re
import subprocess
import tempfile
from pathlib import Path

from services.contracts.document import Column, Document, Table

SOFFICE = "soffice"
# How a person's CSV import reads a file: comma, double quote, UTF-8 (LibreOffice's token 76).
CSV_IMPORT = "CSV:44,34,76"
# Saving as CSV: comma, double quote, UTF-8, from line 1, ..., cells as they are shown.
CSV_EXPORT = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false"


def a_long_document(rows=3000) -> Document:
    return Document("长表", None, [("说明", "渲染需要一点时间")], [
        Table("名单", [Column("no", "序号", "int"), Column("name", "姓名")],
              [{"no": i, "name": f"党员{i}"} for i in range(rows)])])


def libreoffice(source: Path, convert_to: str, outdir: Path, infilter: str | None = None,
                timeout: float = 180) -> Path:
    """`source` opened by LibreOffice headless and saved `convert_to` ("xlsx", "pdf", or a
    filter string) in `outdir`: the file it wrote. A profile of its own (a fresh
    UserInstallation) lets runs go side by side; `timeout` keeps a stuck soffice from holding
    the test run."""
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="peixun-soffice-") as home:
        argv = [SOFFICE, f"-env:UserInstallation=file://{home}", "--headless", "--norestore",
                *([f"--infilter={infilter}"] if infilter else []),
                "--convert-to", convert_to, "--outdir", str(outdir), str(source)]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "HOME": home})
    extension = convert_to.split(":", 1)[0]
    written = outdir / f"{source.stem}.{extension}"
    assert written.exists(), f"soffice wrote no {written.name}: {done.stdout}{done.stderr}"
    return written


def pdf_pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                          check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def pdf_page_sizes(path: Path) -> list[tuple[float, float]]:
    """Each page's width and height in points."""
    pages = pdf_pages(path)
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", str(pages), str(path)],
                          capture_output=True, text=True, check=True).stdout
    return [(float(w), float(h)) for w, h in
            re.findall(r"^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info, re.M)]


def pdf_page_texts(path: Path, layout: bool = False) -> list[str]:
    """The text of each page, in order."""
    texts = []
    for page in range(1, pdf_pages(path) + 1):
        texts.append(subprocess.run(
            ["pdftotext", *(["-layout"] if layout else []), "-f", str(page), "-l", str(page),
             str(path), "-"], capture_output=True, text=True, check=True).stdout)
    return texts


def pdf_to_png(path: Path, outdir: Path, pages: tuple[int, ...] = (1,),
               dpi: int = 80) -> list[Path]:
    """Pages drawn as PNG (poppler's pdftoppm), to look at."""
    outdir.mkdir(parents=True, exist_ok=True)
    drawn = []
    for page in pages:
        prefix = outdir / f"{path.stem}-{page}"
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page),
                        "-singlefile", str(path), str(prefix)], check=True, timeout=60)
        drawn.append(prefix.with_suffix(".png"))
    return drawn
