"""The case code as a QR code (一案一码), drawn as inline SVG by the portal itself."""
import segno


def qr_svg(text: str | None) -> str:
    if not text:
        return ""
    return segno.make(text, error="m").svg_inline(scale=3)
