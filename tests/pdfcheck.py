"""Reading PDFs as a person would: the text on each page (pdftotext) and the fonts embedded (pdffonts)."""
from __future__ import annotations

import subprocess


def pdf_text(data: bytes, page: int | None = None, raw: bool = False) -> str:
    """The text of the PDF, or of one page (1-based): laid out as on the page, or ``raw`` in the
    order it was written (a table cell's wrapped lines stay together, apart from the row's label)."""
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(["pdftotext", "-raw" if raw else "-layout", *pages, "-", "-"], input=data,
                          capture_output=True, check=True).stdout.decode()


def pdf_pages(data: bytes) -> int:
    out = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return int(next(line.split()[-1] for line in out.splitlines() if line.startswith("Pages:")))


def pdf_fonts(data: bytes) -> list[dict]:
    """Each font of the PDF: name, whether embedded, whether subset."""
    out = subprocess.run(["pdffonts", "-"], input=data, capture_output=True, check=True).stdout.decode()
    fonts = []
    for line in out.splitlines()[2:]:
        cols = line.split()
        if len(cols) >= 7:
            # name type [type2] encoding emb sub uni object ID
            fonts.append({"name": cols[0], "embedded": cols[-5] == "yes", "subset": cols[-4] == "yes"})
    return fonts


def cjk_font_embedded(data: bytes) -> bool:
    return any("CJK" in f["name"] and f["embedded"] for f in pdf_fonts(data))


def pdf_xmp(data: bytes) -> str:
    """The document's XMP metadata (where PDF/A declares itself: pdfaid:part)."""
    return subprocess.run(["pdfinfo", "-meta", "-"], input=data, capture_output=True, check=True).stdout.decode()
