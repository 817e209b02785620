"""The archive copy as a PDF reader meets it: its streams deflated, a file ID, PDF/A-2b."""
from __future__ import annotations

import re
import zlib

from portal.pdf import render_pdf
from tests.pdfcheck import pdf_text, pdf_xmp

STREAM = re.compile(rb"\d+ 0 obj\s*(<<.*?>>)\s*stream\r?\n", re.S)


def test_an_archive_copy_has_its_streams_deflated_and_a_file_id():
    html = ('<html lang="zh-CN"><body style="font-family: Noto Serif CJK SC"><h1>人民调解协议书</h1>'
            '<p>经调解，双方当事人自愿达成如下协议。</p></body></html>')
    pdf = render_pdf(html, "pdf/a-2b")
    streams = []
    for match in STREAM.finditer(pdf):
        head = match[1]
        length = int(re.search(rb"/Length (\d+)", head)[1])
        streams.append((head, pdf[match.end():match.end() + length]))
    fonts = [(head, body) for head, body in streams if b"/Subtype /OpenType" in head]
    assert fonts and all(b"/Filter /FlateDecode" in head for head, _body in fonts)
    for head, body in streams:
        if b"/FlateDecode" in head:    # deflated once: inflating gives the content, not deflated data again
            content = zlib.decompress(body)
            assert content and content[:2] not in (b"x\x01", b"x\x5e", b"x\x9c", b"x\xda")
    assert re.search(rb"/ID \[\(([0-9a-f]{32})\) \(([0-9a-f]{32})\)\]", pdf)   # PDF/A asks for a file ID
    assert re.search(r"pdfaid:part(>|=\")2", pdf_xmp(pdf))
    assert "人民调解协议书" in pdf_text(pdf)
