"""Documents print with the installed Noto Serif CJK SC cut down to GB 2312: the same glyphs in a smaller
file; a character outside it still prints, from the installed font."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

from fontTools.ttLib import TTFont

from portal import print_fonts
from portal.pdf import render_pdf
from tests.pdfcheck import pdf_fonts, pdf_text

CSS = Path(__file__).resolve().parents[2] / "templates" / "documents" / "_print.css"


def _document(body: str) -> str:
    return (f'<html lang="zh-CN"><head><style>{CSS.read_text()}</style></head>'
            f'<body><section class="doc">{body}</section></body></html>')


def _installed_face(style: str) -> TTFont:
    out = subprocess.run(["fc-match", "--format=%{file}|%{index}", f"Noto Serif CJK SC:style={style}"],
                         capture_output=True, text=True, check=True).stdout
    file, index = out.split("|")
    return TTFont(file, fontNumber=int(index), lazy=True)


def test_the_print_fonts_are_the_installed_faces_cut_down_to_gb2312():
    for name, style in (("print-serif-regular.otf", "Regular"), ("print-serif-bold.otf", "Bold")):
        path = print_fonts.font_file(name)
        assert path is not None and path.stat().st_size < 8_000_000
        font, installed = TTFont(path), _installed_face(style)
        assert font["name"].getDebugName(1) == "Noto Serif CJK SC"
        cmap, installed_cmap = font.getBestCmap(), installed.getBestCmap()
        assert ord("喆") not in cmap and ord("喆") in installed_cmap     # a name's character beyond GB 2312
        for char in "人民调解卷宗第页，。：；（）《》—·√①ABCxyz0123":
            glyph, installed_glyph = cmap[ord(char)], installed_cmap[ord(char)]
            assert font["hmtx"][glyph] == installed["hmtx"][installed_glyph], char   # the same glyph
    assert print_fonts.font_file("../../etc/passwd") is None


def test_a_document_prints_with_them_and_takes_a_rare_character_from_the_installed_font():
    pdf = render_pdf(_document("<h1>张喆与李四纠纷</h1><p>当事人王喆、李四（ABC 123）。</p>"), "pdf/a-2b")
    names = {f["name"].split("+")[-1] for f in pdf_fonts(pdf)}
    assert {"Noto-Serif-CJK-SC-Print", "Noto-Serif-CJK-SC-Print-Bold"} <= names
    assert "Noto-Serif-CJK-SC" in names and "Noto-Serif-CJK-SC-Bold" in names   # for 喆
    assert "张喆与李四纠纷当事人王喆、李四（ABC123）。" in re.sub(r"\s+", "", pdf_text(pdf))


def test_a_style_fontconfig_does_not_have_is_not_cut_from_another_face():
    """fontconfig answers the nearest face it has; the print font is cut only from the face asked for."""
    assert "Bold" in print_fonts._installed("Bold")[0].name
    assert print_fonts._installed("Ultra Condensed Hairline") is None
