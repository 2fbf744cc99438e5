"""The scenarios under faults: 5xx, 429 storms, connection resets, timeouts, responses lost after
Braze applied the request. Afterwards Braze holds the truth, no attribute change is lost, and
duplicate events stay within the documented bound (ADR 0011: only requests whose outcome was
unknown can duplicate, at most one batch of events each)."""

from __future__ import annotations

import pytest

from tests.reliability.faults import (
    FAULT_MIXES,
    SYNC_ENV,
    distinct_events,
    event_duplicates,
    sync_until_done,
)
from tests.reliability.oracle import Oracle
from tests.reliability.runner import compare, land
from tests.reliability.scenarios import crowd
from tests.reliability.trials import add_emulator_counts, add_sync_counts, trial

QUICK = ["everything"]  # make test; make soak runs every mix


def run_under_faults(pipeline, emulator, mix: str, seed: int, people: int, form: str) -> dict:
    with trial("faults", mix, seed, form=form, people=people) as row:
        result = _run_under_faults(pipeline, emulator, mix, seed, people, row)
        assert result["faults_seen"] > 0  # the faults really happened
    return result


def _run_under_faults(pipeline, emulator, mix: str, seed: int, people: int, row: dict) -> dict:
    steps, known = crowd(people=people, seed=seed)
    emulator.create_profiles(
        [{"braze_id": b, "external_id": e} if e else {"braze_id": b} for b, e in known.items()]
    )
    emulator.set_latency(latency_ms=5, jitter_ms=5, hang_seconds=4)
    emulator.set_faults(**FAULT_MIXES[mix], seed=seed)
    pipeline.extra_env.update(SYNC_ENV)
    oracle = Oracle()
    unknown_requests = 0
    for number, step in enumerate(steps, start=1):
        land(pipeline.landing, step)
        oracle.apply(step)
        pipeline.build()
        summaries = sync_until_done(pipeline)
        add_sync_counts(row, summaries)
        unknown_requests += sum(s.get("events_outcome_unknown", 0) for s in summaries)
        state = emulator.state()
        duplicates = event_duplicates(state)
        add_emulator_counts(row, emulator, oracle, duplicates)
        row["steps"] = number
        # Duplicated events are bounded below; the truth is checked on distinct events.
        problems = compare(distinct_events(state), oracle)
        assert not problems, f"{mix}, step {number}:\n" + "\n".join(problems[:20])
        row["duplicate_bound"] = 75 * unknown_requests
        assert duplicates <= 75 * unknown_requests, (duplicates, unknown_requests)
        # Every value the oracle needed was paid for; re-sends after lost responses cost more.
        assert state["data_points"]["total"] >= oracle.data_points
    return {"faults_seen": len(emulator.state(include="faults_seen")["faults_seen"]),
            "duplicates": event_duplicates(emulator.state()), "unknown": unknown_requests}


@pytest.mark.parametrize("mix", QUICK)
def test_faults_quick(pipeline, emulator, mix):
    run_under_faults(pipeline, emulator, mix, seed=11, people=400, form="short")


@pytest.mark.slow
@pytest.mark.parametrize("mix", sorted(FAULT_MIXES))
def test_faults_soak(pipeline, emulator, mix):
    run_under_faults(pipeline, emulator, mix, seed=101, people=1500, form="soak")
