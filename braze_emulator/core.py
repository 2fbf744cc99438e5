"""Request processing without a web framework: one decoded HTTP request in, one reply out.

`handle` is the single entry point for every route (API, control plane, unknown). It runs in
the process that owns the state; the HTTP front (httpserver.py) decodes HTTP and JSON, calls
it (directly, or through worker IPC), then sleeps the reply's latency or drops the connection
as the reply says. The API pipeline, in order: route (unknown paths and trailing slashes: 404),
API key (401), permission (403), injected fault, rate limit (429), Content-Type (415), body
size (413), JSON (400), then the model. Every answer of an API route carries the rate-limit
headers.
"""

from __future__ import annotations

import json
import random
import sys
import time
from typing import Any, NamedTuple

from braze_emulator import errors
from braze_emulator.control import CONTROL_ROUTES
from braze_emulator.faults import STATUS_KINDS
from braze_emulator.model import Backend
from braze_emulator.ratelimit import Decision
from braze_emulator.settings import ALL_PERMISSIONS, PERMISSIONS, TRACK

REDACTED = "[redacted]"
BAD_JSON = "\x00bad-json"  # marker body: the front could not decode the JSON


class Call(NamedTuple):
    """One HTTP request as the front decoded it (a plain tuple, cheap to pass between processes).

    body: the decoded JSON, None for an empty body, or BAD_JSON.
    """

    method: str
    path: str
    query: dict[str, str]
    authorization: str | None
    content_type: str
    content_length: int | None
    size: int
    body: Any
    hint: Any = None  # (Backend.fast_params(), attribute flags, event flags) from a worker


class Reply(NamedTuple):
    """status; headers; body bytes; action: None, "drop" (close, no response) or "hang"
    (hold, then close); delay: seconds to wait before acting."""

    status: int
    headers: dict[str, str] | None
    body: bytes
    action: str | None
    delay: float


def encode(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def decode_json(raw: bytes) -> Any:
    """JSON as Braze reads it: NaN and Infinity are not JSON. BAD_JSON when it does not parse."""
    if not raw:
        return None
    try:
        return _DECODER.decode(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return BAD_JSON


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# json.loads with a keyword builds a new JSONDecoder per call: build it once.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def handle(backend: Backend, call: Call) -> Reply:
    if call.path in PERMISSIONS:
        if call.method == "POST":
            return _api(backend, call)
    elif call.path.startswith("/_emulator/"):
        return _control(backend, call)
    return _unknown(backend, call)


def _unknown(backend: Backend, call: Call) -> Reply:
    message = f"{errors.UnknownRoute.message}: {call.method} {call.path}"
    print(f"braze-emulator: {message}", file=sys.stderr, flush=True)
    entry = {
        "seq": backend.next_request_seq(), "at": time.time(), "method": call.method,
        "path": call.path, "key": REDACTED, "status": 404,
    }
    backend.record_request(entry, None)
    return Reply(404, None, encode({"message": message}), None, 0.0)


def _control(backend: Backend, call: Call) -> Reply:
    route = CONTROL_ROUTES.get((call.method, call.path))
    try:
        if route is None:
            raise errors.UnknownRoute(
                f"unknown control route {call.method} {call.path}; routes: "
                + ", ".join(f"{m} {p}" for m, p in CONTROL_ROUTES)
            )
        body = call.body
        if body == BAD_JSON or (body is not None and not isinstance(body, dict)):
            raise errors.ControlError("control-plane bodies are JSON objects")
        return Reply(200, None, encode(route(backend, call.query, body or {})), None, 0.0)
    except errors.ApiError as exc:
        print(f"braze-emulator: control error: {exc.message}", file=sys.stderr, flush=True)
        return Reply(exc.status, None, encode(exc.body()), None, 0.0)


def _authenticate(call: Call, backend: Backend) -> dict[str, Any] | None:
    header = call.authorization
    if header is None:
        return None
    scheme, _, key = header.partition(" ")
    info = backend.settings.keys.get(key) if scheme == "Bearer" else None
    if info is None:
        raise errors.InvalidApiKey()
    return info


def _authorise(info: dict[str, Any], path: str) -> None:
    permissions = info["permissions"]
    if ALL_PERMISSIONS not in permissions and PERMISSIONS[path] not in permissions:
        raise errors.AccessDenied()


def _body_key(body: Any, backend: Backend) -> dict[str, Any]:
    key = body.get("api_key") if isinstance(body, dict) else None
    info = backend.settings.keys.get(key) if isinstance(key, str) else None
    if info is None:
        raise errors.InvalidApiKey()
    return info


def _early_fault(fault: str) -> None:
    if fault == "429":
        raise errors.RateLimited()
    if fault in STATUS_KINDS:
        raise errors.SERVER_ERRORS[int(fault)]()


def _api(backend: Backend, call: Call) -> Reply:
    settings = backend.settings
    path = call.path
    now = time.time()
    entry: dict[str, Any] = {
        "seq": backend.next_request_seq(), "at": now, "method": call.method, "path": path,
        "key": REDACTED, "status": 0,
    }
    body: Any = None
    decision: Decision | None = None
    rule = settings.rate_limits.get(path)
    fault: str | None = None
    try:
        info = _authenticate(call, backend)
        if info is None and not settings.accept_body_api_key:
            raise errors.InvalidApiKey()
        if info is not None:
            entry["key"] = info["name"]
            _authorise(info, path)
        fault = backend.faults.choose(path)
        if fault:
            entry["fault"] = fault
            if fault == "hang" or fault == "reset":
                entry["status"] = fault
                backend.record_request(entry, None)
                if fault == "hang":
                    return Reply(0, None, b"", "hang", settings.hang_seconds)
                return Reply(0, None, b"", "drop", 0.0)
            _early_fault(fault)
        decision = backend.limiter.check(path, rule, now, consume=True)
        if decision is not None and not decision.allowed:
            raise errors.RateLimited()
        if call.content_type != "application/json":
            raise errors.UnsupportedMediaType()
        length = call.content_length if call.content_length is not None else call.size
        if length > settings.max_body_bytes or call.size > settings.max_body_bytes:
            raise errors.PayloadTooLarge()
        body = call.body
        if body == BAD_JSON or body is None:
            body = None
            raise errors.MalformedJson()
        if info is None:  # legacy: the key in the body
            info = _body_key(body, backend)
            entry["key"] = info["name"]
            _authorise(info, path)
        if path == TRACK:
            hint = call.hint
            if hint and tuple(hint[0]) == backend.fast_params():
                result = backend.track(body, plain_hint=hint[1], event_hint=hint[2])
            else:
                result = backend.track(body)
        else:
            result = backend.export(body)
        status = 201 if path == TRACK else 200
    except errors.ApiError as exc:
        result, status = exc.body(), exc.status
    if fault == "drop_after_apply":
        entry["status"] = "dropped"
        entry["applied_status"] = status
        entry["response"] = result
        backend.record_request(entry, body)
        return Reply(0, None, b"", "drop", 0.0)
    entry["status"] = status
    entry["response"] = result
    backend.record_request(entry, body)
    if decision is None:
        decision = backend.limiter.check(path, rule, now, consume=False)
        if decision is not None and status == 429:
            decision = Decision(False, decision.limit, 0, decision.reset_at)
    headers = decision.headers(settings.rate_limit_header_style, now) if decision else None
    delay = settings.latency_ms
    if settings.jitter_ms:
        delay += random.uniform(0, settings.jitter_ms)
    return Reply(status, headers, encode(result), None, delay / 1000)
