"""Fixed-window rate limits per endpoint path (reference §3). Pure: no HTTP."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # epoch seconds when the window ends

    def headers(self, style: str, now: float) -> dict[str, str]:
        """Both documented styles: epoch reset, or seconds remaining + Retry-After on a 429."""
        seconds_left = max(1, math.ceil(self.reset_at - now))
        if style == "delta":
            if not self.allowed:
                return {"X-Ratelimit-Retry-After": str(seconds_left)}
            return {
                "X-RateLimit-Limit": str(self.limit),
                "X-RateLimit-Remaining": str(self.remaining),
                "X-RateLimit-Reset": str(seconds_left),
            }
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset_at)),
        }


class RateLimiter:
    """Windows are aligned on the epoch (an hourly window resets on the clock hour)."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}

    def check(
        self, path: str, rule: dict[str, float] | None, now: float, consume: bool
    ) -> Decision | None:
        if rule is None:
            return None
        limit = int(rule["limit"])
        window = float(rule["window_seconds"])
        start = math.floor(now / window) * window
        current_start, count = self._windows.get(path, (start, 0))
        if current_start != start:
            count = 0
        allowed = count < limit
        if consume and allowed:
            count += 1
        self._windows[path] = (start, count)
        return Decision(allowed, limit, max(0, limit - count), start + window)
