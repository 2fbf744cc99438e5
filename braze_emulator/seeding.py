"""Pre-creating profiles through the control plane, so tests can use braze_ids Braze assigned."""

from __future__ import annotations

from typing import Any

from braze_emulator import errors
from braze_emulator.attributes import parse_attributes
from braze_emulator.settings import Settings
from braze_emulator.store import Store

SPEC_KEYS = frozenset({
    "braze_id", "external_id", "user_alias", "user_aliases", "email", "phone",
    "custom_attributes", "fields",
})


def create_profiles(store: Store, specs: Any, now: str, settings: Settings) -> list[str]:
    """specs: [{"external_id"?, "braze_id"?, "user_aliases"? [{alias_name, alias_label}],
    "email"?, "phone"?, "custom_attributes"? {..}, "fields"? {first_name: ..}}, ...].

    Values go through the same attribute rules as /users/track; no data points are billed.
    All specs are checked before any profile is created.
    """
    if not isinstance(specs, list) or not all(isinstance(s, dict) for s in specs):
        raise errors.ControlError("'profiles' must be an array of objects")
    prepared = []
    for spec in specs:
        unknown = sorted(set(spec) - SPEC_KEYS)
        if unknown:
            raise errors.ControlError(f"unknown profile key(s): {', '.join(unknown)}")
        aliases = list(spec.get("user_aliases") or [])
        if spec.get("user_alias"):
            aliases.append(spec["user_alias"])
        attrs = {**(spec.get("fields") or {}), **(spec.get("custom_attributes") or {})}
        for key in ("email", "phone"):
            if spec.get(key) is not None:
                attrs[key] = spec[key]
        try:
            sets, ops, _, _ = parse_attributes(attrs, "seed", settings)
        except errors.ObjectError as exc:
            raise errors.ControlError(f"invalid profile attributes: {exc.text}") from None
        external_id = spec.get("external_id")
        if external_id is not None and (
            not isinstance(external_id, str) or external_id in store.by_external
        ):
            raise errors.ControlError(f"external_id {external_id!r} is invalid or exists")
        prepared.append((spec, aliases, sets, ops))
    created = []
    for spec, aliases, sets, ops in prepared:
        profile = store.create(now, spec.get("braze_id"))
        if spec.get("external_id") is not None:
            store.set_external_id(profile, spec["external_id"])
        for alias in aliases:
            store.add_alias(profile, (alias["alias_name"], alias["alias_label"]))
        store.apply_sets(profile, sets)
        store.apply_ops(profile, ops, False, settings)
        created.append(profile.braze_id)
    return created
