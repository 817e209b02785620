"""The case code as a QR code (一案一码), drawn as inline SVG by the portal itself."""
import functools

import segno


@functools.lru_cache(maxsize=4096)   # a case's code never changes: its picture is drawn once per app server
def qr_svg(text: str | None) -> str:
    """A full-size QR code (never a Micro QR, which phones' scanners and WeChat do not read), error level M.
    The mask is the standard's pattern 0 rather than the best-scoring of eight: any mask reads the same, and
    scoring all eight took 2.5 ms of a case page."""
    if not text:
        return ""
    return segno.make_qr(text, error="m", mask=0).svg_inline(scale=3)
