"""Reading a QR code as a phone would: a picture of what the browser drew, decoded by zbar (``zbarimg``),
which reads full-size QR codes only, as phones' scanners and WeChat do."""
from __future__ import annotations

import subprocess


def read_qr(png: bytes) -> str:
    """The text of the one QR code in the picture; AssertionError when none can be read."""
    done = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", "-"], input=png,
                          capture_output=True, timeout=30)
    assert done.returncode == 0, f"no QR code could be read: {done.stderr.decode(errors='replace')}"
    return done.stdout.decode().strip()
