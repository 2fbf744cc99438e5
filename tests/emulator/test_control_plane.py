"""The control plane under /_emulator/ and the start-up options."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import requests

from braze_emulator.testing import EmulatorError, run_emulator
from tests.emulator.helpers import attrs, event, export, track


def test_unknown_control_routes_fail_loudly(emulator):
    for method, path in (("POST", "/_emulator/nope"), ("GET", "/_emulator/reset"),
                         ("POST", "/_emulator/state")):
        response = requests.request(method, f"{emulator.base_url}{path}", timeout=5)
        assert response.status_code == 404
        assert "unknown control route" in response.json()["message"]


def test_bad_control_bodies(emulator):
    response = requests.post(f"{emulator.base_url}/_emulator/faults", data=b"[1]", timeout=5)
    assert response.status_code == 400
    with pytest.raises(EmulatorError, match="unknown setting"):
        emulator.set_settings(no_such_knob=1)
    with pytest.raises(EmulatorError, match="unknown state filter"):
        emulator.state(colour="red")
    with pytest.raises(EmulatorError, match="unknown state section"):
        emulator.state(include="profiles,everything")


def test_create_profiles_validates_and_is_all_or_nothing(emulator):
    with pytest.raises(EmulatorError):
        emulator.create_profiles([{"external_id": "a"}, {"external_id": "b", "colour": 1}])
    with pytest.raises(EmulatorError):
        emulator.create_profiles([{"email": "not-an-email"}])
    assert emulator.state()["profiles"] == []
    ids = emulator.create_profiles([{"external_id": "a", "braze_id": "a" * 24,
                                     "fields": {"first_name": "Ann"}}])
    assert ids == ["a" * 24]
    assert emulator.profile(external_id="a")["first_name"] == "Ann"
    with pytest.raises(EmulatorError, match="exists"):
        emulator.create_profiles([{"external_id": "a"}])


def test_keys_can_be_added_and_removed(emulator):
    emulator.add_key("k2", ["users.track"], name="second")
    assert track(emulator, {"attributes": [attrs("u1", a=1)]}, key="k2").status_code == 201
    requests.post(f"{emulator.base_url}/_emulator/keys", json={"key": "k2", "remove": True},
                  timeout=5)
    assert track(emulator, {"attributes": [attrs("u1", a=1)]}, key="k2").status_code == 401
    settings = emulator.state(include="settings")["settings"]
    assert {k["name"] for k in settings["keys"]} == {"default"}
    assert emulator.api_key not in json.dumps(settings)


def test_state_dump_is_consistent(emulator):
    ids = emulator.create_profiles([{"external_id": "seed"}])
    track(emulator, {"attributes": [attrs("u1", a=1)], "events": [event("u1"), event("seed")],
                     "purchases": [{"external_id": "u1", "product_id": "p", "currency": "USD",
                                    "price": 1, "time": "2024-01-01T00:00:00Z"}]})
    export(emulator, {"external_ids": ["u1"], "fields_to_export": ["external_id"]})
    state = emulator.state()
    assert set(state) == {"profiles", "events", "purchases", "data_points", "counters",
                          "requests", "faults_seen", "settings", "faults"}
    assert state["data_points"] == {"total": 4, "attributes": 1, "events": 2, "purchases": 1}
    assert sum(p["data_points"] for p in state["profiles"]) == 4
    assert state["counters"]["requests_by_path"] == {"/users/track": 1, "/users/export/ids": 1}
    seed_events = emulator.state(braze_id=ids[0])["events"]
    assert [e["external_id"] for e in seed_events] == ["seed"]
    assert emulator.state(external_id="nobody")["events"] == []
    assert [r["path"] for r in emulator.state(path="/users/export/ids")["requests"]] == [
        "/users/export/ids"]


def test_store_events_off_keeps_counters(emulator):
    emulator.set_settings(store_events=False)
    track(emulator, {"events": [event("u1")] * 3})
    state = emulator.state()
    assert state["events"] == [] and state["counters"]["events_stored"] == 3
    assert state["data_points"]["events"] == 3


def _start(args):
    process = subprocess.Popen([sys.executable, "-m", "braze_emulator", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = process.stdout.readline().decode().strip()
    return process, line


def test_cli_single_process_latency_and_config(tmp_path):
    config = tmp_path / "emulator.json"
    config.write_text(json.dumps({
        "keys": {"reader-key": {"name": "reader", "permissions": ["users.export.ids"]}},
        "rate_limit_header_style": "delta",
    }))
    process, base_url = _start(["--port", "0", "--api-key", "main-key", "--latency-ms", "120",
                                "--config", str(config), "--workers", "0"])
    try:
        assert base_url.startswith("http://127.0.0.1:")
        body = {"attributes": [attrs("u1", a=1)]}
        started = time.monotonic()
        response = requests.post(f"{base_url}/users/track", json=body,
                                 headers={"Authorization": "Bearer main-key"}, timeout=5)
        assert response.status_code == 201 and time.monotonic() - started >= 0.12
        assert int(response.headers["X-RateLimit-Reset"]) <= 3
        denied = requests.post(f"{base_url}/users/track", json=body,
                               headers={"Authorization": "Bearer reader-key"}, timeout=5)
        assert denied.status_code == 403
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_cli_rejects_bad_config(tmp_path):
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"batch_limit_mode": "huge"}))
    result = subprocess.run([sys.executable, "-m", "braze_emulator", "--config", str(config),
                             "--api-key", "k"], capture_output=True, timeout=30)
    assert result.returncode != 0 and b"batch_limit_mode" in result.stderr
    result = subprocess.run([sys.executable, "-m", "braze_emulator"], capture_output=True,
                            timeout=30)
    assert result.returncode != 0 and b"--api-key" in result.stderr


def test_run_emulator_context_manager_stops_the_workers():
    with run_emulator(api_key="ctx-key", latency_ms=0) as emu:
        assert emu.api_key == "ctx-key"
        response = track(emu, {"attributes": [attrs("u1", a=1)]})
        assert response.status_code == 201
        url = emu.base_url
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/_emulator/state", timeout=2)
