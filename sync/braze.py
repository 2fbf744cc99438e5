"""All Braze HTTP: the outcome classes, the retry ladder, the shared rate budget.

`TrackClient` (sync/http11.py: keep-alive HTTP/1.1) sends /users/track bodies concurrently
under one `RateBudget`;
`check_credentials` (requests) makes the single cheap /users/export/ids call of `sync check`.
The API key is only ever put in the Authorization header; no message built here contains it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.config import Settings
from sync.http11 import (
    ConnectFailed,
    ConnectTimeout,
    Http11Client,
    NoResponse,
    TlsCertificateError,
    TlsError,
)

log = logging.getLogger("sync.braze")

TRACK_PATH = "/users/track"
EXPORT_IDS_PATH = "/users/export/ids"
FATAL_STATUSES = {401, 403, 404, 413, 415}
EPOCH_THRESHOLD = 1_000_000_000  # an X-RateLimit-Reset above this is an epoch, else seconds
LOW_WATER_FRACTION = 0.02


# ---- outcome kinds ------------------------------------------------------------------------------

class BrazeError(Exception):
    """Base class. `status` is the HTTP status (None when no response came)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class BrazeFatalError(BrazeError):
    """Stop the run: bad key, missing permission, wrong URL, body too large, bad content type."""


class BrazeRetriableError(BrazeError):
    """Retries exhausted on 5xx, 429, timeouts or connection errors: leave the rows pending."""


class BrazeOutcomeUnknownError(BrazeError):
    """The request was sent and no response came; raised only under the `skip` event policy."""


class BrazeBadRequestError(BrazeError):
    """A 400 for the whole request. `errors` lists per-object errors when Braze gave them."""

    def __init__(self, message: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(message, 400)
        self.errors = errors


@dataclass(slots=True)
class TrackResponse:
    status: int
    message: str
    errors: list[dict[str, Any]]


def fatal_message(status: int, message: str, endpoint: str, permission: str) -> str:
    """A clear, key-free explanation of a fatal status."""
    said = f" (Braze said: {message})" if message else ""
    if status == 401:
        return (f"HTTP 401 from {endpoint}: the API key is invalid, or it belongs to another "
                f"Braze instance than {endpoint} (a key only works on the REST endpoint of its "
                f"own instance, e.g. rest.fra-01.braze.eu for EU-01){said}")
    if status == 403:
        return (f"HTTP 403 from {endpoint}: the API key lacks the '{permission}' permission "
                f"(permissions cannot be added to a key: create a new key with it){said}")
    if status == 404:
        return f"HTTP 404 from {endpoint}: wrong REST endpoint URL{said}"
    if status == 413:
        return f"HTTP 413 from {endpoint}: request body too large{said}"
    if status == 415:
        return f"HTTP 415 from {endpoint}: content type refused{said}"
    return f"HTTP {status} from {endpoint}{said}"


def _braze_message(payload: Any, text: str) -> str:
    if isinstance(payload, dict) and isinstance(payload.get("message"), str):
        return payload["message"][:300]
    return text.strip()[:300]


# ---- rate budget --------------------------------------------------------------------------------

@dataclass
class SendStats:
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    events_outcome_unknown: int = 0
    timeouts: int = 0
    server_errors: int = 0


class RateBudget:
    """One token bucket shared by every concurrent request.

    Refills at limit/window per second with a small burst, so any window of `window_s` seconds
    holds at most `limit` requests. Pauses everyone when X-RateLimit-Remaining runs low (until
    the window resets) and after a 429 (for X-Ratelimit-Retry-After or X-RateLimit-Reset, with
    jitter), so concurrent workers never hammer Braze together.
    """

    def __init__(self, limit: int, window_s: float, low_water: int | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self.burst = max(1.0, min(limit * 0.02, 50.0))
        self.rate = max(limit - self.burst, 1.0) / window_s
        self.tokens = self.burst
        self.low_water = low_water if low_water is not None else max(
            1, int(limit * LOW_WATER_FRACTION))
        self.clock = clock
        self.wall = wall
        self.updated = clock()
        self.blocked_until = 0.0

    def _refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def try_take(self) -> float:
        """Take a token and return 0, or return how long to wait before trying again."""
        now = self.clock()
        if now < self.blocked_until:
            return self.blocked_until - now
        self._refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate

    async def acquire(self) -> None:
        """Take a token, waiting in line for it: each caller reserves the next token (the
        bucket goes into debt) and sleeps once, until its token is paid for. (Polling with
        try_take woke every waiting sender for each token: ~0.4 ms of CPU per request at 96
        senders.) A pause (429, low remaining) that starts while a caller sleeps sends its
        reservation back and makes it wait for the pause's end."""
        while True:
            now = self.clock()
            if now < self.blocked_until:
                await asyncio.sleep(self.blocked_until - now)
                continue
            self._refill(now)
            self.tokens -= 1.0
            if self.tokens >= 0.0:
                return
            await asyncio.sleep(-self.tokens / self.rate)
            now = self.clock()
            if now >= self.blocked_until:
                return
            self._refill(now)
            self.tokens = min(self.burst, self.tokens + 1.0)

    def reset_in(self, headers: Mapping[str, str]) -> float | None:
        """Seconds until the window resets, from X-RateLimit-Reset (epoch or seconds)."""
        raw = headers.get("x-ratelimit-reset") or headers.get("X-RateLimit-Reset")
        if raw is None:
            return None
        try:
            value = float(raw)
        except ValueError:
            return None
        if value > EPOCH_THRESHOLD:
            return max(0.0, value - self.wall())
        return max(0.0, value)

    def block_for(self, seconds: float) -> None:
        self.blocked_until = max(self.blocked_until, self.clock() + seconds)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Slow down when Braze says few requests are left in its window."""
        raw = headers.get("x-ratelimit-remaining") or headers.get("X-RateLimit-Remaining")
        if raw is None:
            return
        try:
            remaining = int(float(raw))
        except ValueError:
            return
        if remaining <= self.low_water:
            wait = self.reset_in(headers)
            # Our own bucket never sends more than the limit in a window, so a low count at the
            # very end of a window we filled ourselves is no reason to stop: pause only when
            # what is left would not cover what the bucket lets through before the reset (other
            # clients are using the quota too).
            if wait is not None and remaining < self.rate * wait:
                self.block_for(min(wait, 60.0) + random.uniform(0, 0.05))

    def on_429(self, headers: Mapping[str, str], fallback: float) -> float:
        """Pause every worker until Braze's hint (plus jitter); return the pause."""
        wait: float | None = None
        raw = headers.get("x-ratelimit-retry-after") or headers.get("X-Ratelimit-Retry-After")
        if raw is not None:
            try:
                wait = max(0.0, float(raw))
            except ValueError:
                wait = None
        if wait is None:
            wait = self.reset_in(headers)
        if wait is None:
            wait = fallback
        wait = min(wait, 120.0) * random.uniform(1.0, 1.2) + random.uniform(0.01, 0.25)
        self.block_for(wait)
        return wait


def backoff(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter: uniform(0, min(cap, base * 2**attempt))."""
    return random.uniform(0, min(cap, base * (2 ** attempt))) + base / 10


# ---- async client -------------------------------------------------------------------------------

@dataclass
class TrackClient:
    """POST /users/track with the retry ladder. Use as `async with TrackClient(settings) as c`."""

    settings: Settings
    budget: RateBudget | None = None
    stats: SendStats = field(default_factory=SendStats)
    _session: Http11Client | None = None

    async def __aenter__(self) -> TrackClient:
        s = self.settings
        if self.budget is None:
            self.budget = RateBudget(s.rate_limit, s.rate_window_s,
                                     low_water=max(s.concurrency, int(s.rate_limit * 0.02)))
        self._session = Http11Client(
            s.endpoint or "", {"Authorization": f"Bearer {s.api_key}",
                               "Content-Type": "application/json"},
            s.connect_timeout_s, s.request_timeout_s)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def track(self, body: bytes, *, has_events: bool) -> TrackResponse:
        """Send one body until Braze gives an answer the runner can act on.

        Returns a 2xx response (maybe with per-object errors). Raises BrazeBadRequestError (400),
        BrazeFatalError, BrazeRetriableError (bound reached) or BrazeOutcomeUnknownError.
        """
        assert self._session is not None and self.budget is not None
        s = self.settings
        attempt = 0
        waits_429 = 0
        while True:
            await self.budget.acquire()
            self.stats.requests += 1
            reason: str
            try:
                resp = await self._session.post(TRACK_PATH, body)
                raw = resp.body
                status = resp.status
                headers = resp.headers
            except TlsCertificateError:
                raise BrazeFatalError(
                    f"TLS certificate verification failed for {s.endpoint}: the server's "
                    f"certificate is not trusted (the sync always verifies TLS)") from None
            except TlsError as exc:
                raise BrazeFatalError(f"TLS error with {s.endpoint}: {exc}") from None
            except ConnectTimeout:
                reason = "connect timeout"  # never sent: safe to retry
            except ConnectFailed as exc:
                reason = f"connection failed ({exc})"  # never sent
            except (TimeoutError, NoResponse, OSError) as exc:
                # Sent, and no answer: Braze may or may not have processed it.
                self.stats.timeouts += 1
                reason = f"no response ({type(exc).__name__})"
                if has_events:
                    self.stats.events_outcome_unknown += 1
                    if s.unknown_event_policy == "skip":
                        raise BrazeOutcomeUnknownError(reason) from None
            else:
                self.budget.observe(headers)
                try:
                    payload = json.loads(raw) if raw else {}
                except ValueError:
                    payload = None
                message = _braze_message(payload, raw.decode("utf-8", "replace"))
                if 200 <= status < 300:
                    errors = payload.get("errors") if isinstance(payload, dict) else None
                    return TrackResponse(status, message, list(errors or []))
                if status == 429:
                    self.stats.rate_limited += 1
                    waits_429 += 1
                    pause = self.budget.on_429(headers, backoff(waits_429, s.backoff_base_s,
                                                                s.backoff_cap_s))
                    log.debug("429 from Braze, pausing %.2fs", pause)
                    if waits_429 > s.max_rate_limit_waits:
                        raise BrazeRetriableError(
                            f"still rate limited after {waits_429} waits", 429)
                    self.stats.retries += 1
                    continue
                if status == 400:
                    errors = payload.get("errors") if isinstance(payload, dict) else None
                    raise BrazeBadRequestError(message, list(errors or []))
                if status >= 500 or status == 408:
                    self.stats.server_errors += 1
                    reason = f"HTTP {status}"
                else:
                    raise BrazeFatalError(
                        fatal_message(status, message, s.endpoint or "", "users.track"), status)
            attempt += 1
            if attempt > s.max_retries:
                raise BrazeRetriableError(f"gave up after {attempt} attempts: {reason}")
            self.stats.retries += 1
            delay = backoff(attempt, s.backoff_base_s, s.backoff_cap_s)
            log.debug("retry %d in %.2fs: %s", attempt, delay, reason)
            await asyncio.sleep(delay)


# ---- check (requests) ---------------------------------------------------------------------------

@dataclass
class CheckResult:
    ok: bool
    message: str
    status: int | None = None
    retriable: bool = False


def check_credentials(settings: Settings) -> CheckResult:
    """One cheap /users/export/ids call: is the endpoint right, the key valid and permitted?"""
    import requests

    url = f"{settings.endpoint}{EXPORT_IDS_PATH}"
    body = {"external_ids": ["aiq-braze-sync-check"], "fields_to_export": ["external_id"]}
    try:
        resp = requests.post(
            url, json=body, timeout=(settings.connect_timeout_s, settings.request_timeout_s),
            headers={"Authorization": f"Bearer {settings.api_key}"},
        )
    except requests.exceptions.SSLError:
        return CheckResult(False, f"TLS certificate verification failed for "
                                  f"{settings.endpoint}: the certificate is not trusted", None,
                           False)
    except requests.exceptions.RequestException as exc:
        return CheckResult(False, f"cannot reach {settings.endpoint}: {type(exc).__name__}",
                           None, True)
    try:
        payload = resp.json()
    except ValueError:
        payload = None
    message = _braze_message(payload, resp.text)
    endpoint = settings.endpoint or ""
    if 200 <= resp.status_code < 300:
        return CheckResult(True, f"OK: {endpoint} accepted the key (users.export.ids)",
                           resp.status_code)
    if resp.status_code in (429,) or resp.status_code >= 500:
        return CheckResult(False, f"HTTP {resp.status_code} from {endpoint}: try again later",
                           resp.status_code, True)
    return CheckResult(False, fatal_message(resp.status_code, message, endpoint,
                                            "users.export.ids"), resp.status_code)
