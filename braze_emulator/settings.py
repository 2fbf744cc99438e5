"""Every knob of the emulator, with the defaults and what each UNCONFIRMED choice became.

Settings come from the command line, a JSON config file (`--config`) and the control plane
(`POST /_emulator/settings`, `/limits`, `/latency`, `/keys`). `Settings.update` takes the same
JSON shape everywhere and refuses unknown names, so a typo fails loudly.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any

from braze_emulator.errors import ControlError

TRACK = "/users/track"
EXPORT = "/users/export/ids"
PERMISSIONS = {TRACK: "users.track", EXPORT: "users.export.ids"}
ALL_PERMISSIONS = "*"


def default_rate_limits() -> dict[str, dict[str, float]]:
    return {
        TRACK: {"limit": 3000, "window_seconds": 3},
        EXPORT: {"limit": 250, "window_seconds": 60},
    }


@dataclass
class Settings:
    # API keys: key -> {"name": label shown in logs, "permissions": [..] or ["*"]}.
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    # /users/track size rule: "combined" (75 objects over the three arrays) or "per_array"
    # (legacy: 75 per array).
    batch_limit_mode: str = "combined"
    max_objects: int = 75
    max_body_bytes: int = 4 * 1024 * 1024
    # Rate limits: fixed windows aligned on the epoch, per endpoint path.
    rate_limits: dict[str, dict[str, float]] = field(default_factory=default_rate_limits)
    # "epoch": X-RateLimit-Reset is epoch seconds and stays on a 429.
    # "delta": X-RateLimit-Reset is seconds remaining; a 429 carries X-Ratelimit-Retry-After only.
    rate_limit_header_style: str = "epoch"
    # Latency added before every API response: fixed + uniform(0, jitter).
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    # How long a "hang" fault holds the connection before closing it without a response.
    hang_seconds: float = 120.0
    # Writes show in /users/export/ids only after this lag.
    export_lag_ms: float = 0.0
    # Array-of-strings attribute cap; what happens over it (UNCONFIRMED): "reject" the object
    # (strict, default) or "drop_oldest".
    array_max_length: int = 25
    array_overflow: str = "reject"
    # Strings over 255 characters (UNCONFIRMED): "reject" (strict, default) or "truncate".
    string_overflow: str = "reject"
    max_string_length: int = 255
    # An unknown braze_id (UNCONFIRMED): "error" (strict, default) or "ignore" (counted, dropped).
    unknown_braze_id: str = "error"
    # An update-only object whose user does not exist (UNCONFIRMED; the docs suggest it is
    # silently ignored): "ignore" (default: counted as processed, nothing applied) or "error".
    update_only_missing_user: str = "ignore"
    # Whether an event/purchase with user_alias and _update_existing_only=false may create an
    # alias-only profile (UNCONFIRMED): false (strict, default) means it never creates one.
    alias_events_create_profiles: bool = False
    # One invalid value inside a nested attribute drops every nested update of the request.
    nested_poison: bool = True
    # errors[].type as observed "text" (default) or the documented "code".
    error_type_style: str = "text"
    # Event and purchase property limits; purchases use the older 50 KB text (stricter).
    max_event_properties: int = 256
    event_nested_properties_bytes: int = 100 * 1024
    purchase_nested_properties_bytes: int = 50 * 1024
    nested_attribute_bytes: int = 100 * 1024
    max_event_name_length: int = 255
    max_purchase_quantity: int = 100
    # /users/export/ids: fields_to_export required (true for accounts onboarded since 2024-08-22)
    # and an unknown field name rejected (UNCONFIRMED; strict).
    export_require_fields: bool = True
    export_reject_unknown_fields: bool = True
    export_max_ids: int = 50
    # Legacy key in the body (`api_key`): Braze still accepts it; off by default (strict).
    accept_body_api_key: bool = False
    # External ids that are "blacklisted" (spam-blocked profiles).
    blocked_external_ids: list[str] = field(default_factory=list)
    # Event custom properties are billed only when enabled for segmentation.
    bill_event_properties: bool = False
    # Request log: last N entries; bodies are kept for the last M only. Counters are complete.
    request_log_size: int = 10_000
    request_log_bodies: int = 1_000
    # Keep every event and purchase record (turn off for long benchmarks; counters stay exact).
    store_events: bool = True

    def update(self, values: dict[str, Any]) -> None:
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ControlError(f"unknown setting(s): {', '.join(unknown)}")
        for name, value in values.items():
            if name == "rate_limits":
                self.set_rate_limits(value)
            else:
                setattr(self, name, copy.deepcopy(value))
        self.check()

    def set_rate_limits(self, limits: dict[str, Any]) -> None:
        if not isinstance(limits, dict):
            raise ControlError("rate_limits must be an object of path -> {limit, window_seconds}")
        for path, rule in limits.items():
            if path not in PERMISSIONS:
                raise ControlError(f"no rate limit can be set for unknown path {path!r}")
            if rule is None:
                self.rate_limits.pop(path, None)
                continue
            merged = {**self.rate_limits.get(path, {}), **rule}
            if set(merged) != {"limit", "window_seconds"}:
                raise ControlError("a rate limit is {limit, window_seconds}")
            if merged["limit"] < 0 or merged["window_seconds"] <= 0:
                raise ControlError("limit must be >= 0 and window_seconds > 0")
            self.rate_limits[path] = merged

    def check(self) -> None:
        choices = {
            "batch_limit_mode": ("combined", "per_array"),
            "rate_limit_header_style": ("epoch", "delta"),
            "array_overflow": ("reject", "drop_oldest"),
            "string_overflow": ("reject", "truncate"),
            "unknown_braze_id": ("error", "ignore"),
            "update_only_missing_user": ("ignore", "error"),
            "error_type_style": ("text", "code"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ControlError(f"{name} must be one of {', '.join(allowed)}")
        for name, info in self.keys.items():
            if not isinstance(info, dict) or not isinstance(info.get("permissions"), list):
                raise ControlError("each key needs {'name': str, 'permissions': [..]}")
            info.setdefault("name", f"key-{len(name)}")

    def public(self) -> dict[str, Any]:
        """The settings as JSON, with every API key replaced by its label."""
        data = dataclasses.asdict(self)
        data["keys"] = [
            {"name": info["name"], "permissions": info["permissions"]}
            for info in self.keys.values()
        ]
        return data


def from_sources(
    api_key: str | None, config: dict[str, Any] | None, latency_ms: float | None
) -> Settings:
    settings = Settings()
    if config:
        settings.update(config)
    if api_key:
        settings.keys[api_key] = {"name": "default", "permissions": [ALL_PERMISSIONS]}
    if latency_ms is not None:
        settings.latency_ms = latency_ms
    settings.check()
    return settings
