"""Fault mixes and the loop that drives the main job through them until Braze holds the truth."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from tests.pipeline import Pipeline, last_json_line

# Faults the emulator injects at random (seeded), by kind: the kinds a production run meets.
FAULT_MIXES: dict[str, dict[str, Any]] = {
    "5xx": {"rates": {"500": 0.04, "502": 0.03, "503": 0.03}},
    "connection_resets": {"rates": {"reset": 0.08}},
    "lost_after_apply": {"rates": {"drop_after_apply": 0.08}},
    "timeouts": {"rates": {"hang": 0.04}},
    "429_storm": {"rates": {"429": 0.25}},
    "everything": {
        "rates": {"500": 0.03, "503": 0.03, "reset": 0.02, "hang": 0.01,
                  "drop_after_apply": 0.03, "429": 0.05}
    },
}

# Fast retries, and a short timeout so that a "hang" fault costs seconds, not minutes.
SYNC_ENV = {
    "AIQ_SYNC_BACKOFF_BASE_S": "0.02",
    "AIQ_SYNC_BACKOFF_CAP_S": "0.3",
    "AIQ_SYNC_REQUEST_TIMEOUT_S": "1.5",
    "AIQ_SYNC_MAX_RETRIES": "3",
    "AIQ_SYNC_CONCURRENCY": "8",
}

# A slow, small-batch sync for the kill and full-disk trials: many requests per run, so that a
# kill or a full disk lands in the middle of the send.
SLOW_OBJECTS_PER_REQUEST = 10
SLOW_CONCURRENCY = 4
SLOW_RATE_PER_S = 40
SLOW_SYNC_ENV = {
    "AIQ_SYNC_OBJECTS_PER_REQUEST": str(SLOW_OBJECTS_PER_REQUEST),
    "AIQ_SYNC_CONCURRENCY": str(SLOW_CONCURRENCY),
    "AIQ_SYNC_RATE_LIMIT": str(SLOW_RATE_PER_S),
    "AIQ_SYNC_RATE_WINDOW_S": "1",
}


def sync_until_done(pipeline: Pipeline, max_runs: int = 12) -> list[dict]:
    """Re-run `python -m sync run` as an orchestrator would until it exits 0 (exit 4 = work left
    pending after retries). Returns every run's JSON summary."""
    summaries = []
    for _ in range(max_runs):
        proc = pipeline.sync("run", check=False)
        # 0: done; 4: work left pending after retries (re-run later, nothing lost)
        assert proc.returncode in (0, 4), (proc.returncode, proc.stdout[-2000:], proc.stderr[-900:])
        summaries.append(last_json_line(proc.stdout))
        if proc.returncode == 0:
            return summaries
    raise AssertionError(f"still incomplete after {max_runs} runs: {summaries[-1]}")


def event_duplicates(state: dict) -> int:
    """Events Braze holds more than once (Braze does not de-duplicate)."""
    counts = Counter(
        json.dumps([e.get("braze_id"), e["name"], e["time"], e.get("properties")], sort_keys=True)
        for e in state["events"]
    )
    return sum(n - 1 for n in counts.values())


def distinct_events(state: dict) -> dict:
    seen: dict[str, dict] = {}
    for e in state["events"]:
        key = json.dumps([e.get("braze_id"), e["name"], e["time"], e.get("properties")],
                         sort_keys=True)
        seen.setdefault(key, e)
    return {**state, "events": list(seen.values())}
