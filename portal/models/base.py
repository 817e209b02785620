"""Shared column helpers."""
from __future__ import annotations

import enum

from sqlalchemy import Enum as SAEnum


def enum_column_type(enum_cls: type[enum.Enum]) -> SAEnum:
    """Store an enum by its value as a plain string column (portable, readable in SQL)."""
    return SAEnum(enum_cls, native_enum=False, values_callable=lambda e: [m.value for m in e],
                  validate_strings=True, length=32)
