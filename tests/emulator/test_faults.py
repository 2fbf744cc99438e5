"""Fault injection, latency and what each fault leaves applied."""

from __future__ import annotations

import time

import pytest
import requests

from braze_emulator.testing import EmulatorError
from tests.emulator.helpers import attrs, event, track


def value(emulator):
    profile = emulator.profile(external_id="u1")
    return profile["custom_attributes"].get("v") if profile else None


def test_scripted_status_faults_are_not_applied(emulator):
    emulator.set_faults(sequence=["500", "502", "503", "504", "429", "ok"])
    statuses = [track(emulator, {"attributes": [attrs("u1", v=i)]}).status_code
                for i in range(7)]
    assert statuses == [500, 502, 503, 504, 429, 201, 201]
    assert value(emulator) == 6
    kinds = [f["kind"] for f in emulator.state()["faults_seen"]]
    assert kinds == ["500", "502", "503", "504", "429"]


def test_injected_429_carries_rate_limit_headers(emulator):
    emulator.set_faults(sequence=["429"])
    response = track(emulator, {"attributes": [attrs("u1", v=1)]})
    assert response.status_code == 429 and response.headers["X-RateLimit-Remaining"] == "0"


def test_connection_reset_is_not_applied(emulator):
    emulator.set_faults(sequence=["reset"])
    with pytest.raises(requests.ConnectionError):
        track(emulator, {"events": [event("u1")]})
    assert emulator.state()["events"] == []
    assert emulator.state()["requests"][-1]["status"] == "reset"


def test_drop_after_apply_applies_then_drops(emulator):
    emulator.set_faults(sequence=["drop_after_apply"])
    with pytest.raises(requests.ConnectionError):
        track(emulator, {"events": [event("u1")]})
    state = emulator.state()
    assert len(state["events"]) == 1  # applied: a retry would duplicate it
    assert state["requests"][-1]["status"] == "dropped"
    assert state["requests"][-1]["applied_status"] == 201


def test_hang_never_answers_and_is_not_applied(emulator):
    emulator.set_latency(hang_seconds=1.5)
    emulator.set_faults(sequence=["hang"])
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        requests.post(f"{emulator.base_url}/users/track", json={"events": [event("u1")]},
                      headers={"Authorization": f"Bearer {emulator.api_key}"}, timeout=0.5)
    assert time.monotonic() - started < 1.4
    assert emulator.state()["events"] == []
    assert track(emulator, {"events": [event("u1")]}).status_code == 201


def test_sequences_are_per_path(emulator):
    emulator.set_faults(sequence=["503"], path="/users/export/ids")
    assert track(emulator, {"attributes": [attrs("u1", v=1)]}).status_code == 201
    response = requests.post(
        f"{emulator.base_url}/users/export/ids",
        json={"external_ids": ["u1"], "fields_to_export": ["external_id"]},
        headers={"Authorization": f"Bearer {emulator.api_key}"}, timeout=5)
    assert response.status_code == 503


def test_fault_rates_with_seed_are_reproducible(emulator):
    def run():
        emulator.reset()
        emulator.set_faults(rates={"503": 0.3, "500": 0.2}, seed=42)
        return [track(emulator, {"attributes": [attrs("u1", v=i)]}).status_code
                for i in range(40)]

    first, second = run(), run()
    assert first == second
    assert 5 <= first.count(503) <= 20 and 2 <= first.count(500) <= 16
    assert first.count(201) + first.count(503) + first.count(500) == 40
    assert len(emulator.state()["faults_seen"]) == 40 - first.count(201)


def test_rates_limited_to_paths_and_clear(emulator):
    emulator.set_faults(rates={"503": 1.0}, paths=["/users/export/ids"])
    assert track(emulator, {"attributes": [attrs("u1", v=1)]}).status_code == 201
    emulator.set_faults(rates={"503": 1.0}, paths=None)
    assert track(emulator, {"attributes": [attrs("u1", v=1)]}).status_code == 503
    emulator.set_faults(clear=True)
    assert track(emulator, {"attributes": [attrs("u1", v=1)]}).status_code == 201


def test_bad_fault_specs_fail_loudly(emulator):
    with pytest.raises(EmulatorError, match="unknown fault kind"):
        emulator.set_faults(sequence=["418"])
    with pytest.raises(EmulatorError, match="more than 1"):
        emulator.set_faults(rates={"503": 0.7, "500": 0.7})
    with pytest.raises(EmulatorError, match="unknown fault option"):
        emulator.set_faults(rate=0.5)


def test_latency_fixed_and_jitter(emulator):
    emulator.set_latency(latency_ms=150, jitter_ms=100)
    timings = []
    for _ in range(4):
        started = time.monotonic()
        track(emulator, {"attributes": [attrs("u1", v=1)]})
        timings.append(time.monotonic() - started)
    assert all(0.15 <= t < 0.6 for t in timings)
    emulator.set_latency(latency_ms=0, jitter_ms=0)
    started = time.monotonic()
    track(emulator, {"attributes": [attrs("u1", v=1)]})
    assert time.monotonic() - started < 0.15
