"""Chinese resident ID numbers (GB 11643-1999): format, birth date and checksum; phone numbers."""
from __future__ import annotations

import re
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_FORMAT = re.compile(r"^\d{17}[\dX]$")
_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def check_digit(first17: str) -> str:
    """The 18th character for the first 17 digits."""
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=False)) % 11]


def is_valid_id_number(value: str) -> bool:
    """True for an 18-character ID number with a real birth date and the right check digit."""
    value = (value or "").strip().upper()
    if not _FORMAT.match(value):
        return False
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    if born.year < 1900 or born > date.today():
        return False
    return check_digit(value[:17]) == value[17]


def is_valid_phone(value: str) -> bool:
    """A mainland mobile (11 digits) or a landline with its area code (spaces ignored)."""
    return bool(_PHONE.match((value or "").strip().replace(" ", "")))


def mask_id_number(value: str | None) -> str:
    """Keep the region code's first 3 and the last 4 characters: 110***********123X."""
    if not value:
        return ""
    return value[:3] + "*" * (len(value) - 7) + value[-4:] if len(value) > 7 else "*" * len(value)


def mask_phone(value: str | None) -> str:
    """138****5678."""
    if not value:
        return ""
    return value[:3] + "****" + value[-4:] if len(value) >= 8 else "*" * len(value)
