"""Scenario runner: after every step (dbt build + sync) the emulator equals the oracle's truth,
every event arrived exactly once, and the data points spent equal the minimum."""

from __future__ import annotations

import pytest

from tests.reliability.oracle import Oracle
from tests.reliability.runner import compare, land
from tests.reliability.scenarios import SCENARIOS


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_reaches_truth_at_minimum_cost(name, pipeline, emulator):
    steps, known_profiles = SCENARIOS[name]()
    emulator.create_profiles(
        [{"braze_id": b, "external_id": e} if e else {"braze_id": b}
         for b, e in known_profiles.items()]
    )
    oracle = Oracle()
    for number, step in enumerate(steps, start=1):
        land(pipeline.landing, step)
        oracle.apply(step)
        pipeline.cycle()
        state = emulator.state()
        problems = compare(state, oracle)
        assert not problems, f"step {number}:\n" + "\n".join(problems)
        assert state["data_points"]["total"] == oracle.data_points, f"step {number}"
