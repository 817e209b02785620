"""The case code as a QR code (一案一码), drawn as inline SVG by the portal itself."""
import functools

import segno

_BORDER, _SCALE = 4, 3  # the quiet zone the standard asks for, in modules; pixels per module


@functools.lru_cache(maxsize=4096)   # a case's code never changes: its picture is drawn once per app server
def qr_svg(text: str | None) -> str:
    """A full-size QR code (never a Micro QR, which phones' scanners and WeChat do not read), error level M.
    The mask is the standard's pattern 0 rather than the best-scoring of eight: any mask reads the same, and
    scoring all eight took 2.5 ms of a case page. Its dark modules are drawn as one path of horizontal runs
    (segno's own SVG writer took as long as the encoding)."""
    if not text:
        return ""
    matrix = segno.make_qr(text, error="m", mask=0).matrix
    runs = []
    for y, row in enumerate(matrix):
        x, width = 0, len(row)
        while x < width:
            if not row[x]:
                x += 1
                continue
            start = x
            while x < width and row[x]:
                x += 1
            runs.append(f"M{start + _BORDER} {y + _BORDER + 0.5}h{x - start}")
    size = (len(matrix) + 2 * _BORDER) * _SCALE
    return (f'<svg width="{size}" height="{size}" class="segno"><path transform="scale({_SCALE})" '
            f'class="qrline" stroke="#000" d="{"".join(runs)}"/></svg>')
