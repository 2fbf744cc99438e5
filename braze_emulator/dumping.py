"""GET /_emulator/state: one consistent dump, filtered by query parameters.

include=profiles,events,purchases,data_points,counters,requests,faults_seen,settings,faults
    (default: all); external_id=X or braze_id=X narrows profiles, events and purchases;
event_name=N narrows events; path=P narrows requests; last=N keeps the last N events,
purchases and requests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from braze_emulator.errors import ControlError

if TYPE_CHECKING:
    from braze_emulator.model import Backend

SECTIONS = (
    "profiles", "events", "purchases", "data_points", "counters", "requests", "faults_seen",
    "settings", "faults",
)
FILTERS = frozenset({"include", "external_id", "braze_id", "event_name", "path", "last"})


def dump_state(backend: Backend, query: dict[str, str]) -> dict[str, Any]:
    unknown = sorted(set(query) - FILTERS)
    if unknown:
        raise ControlError(f"unknown state filter(s): {', '.join(unknown)}")
    include = query.get("include")
    sections = SECTIONS if not include else tuple(s for s in include.split(",") if s)
    bad = sorted(set(sections) - set(SECTIONS))
    if bad:
        raise ControlError(f"unknown state section(s): {', '.join(bad)}")
    try:
        last = int(query["last"]) if "last" in query else None
    except ValueError:
        raise ControlError("'last' must be an integer") from None
    wanted = _wanted_profile(backend, query)
    out: dict[str, Any] = {}
    if "profiles" in sections:
        profiles = backend.store.profiles.values()
        if wanted is not None:
            profiles = [p for p in profiles if p.braze_id == wanted]
        out["profiles"] = [p.as_dict() for p in profiles]
    for section in ("events", "purchases"):
        if section in sections:
            records = getattr(backend, section)
            if wanted is not None:
                records = [r for r in records if r["braze_id"] == wanted]
            if section == "events" and "event_name" in query:
                records = [r for r in records if r["name"] == query["event_name"]]
            out[section] = _tail(records, last)
    if "data_points" in sections:
        out["data_points"] = dict(backend.data_points)
    if "counters" in sections:
        out["counters"] = backend.counters
    if "requests" in sections:
        requests = list(backend.request_log)
        if "path" in query:
            requests = [r for r in requests if r["path"] == query["path"]]
        out["requests"] = _tail(requests, last)
    if "faults_seen" in sections:
        out["faults_seen"] = list(backend.faults_seen)
    if "settings" in sections:
        out["settings"] = backend.settings.public()
    if "faults" in sections:
        out["faults"] = backend.faults.describe()
    return out  # encoded at once by the caller, before any other request can change it


def _wanted_profile(backend: Backend, query: dict[str, str]) -> str | None:
    if "external_id" in query:
        profile = backend.store.by_external.get(query["external_id"])
        return profile.braze_id if profile else "-"
    if "braze_id" in query:
        return query["braze_id"]
    return None


def _tail(records: list[Any], last: int | None) -> list[Any]:
    if last is None:
        return list(records)
    return list(records[-last:]) if last > 0 else []
