"""The fonts documents print with: the installed Noto Serif CJK SC, cut down once to the characters
of GB 2312 and the usual punctuation -- the same glyphs, in a file a fifth of the size.

WeasyPrint starts every document from the whole font file it embeds a subset of: for the Noto CJK
collections (26 MB, 65,535 glyphs each) copying, subsetting and compressing them cost about a sixth
of a dossier's time. The cut-down files are built with HarfBuzz on first use and kept in the user's
cache folder. Documents name them first in their font-family list and the installed family second,
so a character outside GB 2312 (a rare one in a name) still prints, from the installed font; when
they cannot be built (no libharfbuzz-subset, no Noto CJK) everything prints from the installed font.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import logging
import os
import subprocess
import threading
from pathlib import Path

FAMILY = "Noto Serif CJK SC"
FILES = {"print-serif-regular.otf": "Regular", "print-serif-bold.otf": "Bold"}  # name in CSS -> style
EXTRA_RANGES = ((0x20, 0x7E), (0xA0, 0xFF), (0x2000, 0x206F), (0x2100, 0x22FF), (0x2460, 0x25FF),
                (0x3000, 0x30FF), (0x3200, 0x32FF), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF))
CHARSET = "gb2312+1"   # changes the cached files' names when the character set changes

log = logging.getLogger(__name__)
_lock = threading.Lock()
_built: dict[str, Path | None] = {}


def font_file(name: str) -> Path | None:
    """The cut-down font called ``name`` in the documents' CSS, built if need be; None when it
    cannot be (the documents then print from the installed font)."""
    if name not in FILES:
        return None
    with _lock:
        if name not in _built:
            _built[name] = _build(FILES[name])
        return _built[name]


def _build(style: str) -> Path | None:
    source = _installed(style)
    if source is None or _harfbuzz() is None:
        return None
    path, index = source
    stat = path.stat()
    key = hashlib.sha256(f"{path}|{index}|{stat.st_size}|{stat.st_mtime_ns}|{CHARSET}".encode()).hexdigest()[:16]
    target = Path.home() / ".cache" / "portal-fonts" / f"{FAMILY.replace(' ', '')}-{style}-{key}.otf"
    if target.is_file():
        return target
    try:
        data = _subset(path, index)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(target)   # another process building the same file at once is harmless
    except (OSError, ValueError) as exc:
        log.warning("cannot build the print font %s %s: %s", FAMILY, style, exc)
        return None
    return target


def _installed(style: str) -> tuple[Path, int] | None:
    """(file, index in the collection) of the installed face, as fontconfig finds it."""
    try:
        out = subprocess.run(["fc-match", "--format=%{file}|%{index}|%{family}|%{style}", f"{FAMILY}:style={style}"],
                             capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    file, index, families, styles = (out.split("|") + ["", "", "", ""])[:4]
    if FAMILY not in families.split(",") or style not in styles.split(",") or not Path(file).is_file():
        return None   # fontconfig's nearest font is another family or style: not the one to cut down
    return Path(file), int(index or 0)


def _codepoints() -> list[int]:
    wanted = set()
    for first, last in EXTRA_RANGES:
        wanted.update(range(first, last + 1))
    for cp in range(0x80, 0x10000):
        if not 0xD800 <= cp <= 0xDFFF:
            try:
                chr(cp).encode("gb2312")
            except UnicodeEncodeError:
                continue
            wanted.add(cp)
    return sorted(wanted)


class _HarfBuzz:
    def __init__(self, hb: ctypes.CDLL, subset: ctypes.CDLL):
        p, u = ctypes.c_void_p, ctypes.c_uint
        for lib, name, restype, argtypes in (
                (hb, "hb_blob_create_from_file_or_fail", p, [ctypes.c_char_p]),
                (hb, "hb_face_create", p, [p, u]), (hb, "hb_face_get_glyph_count", u, [p]),
                (hb, "hb_set_add", None, [p, ctypes.c_uint32]), (hb, "hb_face_reference_blob", p, [p]),
                (hb, "hb_blob_get_data", ctypes.c_void_p, [p, ctypes.POINTER(u)]),
                (hb, "hb_blob_destroy", None, [p]), (hb, "hb_face_destroy", None, [p]),
                (subset, "hb_subset_input_create_or_fail", p, []),
                (subset, "hb_subset_input_unicode_set", p, [p]),
                (subset, "hb_subset_or_fail", p, [p, p]), (subset, "hb_subset_input_destroy", None, [p])):
            function = getattr(lib, name)
            function.restype, function.argtypes = restype, argtypes
            setattr(self, name, function)


def _harfbuzz() -> _HarfBuzz | None:
    hb, subset = ctypes.util.find_library("harfbuzz"), ctypes.util.find_library("harfbuzz-subset")
    if hb is None or subset is None:
        return None
    return _HarfBuzz(ctypes.CDLL(hb), ctypes.CDLL(subset))


def _subset(path: Path, index: int) -> bytes:
    """The face keeping only ``_codepoints()`` (and the glyphs its OpenType features reach)."""
    hb = _harfbuzz()
    blob = hb.hb_blob_create_from_file_or_fail(os.fsencode(path))
    if not blob:
        raise ValueError(f"HarfBuzz cannot read {path}")
    face = hb.hb_face_create(blob, index)
    request = hb.hb_subset_input_create_or_fail()
    result = out = None
    try:
        if not request or hb.hb_face_get_glyph_count(face) == 0:
            raise ValueError(f"no face {index} in {path}")
        unicodes = hb.hb_subset_input_unicode_set(request)
        for cp in _codepoints():
            hb.hb_set_add(unicodes, cp)
        result = hb.hb_subset_or_fail(face, request)
        if not result:
            raise ValueError(f"HarfBuzz cannot subset {path}")
        out = hb.hb_face_reference_blob(result)
        length = ctypes.c_uint()
        data = ctypes.string_at(hb.hb_blob_get_data(out, ctypes.byref(length)), length.value)
    finally:
        for pointer, destroy in ((out, hb.hb_blob_destroy), (result, hb.hb_face_destroy),
                                 (request, hb.hb_subset_input_destroy), (face, hb.hb_face_destroy),
                                 (blob, hb.hb_blob_destroy)):
            if pointer:
                destroy(pointer)
    if len(data) < 1024:
        raise ValueError(f"HarfBuzz made an empty font of {path}")
    return data
