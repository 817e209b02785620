"""The case code as a QR code (一案一码), drawn as inline SVG by the portal itself."""
import functools

import segno


@functools.lru_cache(maxsize=4096)   # a case's code never changes: its picture is drawn once per app server
def qr_svg(text: str | None) -> str:
    if not text:
        return ""
    return segno.make(text, error="m").svg_inline(scale=3)
