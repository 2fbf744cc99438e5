"""POST /users/export/ids rules (reference §4). Pure: no HTTP."""

from __future__ import annotations

import copy
from typing import Any

from braze_emulator import errors
from braze_emulator.settings import Settings
from braze_emulator.store import Profile, Store

EXPORT_FIELDS = frozenset({
    "apps", "attributed_campaign", "attributed_source", "attributed_adgroup", "attributed_ad",
    "braze_id", "country", "created_at", "custom_attributes", "custom_events", "devices", "dob",
    "email", "email_subscribe", "external_id", "first_name", "gender", "home_city", "language",
    "last_coordinates", "last_name", "phone", "purchases", "push_subscribe", "push_tokens",
    "random_bucket", "time_zone", "total_revenue", "uninstalled_at", "user_aliases",
    "campaigns_received", "canvases_received",
})
SINGLE_IDS = ("device_id", "email_address", "phone")


def build_export(
    body: Any, store: Store, settings: Settings, visible: dict[str, dict[str, Any]] | None
) -> dict[str, Any]:
    """`visible`: when writes lag, the snapshots exports may see (braze_id -> user)."""
    if not isinstance(body, dict):
        raise errors.InvalidExportRequest("The request body must be a JSON object")
    external_ids = body.get("external_ids") or []
    aliases = body.get("user_aliases") or []
    if not isinstance(external_ids, list) or not all(isinstance(x, str) for x in external_ids):
        raise errors.InvalidExportRequest("'external_ids' must be an array of strings")
    if not isinstance(aliases, list) or not all(_is_alias(a) for a in aliases):
        raise errors.InvalidExportRequest(
            "'user_aliases' must be an array of {alias_name, alias_label}"
        )
    if len(external_ids) + len(aliases) > settings.export_max_ids:
        raise errors.TooManyExportIds()
    singles = [key for key in SINGLE_IDS if body.get(key) is not None]
    if len(singles) > 1:
        raise errors.InvalidExportRequest(
            "Only one of 'device_id', 'email_address' or 'phone' may be given"
        )
    for key in (*singles, "braze_id"):
        if body.get(key) is not None and not isinstance(body[key], str):
            raise errors.InvalidExportRequest(f"'{key}' must be a single string")
    if not (external_ids or aliases or singles or body.get("braze_id") is not None):
        raise errors.InvalidExportRequest(
            "Provide external_ids, user_aliases, braze_id, device_id, email_address or phone"
        )
    fields = _fields(body.get("fields_to_export"), settings)

    found: dict[str, Profile] = {}
    invalid: list[Any] = []

    def take(profile: Profile | None, label: Any) -> None:
        if profile is None or (visible is not None and profile.braze_id not in visible):
            invalid.append(label)
        else:
            found.setdefault(profile.braze_id, profile)

    for external_id in external_ids:
        take(store.by_external.get(external_id), external_id)
    for alias in aliases:
        take(store.by_alias.get((alias["alias_name"], alias["alias_label"])), alias)
    if body.get("braze_id") is not None:
        take(store.profiles.get(body["braze_id"]), body["braze_id"])
    for key in singles:
        value = body[key]
        index = {"email_address": store.by_email, "phone": store.by_phone}.get(key, {})
        matches = [store.profiles[b] for b in sorted(index.get(value, ()))]
        if visible is not None:
            matches = [p for p in matches if p.braze_id in visible]
        if not matches:
            invalid.append(value)
        for profile in matches:
            found.setdefault(profile.braze_id, profile)

    users = []
    for braze_id, profile in found.items():
        full = visible[braze_id] if visible is not None else profile.as_dict()
        users.append(_project(full, fields))
    response: dict[str, Any] = {"message": "success", "users": users}
    if invalid:
        response["invalid_user_ids"] = invalid
    return response


def _is_alias(alias: Any) -> bool:
    return (
        isinstance(alias, dict)
        and isinstance(alias.get("alias_name"), str)
        and isinstance(alias.get("alias_label"), str)
    )


def _fields(requested: Any, settings: Settings) -> frozenset[str]:
    if requested is None:
        if settings.export_require_fields:
            raise errors.InvalidExportRequest("'fields_to_export' is required")
        return EXPORT_FIELDS
    if not isinstance(requested, list) or not all(isinstance(f, str) for f in requested):
        raise errors.InvalidExportRequest("'fields_to_export' must be an array of strings")
    unknown = sorted(set(requested) - EXPORT_FIELDS)
    if unknown and settings.export_reject_unknown_fields:
        raise errors.InvalidExportRequest(
            f"Unknown field(s) in 'fields_to_export': {', '.join(unknown)}"
        )
    return frozenset(requested) & EXPORT_FIELDS


def _project(user: dict[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    """Braze returns the least data possible: empty and null fields are left out."""
    out: dict[str, Any] = {}
    for name in fields:
        if name == "last_coordinates":
            location = user.get("current_location")
            value = [location["longitude"], location["latitude"]] if location else None
        else:
            value = user.get(name)
        if value is None or value == [] or value == {}:
            continue
        out[name] = copy.deepcopy(value)
    return out
