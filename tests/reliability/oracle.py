"""An independent model of the spec (spec/actioniq-extracts.md) in plain Python.

It knows nothing of the dbt models or the sync: given the deliveries of each step, it says what a
Braze workspace must hold after the step's `dbt build` + `python -m sync run`, and the minimum
number of data points that gets it there (every value sent is a change). The scenario tests hold
the whole pipeline to it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

Key = tuple[str, str]  # ("external_id" | "braze_id", value)


@dataclass
class Membership:
    delivery_id: str
    exported_at: str
    members: list[tuple[str, str, str | None, str | None]]
    splits: list[tuple[str, str]] = field(default_factory=list)  # listed, possibly empty
    retired: list[tuple[str, str]] = field(default_factory=list)

    def listed(self) -> set[tuple[str, str]]:
        return {(a, s) for a, s, _, _ in self.members} | set(self.splits)


@dataclass
class Attributes:
    delivery_id: str
    exported_at: str
    types: dict[str, str]
    rows: list[dict[str, Any]]


@dataclass
class Events:
    name: str
    events: list[dict[str, Any]]


@dataclass
class Step:
    membership: list[Membership] = field(default_factory=list)
    attributes: list[Attributes] = field(default_factory=list)
    events: list[Events] = field(default_factory=list)


class _People:
    """Union-find over identifiers: rows that share an identifier are one person."""

    def __init__(self) -> None:
        self.parent: dict[Key, Key] = {}

    def find(self, k: Key) -> Key:
        self.parent.setdefault(k, k)
        while self.parent[k] != k:
            self.parent[k] = self.parent[self.parent[k]]
            k = self.parent[k]
        return k

    def add(self, external_id: str | None, braze_id: str | None) -> Key:
        keys = [k for k in (("external_id", external_id), ("braze_id", braze_id)) if k[1]]
        root = self.find(keys[0])
        for k in keys[1:]:
            other = self.find(k)
            if other != root:
                self.parent[other] = root
        return self.find(keys[0])

    def groups(self) -> dict[Key, list[Key]]:
        out: dict[Key, list[Key]] = {}
        for k in list(self.parent):
            out.setdefault(self.find(k), []).append(k)
        return out


class Oracle:
    def __init__(self, retired_value: bool | None = False) -> None:
        self.retired_value = retired_value
        self.people = _People()
        self.membership: list[Membership] = []
        self.attributes: list[Attributes] = []
        self.event_ids: set[str] = set()
        self.held: dict[Key, dict[str, Any]] = {}  # what Braze holds from us, per profile key
        self.events: list[tuple[Key, str, str, dict[str, Any]]] = []
        self.data_points = 0

    # -- identity ---------------------------------------------------------------------------
    def target(self, ids: list[Key]) -> Key:
        pinned = [k for k in ids if self.held.get(k)]
        if pinned:
            return sorted(pinned)[0]
        ext = sorted(k for k in ids if k[0] == "external_id")
        return ext[0] if ext else sorted(ids)[0]

    # -- one step -----------------------------------------------------------------------------
    def apply(self, step: Step) -> None:
        for m in step.membership:
            for _, _, ext, bz in m.members:
                self.people.add(ext, bz)
        for a in step.attributes:
            for row in a.rows:
                self.people.add(row.get("external_id"), row.get("braze_id"))
        for e in step.events:
            for ev in e.events:
                self.people.add(ev.get("external_id"), ev.get("braze_id"))
        self.membership += step.membership
        self.attributes += step.attributes

        desired: dict[Key, dict[str, Any]] = {}
        target = {root: self.target(ids) for root, ids in self.people.groups().items()}

        def want(root: Key, attr: str, value: Any) -> None:
            desired.setdefault(target[root], {})[attr] = value

        # Membership: per split, the newest delivery that mentions it decides.
        newest: dict[tuple[str, str], Membership] = {}
        retired: dict[tuple[str, str], str] = {}
        for m in sorted(self.membership, key=lambda m: m.exported_at):
            for split in m.listed():
                newest[split] = m
                retired.pop(split, None)
            for split in m.retired:
                retired[split] = m.exported_at
                newest.pop(split, None)
        current: dict[str, set[Key]] = {}
        for (a, s), m in newest.items():
            attr = f"AIQ_{a}_{s}"
            current[attr] = {
                target[self.people.find(self._key(ext, bz))]
                for aa, ss, ext, bz in m.members
                if (aa, ss) == (a, s)
            }
        for attr, members in current.items():
            for key in members:
                desired.setdefault(key, {})[attr] = True
            for key, values in self.held.items():
                if values.get(attr) is True and key not in members:
                    desired.setdefault(key, {})[attr] = False
        for a, s in retired:
            attr = f"AIQ_{a}_{s}"
            for key, values in self.held.items():
                if attr in values and values[attr] is not self.retired_value:
                    if self.retired_value is None or values[attr] is True:
                        desired.setdefault(key, {})[attr] = self.retired_value

        # Custom attributes: per attribute, the newest delivery that lists it is a full snapshot.
        newest_attr: dict[str, Attributes] = {}
        for d in sorted(self.attributes, key=lambda d: d.exported_at):
            for name in d.types:
                newest_attr[name] = d
        for name, d in newest_attr.items():
            present: set[Key] = set()
            for row in d.rows:
                value = row.get(name)
                if value is None:
                    continue
                key = target[self.people.find(self._key(row.get("external_id"),
                                                        row.get("braze_id")))]
                present.add(key)
                want(self.people.find(key), name, _typed(value, d.types[name]))
            for key, values in self.held.items():
                if values.get(name) is not None and key not in present:
                    desired.setdefault(key, {})[name] = None

        # Send the diff.
        for key, values in desired.items():
            held = self.held.setdefault(key, {})
            for attr, value in values.items():
                if attr in held and json.dumps(held[attr]) == json.dumps(value):
                    continue
                if attr not in held and value is None:
                    continue
                held[attr] = value
                self.data_points += 1

        for e in step.events:
            for ev in e.events:
                if ev["event_id"] in self.event_ids:
                    continue
                self.event_ids.add(ev["event_id"])
                root = self.people.find(self._key(ev.get("external_id"), ev.get("braze_id")))
                props = dict(ev.get("properties") or {})
                props.update({k: v for k, v in ev.items() if k not in _EVENT_FIELDS})
                self.events.append((target[root], ev["event_name"], ev["event_time"], props))
                self.data_points += 1

    @staticmethod
    def _key(ext: str | None, bz: str | None) -> Key:
        return ("external_id", ext) if ext else ("braze_id", bz)  # type: ignore[return-value]

    def profiles(self) -> dict[Key, dict[str, Any]]:
        """Profile key -> the custom attributes Braze must show (nulls removed)."""
        return {
            k: {a: v for a, v in vals.items() if v is not None}
            for k, vals in self.held.items()
            if any(v is not None for v in vals.values())
        }


_EVENT_FIELDS = {"event_id", "event_name", "external_id", "braze_id", "event_time", "properties"}


def _typed(value: Any, kind: str) -> Any:
    if kind == "number":
        number = float(value)
        return int(number) if number.is_integer() and "." not in str(value) else number
    if kind == "boolean":
        return str(value).lower() == "true"
    return value
