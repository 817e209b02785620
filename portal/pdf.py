"""PDF rendering with WeasyPrint: local fonts only, nothing fetched from outside.

Images a document shows (attachments) are handed over in memory and named ``res:<name>`` in
the HTML, as are the print fonts (``portal.print_fonts``); any other URL is refused, so a document
can never reach the network or the rest of the disk.
"""
from __future__ import annotations

import functools
import gc
import threading
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pydyf
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from portal import print_fonts

Resources = dict[str, tuple[bytes, str]]  # name -> (bytes, mimetype)


class LocalFetcher(URLFetcher):
    """Serves only the resources given for this document and the print fonts."""

    def __init__(self, resources: Resources | None = None):
        super().__init__(allowed_protocols=("res",))
        self._resources = resources or {}

    def fetch(self, url, headers=None):
        name = url[4:] if url.startswith("res:") else None
        if name in self._resources:
            body, mimetype = self._resources[name]
            return URLFetcherResponse(url, body, {"Content-Type": mimetype})
        if name and (font := print_fonts.font_file(name)):
            return URLFetcherResponse(url, font.read_bytes(), {"Content-Type": "font/otf"})
        raise ValueError(f"documents load nothing from outside: {url}")


class _DocumentHTML(HTML):
    """An HTML document styled by the cut-down user-agent stylesheet of ``print_ua.css``.

    WeasyPrint has no option for its user-agent stylesheet; this is the hook its own tests use."""

    def _ua_stylesheets(self, forms=False):
        return [_user_agent_stylesheet()]


@functools.cache
def _user_agent_stylesheet() -> CSS:
    return CSS(string=Path(__file__).with_name("print_ua.css").read_text(encoding="utf-8"))


_local = threading.local()


def _font_config() -> FontConfiguration:
    """This thread's fonts: loading fontconfig's configuration and opening the CJK fonts once, not
    for every document (Pango's font map is not shared between threads)."""
    if getattr(_local, "fonts", None) is None:
        _local.fonts, _local.stylesheets = FontConfiguration(), {}
    return _local.fonts


def _stylesheet(css: str) -> CSS:
    """The stylesheet parsed, with its selectors compiled and its @font-face fonts loaded, once per
    thread (they belong to the thread's fonts)."""
    fonts = _font_config()
    if css not in _local.stylesheets:
        _local.stylesheets[css] = CSS(string=css, url_fetcher=LocalFetcher(), font_config=fonts)
    return _local.stylesheets[css]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Layout allocates some hundred thousand objects that live until the PDF is written; left
    running, the garbage collector walks the whole process (the app, its models, every module) again
    and again meanwhile -- about a fifth of a dossier's time. Paused for the render, then one pass
    over the young generations frees what the render left."""
    if not gc.isenabled():  # paused by a render in another thread, or by the program
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(1)


def _compress_streams_once(_document, pdf: pydyf.PDF) -> None:
    """Deflate each stream of the PDF here, once, at zlib's default level.

    pydyf deflates a stream (the embedded fonts above all) every time it serialises it, at the slowest
    level -- and a PDF/A file's ID is a hash of every object serialised, so each stream was deflated
    twice: a tenth of a dossier's time, for files a few per mille smaller."""
    for obj in pdf.objects:
        if isinstance(obj, pydyf.Stream) and obj.compress and "Filter" not in obj.extra:
            plain = pydyf.Stream(obj.stream).data   # <</Length n>>\nstream\n...\nendstream
            content = plain[plain.index(b"\nstream\n") + len(b"\nstream\n"):-len(b"\nendstream")]
            obj.stream, obj.compress = [zlib.compress(content)], False
            obj.extra["Filter"] = "/FlateDecode"


def render_pdf(html: str, variant: str | None = None, resources: Resources | None = None,
               stylesheets: Sequence[str] = ()) -> bytes:
    """The PDF of an HTML document (fonts from the system's fontconfig, e.g. fonts-noto-cjk);
    ``variant`` e.g. "pdf/a-2b" for the archive copy. ``stylesheets`` (CSS that many documents share)
    apply in order before the document's own ``<style>``; each is parsed once per thread."""
    with _collector_paused():
        return _DocumentHTML(string=html, url_fetcher=LocalFetcher(resources)).write_pdf(
            pdf_variant=variant, font_config=_font_config(), stylesheets=[_stylesheet(css) for css in stylesheets],
            finisher=_compress_streams_once)


def render_pdf_args(args: tuple[str, str | None, Resources | None, Sequence[str]]) -> bytes:
    """``render_pdf`` taking one tuple, for a process pool's ``map``."""
    return render_pdf(*args)


def print_setup_problems(harfbuzz: str = "harfbuzz-subset", font_lang: str = "zh") -> list[str]:
    """What the machine lacks to print Chinese documents well, in words an administrator can act on.

    Without HarfBuzz's subset library WeasyPrint falls back to fontTools and a Chinese dossier takes
    over ten times longer; without a CJK font every character prints as a box."""
    import ctypes.util
    import subprocess

    problems = []
    if ctypes.util.find_library(harfbuzz) is None:
        problems.append(f"缺少 lib{harfbuzz}（Debian 软件包 libharfbuzz-subset0）：打印中文文书将慢十倍以上。"
                        "请运行 make run 或 apt-get install libharfbuzz-subset0。")
    try:
        fonts = subprocess.run(["fc-list", f":lang={font_lang}", "family"], capture_output=True, text=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        fonts = ""
    if not fonts:
        problems.append("没有可用的中文字体（Debian 软件包 fonts-noto-cjk）：打印的文书中汉字将显示为方框。"
                        "请运行 make run 或 apt-get install fonts-noto-cjk。")
    return problems
