"""Runs a scenario step by step through the real pipeline and checks the emulator against the
oracle after each step."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from extracts import write_attributes_delivery, write_events_file, write_membership_delivery
from tests.reliability.oracle import Oracle, Step


def land(landing, step: Step) -> None:
    for m in step.membership:
        write_membership_delivery(
            landing, m.delivery_id, m.exported_at, m.members, splits=m.splits, retired=m.retired
        )
    for a in step.attributes:
        write_attributes_delivery(landing, a.delivery_id, a.exported_at, a.types, a.rows)
    for e in step.events:
        write_events_file(landing, e.name, e.events)


def _time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _plain(value: Any) -> Any:
    """1.0 and 1 are the same JSON number to Braze."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _canon(value: Any) -> str:
    return json.dumps(_plain(value), sort_keys=True)


def compare(state: dict, oracle: Oracle) -> list[str]:
    """Differences between what the emulator holds and what the oracle says it must hold."""
    problems: list[str] = []
    by_key: dict[tuple[str, str], dict] = {}
    for p in state["profiles"]:
        by_key[("braze_id", p["braze_id"])] = p
        if p.get("external_id"):
            by_key[("external_id", p["external_id"])] = p
    expected = oracle.profiles()
    seen: set[str] = set()
    for key, attrs in expected.items():
        profile = by_key.get(key)
        if profile is None:
            problems.append(f"no Braze profile for {key}, expected {attrs}")
            continue
        seen.add(profile["braze_id"])
        got = profile.get("custom_attributes") or {}
        if _canon(got) != _canon(attrs):
            problems.append(f"{key}: Braze holds {got}, expected {attrs}")
    for p in state["profiles"]:
        if p["braze_id"] not in seen and p.get("custom_attributes"):
            problems.append(f"unexpected attributes on {p}")

    def event_sig(profile: dict | None, name: str, when: str, props: dict) -> str:
        who = profile["braze_id"] if profile else "?"
        return _canon([who, name, _time(when).isoformat(), props])

    want = sorted(event_sig(by_key.get(k), n, t, p) for k, n, t, p in oracle.events)
    got = sorted(
        event_sig(
            {"braze_id": e.get("braze_id")}, e["name"], e["time"], e.get("properties") or {}
        )
        for e in state["events"]
    )
    if want != got:
        missing = Counter(want) - Counter(got)
        extra = Counter(got) - Counter(want)
        problems.append(
            f"events differ: {sum(missing.values())} missing, e.g. {list(missing)[:3]}; "
            f"{sum(extra.values())} unexpected, e.g. {list(extra)[:3]}"
        )
    return problems
