"""ISO 8601 durations as diagrams write them (P3D, PT1H, P1DT12H, PT30M)."""
from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?$")


def iso_duration(text: str) -> timedelta:
    """A timedelta for a day/hour/minute ISO duration; ValueError for anything else (months, years, junk)."""
    match = _DURATION.match((text or "").strip())
    if not match or text.strip() in ("P", "PT") or text.strip().endswith("T"):
        raise ValueError(f"not an ISO 8601 duration in weeks, days, hours or minutes: {text!r}")
    parts = {k: int(v) for k, v in match.groupdict().items() if v}
    return timedelta(weeks=parts.get("w", 0), days=parts.get("d", 0), hours=parts.get("h", 0),
                     minutes=parts.get("m", 0), seconds=parts.get("s", 0))
