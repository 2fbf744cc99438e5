"""Braze's accepted time formats (reference §2.5, §2.6), parsed to aware UTC datetimes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

_COLON_MILLIS = re.compile(
    r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}):(\d{3})(Z|[+-]\d{2}:?\d{2})?$"
)


@lru_cache(maxsize=65536)
def parse_time(text: str) -> datetime | None:
    """Return the UTC time `text` names, or None when Braze would not read it as a time."""
    if not isinstance(text, str) or not text or len(text) > 64:
        return None
    value = _parse(text.strip())
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if not 0 < value.year <= 3000:
        return None
    return value.astimezone(UTC)


def _parse(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    match = _COLON_MILLIS.match(text)
    if match:
        base, millis, zone = match.groups()
        value = datetime.fromisoformat(base) + timedelta(milliseconds=int(millis))
        return value.replace(tzinfo=_zone(zone or "Z"))
    for pattern in ("%m/%d/%Y", "%a %b %d %H:%M:%S %Z %Y"):
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None


def _zone(text: str) -> timezone:
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


@lru_cache(maxsize=65536)
def format_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
