"""Files to attach in tests: real PNG, JPEG and PDF bytes, and the broken and protected kinds."""
from __future__ import annotations

import hashlib
import io
import struct


def png(colour="grey", size=(120, 80)) -> bytes:
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def jpeg(colour="white", size=(300, 200)) -> bytes:
    """A photo-like JPEG (noise, so that cutting it short leaves its header readable)."""
    import random

    from PIL import Image
    rng = random.Random(7)
    image = Image.frombytes("RGB", size, bytes(rng.randrange(256) for _ in range(size[0] * size[1] * 3)))
    image.paste(Image.new("RGB", (size[0] // 3, size[1] // 3), colour))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def pdf(pages: int = 1) -> bytes:
    import pypdfium2
    doc = pypdfium2.PdfDocument.new()
    for _ in range(pages):
        doc.new_page(595, 842)
    out = io.BytesIO()
    doc.save(out)
    doc.close()
    return out.getvalue()


_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    s, j = list(range(256)), 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    i = j = 0
    out = bytearray()
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def encrypted_pdf(user_password: bytes = b"") -> bytes:
    """A one-page PDF under the standard security handler (RC4, revision 2). With an empty user
    password any reader opens it (only the owner's rights are protected); with one, none does."""
    def pad(p):
        return (p + _PAD)[:32]
    owner = _rc4(hashlib.md5(pad(b"owner")).digest()[:5], pad(user_password))
    file_id = b"0123456789abcdef"
    key = hashlib.md5(pad(user_password) + owner + struct.pack("<i", -4) + file_id).digest()[:5]
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
               b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -4 >>"
               % (owner.hex().encode(), _rc4(key, _PAD).hex().encode())]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Encrypt 4 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, file_id.hex().encode(), file_id.hex().encode(), xref)
    return bytes(out)
