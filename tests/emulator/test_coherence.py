"""One consistent state whichever worker process took the connection; loud failures."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests

from tests.emulator.helpers import attrs, event, track


def test_concurrent_requests_over_many_connections_share_one_state(emulator):
    def send(worker: int) -> list[int]:
        session = requests.Session()  # its own connections, spread over the worker processes
        statuses = []
        for i in range(5):
            body = {"attributes": [attrs(f"u{worker}", n={"inc": 1})],
                    "events": [event("shared", properties={"w": worker, "i": i})]}
            response = session.post(
                f"{emulator.base_url}/users/track", json=body, timeout=10,
                headers={"Authorization": f"Bearer {emulator.api_key}"})
            statuses.append(response.status_code)
        return statuses

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(send, range(16)))
    assert all(status == 201 for statuses in results for status in statuses)
    state = emulator.state()
    assert len(state["events"]) == 80 and len({e["id"] for e in state["events"]}) == 80
    counts = {p["external_id"]: p["custom_attributes"]["n"] for p in state["profiles"]
              if p["external_id"].startswith("u")}
    assert counts == {f"u{w}": 5 for w in range(16)}
    assert state["counters"]["requests"] == 80
    assert state["data_points"]["total"] == 160
    assert [r["seq"] for r in state["requests"]] == list(range(1, 81))


def test_unknown_routes_are_reported_on_stderr(emulator):
    track(emulator, {"attributes": [attrs("u1", a=1)]})
    requests.post(f"{emulator.base_url}/users/alias/new", json={}, timeout=5)
    with open(emulator.log_path, encoding="utf-8") as log:
        assert "POST /users/alias/new" in log.read()
    assert emulator.state()["requests"][-1]["status"] == 404


def test_settings_changes_apply_at_once_in_every_worker(emulator):
    # Workers pre-check plain objects with the settings they last saw; the state process
    # must notice when those are stale and check again itself.
    for _ in range(4):
        assert track(emulator, {"attributes": [attrs("u1", s="abcdefg")]}).status_code == 201
    emulator.set_settings(max_string_length=5)
    for _ in range(4):
        response = track(emulator, {"attributes": [attrs("u1", s="abcdefg")]})
        assert response.status_code == 400
    emulator.set_settings(max_string_length=255, blocked_external_ids=["u1"])
    for _ in range(4):
        assert track(emulator, {"attributes": [attrs("u1", s="x")]}).status_code == 400


def test_event_rule_changes_apply_at_once_in_every_worker(emulator):
    for _ in range(4):
        assert track(emulator, {"events": [event("u1", "played")]}).status_code == 201
    emulator.set_settings(max_event_name_length=3)
    for _ in range(4):
        assert track(emulator, {"events": [event("u1", "played")]}).status_code == 400
    emulator.set_settings(max_event_name_length=255, max_event_properties=1)
    track(emulator, {"events": [event("u1", properties={"a": 1, "b": 2})]})
    assert emulator.state()["events"][-1]["properties"] == {"a": 1}
