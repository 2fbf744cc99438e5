"""The control plane under /_emulator/: reset, dump state, faults, limits, latency, profiles,
keys and settings. No API key (a local test tool bound to 127.0.0.1); unknown routes fail loudly
(404 naming the known routes). Handlers take (backend, query, JSON body) and return JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from braze_emulator import errors
from braze_emulator.model import Backend

LIMIT_SETTINGS = frozenset({
    "rate_limits", "rate_limit_header_style", "batch_limit_mode", "max_objects",
    "max_body_bytes", "export_max_ids", "array_max_length",
})
LATENCY_SETTINGS = frozenset({"latency_ms", "jitter_ms", "hang_seconds", "export_lag_ms"})

Handler = Callable[[Backend, dict[str, str], dict[str, Any]], dict[str, Any]]


def reset(backend: Backend, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    backend.reset()
    return {"message": "reset"}


def state(backend: Backend, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    return backend.dump(query)


def faults(backend: Backend, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    backend.faults.configure(body)
    return backend.faults.describe()


def _update_subset(
    backend: Backend, body: dict[str, Any], allowed: frozenset[str]
) -> dict[str, Any]:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise errors.ControlError(
            f"unknown option(s): {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )
    backend.settings.update(body)
    return {name: getattr(backend.settings, name) for name in sorted(allowed)}


def limits(backend: Backend, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    result = _update_subset(backend, body, LIMIT_SETTINGS)
    backend.limiter.__init__()  # new limits start with fresh windows
    return result


def latency(backend: Backend, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    return _update_subset(backend, body, LATENCY_SETTINGS)


def get_settings(
    backend: Backend, query: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    return backend.settings.public()


def set_settings(
    backend: Backend, query: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    backend.settings.update(body)
    return backend.settings.public()


def profiles(backend: Backend, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    return {"braze_ids": backend.create_profiles(body.get("profiles"))}


def keys(backend: Backend, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    """{"key": K, "name": label, "permissions": [...]} adds a key; {"key": K, "remove": true}."""
    key = body.get("key")
    if not isinstance(key, str) or not key:
        raise errors.ControlError("'key' must be a non-empty string")
    if body.get("remove"):
        backend.settings.keys.pop(key, None)
        return {"message": "removed"}
    permissions = body.get("permissions")
    if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
        raise errors.ControlError("'permissions' must be an array of strings")
    name = body.get("name") or f"key-{len(backend.settings.keys) + 1}"
    backend.settings.keys[key] = {"name": name, "permissions": permissions}
    return {"name": name, "permissions": permissions}


CONTROL_ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "/_emulator/reset"): reset,
    ("GET", "/_emulator/state"): state,
    ("POST", "/_emulator/faults"): faults,
    ("POST", "/_emulator/limits"): limits,
    ("POST", "/_emulator/latency"): latency,
    ("GET", "/_emulator/settings"): get_settings,
    ("POST", "/_emulator/settings"): set_settings,
    ("POST", "/_emulator/profiles"): profiles,
    ("POST", "/_emulator/keys"): keys,
}
