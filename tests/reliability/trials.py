"""Per-trial results of the fault and kill trials, appended as JSON lines to a results file.

Each trial records its counts (faults seen, retries, 429s, unknown-outcome requests, duplicate
events, attribute values re-sent, data points spent against the oracle's minimum) and whether it
passed, even when it fails. `python -m tests.reliability.report` renders the file as the table
in docs/reliability.md. File: $AIQ_RELIABILITY_RESULTS, default target/reliability/trials.jsonl.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.pipeline import ROOT


def results_path() -> Path:
    default = ROOT / "target" / "reliability" / "trials.jsonl"
    return Path(os.environ.get("AIQ_RELIABILITY_RESULTS", default))


@contextmanager
def trial(kind: str, trial_id: str, seed: int, **fields: Any) -> Iterator[dict[str, Any]]:
    """Record one trial: the caller fills the yielded dict with its counts as they become known;
    the record is written when the trial ends, with `result` pass or fail."""
    row: dict[str, Any] = {
        "kind": kind, "trial": trial_id, "seed": seed, **fields,
        "started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
    }
    t0 = time.monotonic()
    try:
        yield row
    except BaseException as exc:
        row["result"] = "fail"
        row["error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
        raise
    else:
        row["result"] = "pass"
    finally:
        row["seconds"] = round(time.monotonic() - t0, 1)
        path = results_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(row, sort_keys=True) + "\n")


def add_sync_counts(row: dict[str, Any], summaries: list[dict]) -> None:
    """Add the sync runs' own counters (their JSON summaries) to a trial's record."""
    for key, name in (("retries", "retries"), ("rate_limited", "429s"),
                      ("events_outcome_unknown", "unknown_outcome_requests"),
                      ("requests", "requests")):
        row[name] = row.get(name, 0) + sum(int(s.get(key) or 0) for s in summaries)
    row["sync_runs"] = row.get("sync_runs", 0) + len(summaries)


def add_emulator_counts(row: dict[str, Any], emulator, oracle, duplicate_events: int) -> None:
    """Faults the emulator injected, and what was sent twice, from its recorded state, against
    the oracle's minimum (every attribute change and every event sent exactly once)."""
    state = emulator.state(include="counters,faults_seen,data_points")
    row["faults_injected"] = int(state["counters"].get("faults", 0))
    row["faults_by_kind"] = dict(Counter(f["kind"] for f in state["faults_seen"]))
    row["data_points"] = int(state["data_points"]["total"])
    row["data_points_minimum"] = oracle.data_points
    row["duplicate_events"] = duplicate_events
    attribute_minimum = oracle.data_points - len(oracle.events)
    row["attribute_values_resent"] = int(state["data_points"]["attributes"]) - attribute_minimum
