"""Profiles and their indexes: identifier resolution and applying attribute operations.

Pure in-memory state: no HTTP. Resolution follows reference §2.3 (email and phone lookups pick
the most recently updated profile that has an external_id, else the most recently updated one).
"""

from __future__ import annotations

import copy
import os
from typing import Any

from braze_emulator import errors
from braze_emulator.attributes import Op, cap_array
from braze_emulator.settings import Settings

# braze_ids: 24 random hex digits, cut from one os.urandom draw per 4,096 ids (secrets.token_hex
# per id cost three Python frames and a system call).
_ID_BATCH = 4096


class Profile:
    __slots__ = (
        "braze_id", "external_id", "aliases", "fields", "custom", "created_at",
        "updated_at", "updated_seq", "data_points", "event_summary", "purchase_summary",
        "revenue",
    )

    def __init__(self, braze_id: str, now: str):
        self.braze_id = braze_id
        self.external_id: str | None = None
        self.aliases: list[tuple[str, str]] = []
        self.fields: dict[str, Any] = {}
        self.custom: dict[str, Any] = {}
        self.created_at = now
        self.updated_at = now
        self.updated_seq = 0
        self.data_points = 0
        self.event_summary: dict[str, list[Any]] = {}
        self.purchase_summary: dict[str, list[Any]] = {}
        self.revenue = 0.0

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "braze_id": self.braze_id,
            "external_id": self.external_id,
            "user_aliases": [{"alias_name": n, "alias_label": lb} for n, lb in self.aliases],
        }
        data.update(self.fields)
        data["custom_attributes"] = self.custom
        data["created_at"] = self.created_at
        data["updated_at"] = self.updated_at
        data["data_points"] = self.data_points
        data["custom_events"] = _summaries(self.event_summary)
        data["purchases"] = _summaries(self.purchase_summary)
        data["total_revenue"] = self.revenue
        return data


def _summaries(summary: dict[str, list[Any]]) -> list[dict[str, Any]]:
    return [
        {"name": name, "first": first, "last": last, "count": count}
        for name, (first, last, count) in summary.items()
    ]


class Store:
    def __init__(self) -> None:
        self.profiles: dict[str, Profile] = {}
        self.by_external: dict[str, Profile] = {}
        self.by_alias: dict[tuple[str, str], Profile] = {}
        self.by_email: dict[str, set[str]] = {}
        self.by_phone: dict[str, set[str]] = {}
        self._seq = 0
        self._ids: list[str] = []  # unused random braze_ids (new_braze_id)

    # -- identity ---------------------------------------------------------------------------

    def new_braze_id(self) -> str:
        while True:
            if not self._ids:
                pool = os.urandom(12 * _ID_BATCH).hex()
                self._ids = [pool[i:i + 24] for i in range(0, len(pool), 24)]
            braze_id = self._ids.pop()
            if braze_id not in self.profiles:
                return braze_id

    def create_external(self, external_id: str, now: str) -> Profile:
        """`resolve` of an unknown external_id that may create: a new profile with that id
        (the caller checked that the id is free)."""
        profile = Profile(self.new_braze_id(), now)
        profile.external_id = external_id
        self.profiles[profile.braze_id] = profile
        self.by_external[external_id] = profile
        return profile

    def create(self, now: str, braze_id: str | None = None) -> Profile:
        braze_id = braze_id or self.new_braze_id()
        if braze_id in self.profiles:
            raise errors.ControlError(f"braze_id {braze_id} already exists")
        profile = Profile(braze_id, now)
        self.profiles[braze_id] = profile
        return profile

    def set_external_id(self, profile: Profile, external_id: str) -> None:
        if external_id in self.by_external:
            raise errors.ControlError(f"external_id {external_id!r} already exists")
        profile.external_id = external_id
        self.by_external[external_id] = profile

    def add_alias(self, profile: Profile, alias: tuple[str, str]) -> None:
        if alias in self.by_alias:
            raise errors.ControlError(f"user alias {alias!r} already exists")
        profile.aliases.append(alias)
        self.by_alias[alias] = profile

    def find(self, id_type: str, value: Any) -> Profile | None:
        if id_type == "external_id":
            return self.by_external.get(value)
        if id_type == "braze_id":
            return self.profiles.get(value)
        if id_type == "user_alias":
            return self.by_alias.get(value)
        index = self.by_email if id_type == "email" else self.by_phone
        candidates = [self.profiles[b] for b in index.get(value, ())]
        if not candidates:
            return None
        identified = [p for p in candidates if p.external_id is not None]
        return max(identified or candidates, key=lambda p: p.updated_seq)

    def resolve(
        self, id_type: str, value: Any, update_only: bool, now: str, settings: Settings
    ) -> tuple[Profile | None, bool]:
        """Return (profile, created). None: the object is skipped (update-only, no user)."""
        profile = self.find(id_type, value)
        if profile is not None:
            return profile, False
        if id_type == "braze_id":
            if settings.unknown_braze_id == "error":
                raise errors.UnknownBrazeId()
            return None, False
        if update_only:
            if settings.update_only_missing_user == "error":
                raise errors.UserNotFound()
            return None, False
        profile = self.create(now)
        if id_type == "external_id":
            self.set_external_id(profile, value)
        elif id_type == "user_alias":
            self.add_alias(profile, value)
        else:
            self.set_field(profile, id_type, value)
        return profile, True

    def touch(self, profile: Profile, now: str) -> None:
        self._seq += 1
        profile.updated_seq = self._seq
        profile.updated_at = now

    # -- writes -----------------------------------------------------------------------------

    def set_field(self, profile: Profile, name: str, value: Any) -> None:
        if name in ("email", "phone"):
            index = self.by_email if name == "email" else self.by_phone
            old = profile.fields.get(name)
            if old is not None and old in index:
                index[old].discard(profile.braze_id)
                if not index[old]:
                    del index[old]
            if value is not None:
                index.setdefault(value, set()).add(profile.braze_id)
        if value is None:
            profile.fields.pop(name, None)
        else:
            profile.fields[name] = value

    def check_ops(self, profile: Profile, ops: list[Op], settings: Settings) -> None:
        """State-dependent checks, all before any write, so an object applies whole or not."""
        for op, name, value, _points, _nested in ops:
            if op == "inc":
                current = profile.custom.get(name)
                if current is not None and (
                    isinstance(current, bool) or not isinstance(current, int | float)
                ):
                    raise errors.IncOnNonNumeric()
            elif op == "array":
                _array_update(profile.custom.get(name), value, settings)  # raises over the cap

    def apply_plain(self, profile: Profile, obj: dict[str, Any]) -> int:
        """Apply an object that passed `plain_external_id`; one data point per value."""
        custom = profile.custom
        if None in obj.values():
            points = 0
            for name, value in obj.items():
                if name == "external_id" or name == "_update_existing_only":
                    continue
                points += 1
                if value is None:
                    custom.pop(name, None)
                else:
                    custom[name] = value
            return points
        custom.update(obj)  # reserved names never live among custom attributes
        del custom["external_id"]
        if "_update_existing_only" in obj:
            del custom["_update_existing_only"]
            return len(obj) - 2
        return len(obj) - 1

    def apply_sets(self, profile: Profile, sets: dict[str, Any]) -> int:
        """Plain custom attribute writes; one data point each, changed or not."""
        custom = profile.custom
        for name, value in sets.items():
            if value is None:
                custom.pop(name, None)
            else:
                custom[name] = value
        return len(sets)

    def apply_ops(
        self, profile: Profile, ops: list[Op], skip_nested: bool, settings: Settings
    ) -> int:
        """Apply attribute operations; return the data points they cost."""
        custom = profile.custom
        points = 0
        for op, name, value, cost, nested in ops:
            if nested and skip_nested:
                continue
            points += cost
            if op == "set":
                if value is None:
                    custom.pop(name, None)
                else:
                    custom[name] = copy.deepcopy(value) if nested else value
            elif op == "field":
                self.set_field(profile, name, value)
            elif op == "inc":
                custom[name] = (custom.get(name) or 0) + value
            elif op == "array":
                custom[name] = _array_update(custom.get(name), value, settings)
            elif op == "merge":
                current = custom.get(name)
                base = copy.deepcopy(current) if isinstance(current, dict) else {}
                custom[name] = _deep_merge(base, value)
            elif op == "objects":
                custom[name] = _object_array_update(custom.get(name), value)
        return points


def _array_update(current: Any, change: dict[str, Any], settings: Settings) -> list[Any]:
    values = list(current) if isinstance(current, list) else []
    for item in change.get("add", []):
        if item in values:
            values.remove(item)  # a re-added value moves to the end
        values.append(item)
    removed = change.get("remove", [])
    if removed:
        values = [item for item in values if item not in removed]
    return cap_array(values, settings)


def _deep_merge(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    for key, value in change.items():
        mergeable = isinstance(value, dict) and value.keys() != {"$time"}
        if mergeable and isinstance(base.get(key), dict):
            base[key] = _deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _object_array_update(current: Any, change: dict[str, Any]) -> list[Any]:
    items = copy.deepcopy(current) if isinstance(current, list) else []
    for spec in change.get("$remove", []):
        key, wanted = spec["$identifier_key"], spec["$identifier_value"]
        items = [i for i in items if not (isinstance(i, dict) and i.get(key) == wanted)]
    for spec in change.get("$update", []):
        key, wanted = spec["$identifier_key"], spec["$identifier_value"]
        for item in items:
            if isinstance(item, dict) and item.get(key) == wanted:
                _deep_merge(item, spec["$new_object"])
    items.extend(copy.deepcopy(change.get("$add", [])))
    return items
