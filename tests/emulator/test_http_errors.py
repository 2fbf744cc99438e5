"""Request-level answers of /users/track: status codes, bodies and the size rules."""

from __future__ import annotations

import json

import requests

from tests.emulator.helpers import attrs, event, track

NO_VALID = "Valid data must be provided in the 'attributes', 'events', or 'purchases' fields."


def raw_post(emulator, path, data, headers=None):
    base = {"Authorization": f"Bearer {emulator.api_key}", "Content-Type": "application/json"}
    base.update(headers or {})
    return requests.post(f"{emulator.base_url}{path}", data=data, headers=base, timeout=10)


def test_partial_success_counts_exclude_rejected(emulator):
    body = {"attributes": [attrs("u1", a=1), {"a": 1}, attrs("u2", a=1), {"b": 2}, {"c": 3}],
            "events": [event("u1"), {"external_id": "u1", "name": "x"}]}
    response = track(emulator, body)
    assert response.status_code == 201
    payload = response.json()
    assert payload["attributes_processed"] == 2 and payload["events_processed"] == 1
    assert [(e["input_array"], e["index"]) for e in payload["errors"]] == [
        ("attributes", 1), ("attributes", 3), ("attributes", 4), ("events", 1)
    ]


def test_all_rejected_array_has_no_processed_key(emulator):
    body = {"attributes": [attrs("u1", a=1)], "events": [{"external_id": "u1"}]}
    payload = track(emulator, body).json()
    assert "events_processed" not in payload and payload["attributes_processed"] == 1


def test_every_object_invalid_is_400_with_errors(emulator):
    response = track(emulator, {"attributes": [{"a": 1}], "events": [{"external_id": "u"}]})
    assert response.status_code == 400
    assert response.json()["message"] == NO_VALID
    assert len(response.json()["errors"]) == 2
    assert emulator.state()["profiles"] == []


def test_empty_body_is_400(emulator):
    for body in ({}, {"attributes": []}, {"partner": "x"}):
        response = track(emulator, body)
        assert response.status_code == 400
        assert response.json()["message"] == NO_VALID


def test_unknown_top_level_keys_are_ignored(emulator):
    assert track(emulator, {"partner": "RudderStack",
                            "attributes": [attrs("u1", a=1)]}).status_code == 201


def test_arrays_must_be_arrays(emulator):
    response = track(emulator, {"attributes": {"external_id": "u1"}})
    assert response.status_code == 400


def test_malformed_json_is_400(emulator):
    for data in (b"{not json", b'{"attributes": [NaN]}', b"\xff\xfe", b""):
        response = raw_post(emulator, "/users/track", data)
        assert response.status_code == 400
        assert response.json()["message"] == (
            "Error while parsing request body. Please check your syntax."
        )


def test_max_input_length_combined_and_legacy(emulator):
    seventy_five = {"attributes": [attrs(f"u{i}", a=1) for i in range(50)],
                    "events": [event(f"u{i}") for i in range(25)]}
    assert track(emulator, seventy_five).status_code == 201
    seventy_six = {**seventy_five, "purchases": [{"external_id": "u1"}]}
    response = track(emulator, seventy_six)
    assert response.status_code == 400
    assert response.json() == {"message": "Max Input Length Exceeded"}
    emulator.set_limits(batch_limit_mode="per_array")
    per_array = {"attributes": [attrs(f"u{i}", a=1) for i in range(75)],
                 "events": [event(f"u{i}") for i in range(75)]}
    assert track(emulator, per_array).status_code == 201
    per_array["events"].append(event("u1"))
    assert track(emulator, per_array).status_code == 400


def test_401_for_missing_wrong_or_quoted_keys(emulator):
    url = f"{emulator.base_url}/users/track"
    body = {"attributes": [attrs("u1", a=1)]}
    for headers in ({}, {"Authorization": "Bearer wrong"},
                    {"Authorization": f'Bearer "{emulator.api_key}"'},
                    {"Authorization": emulator.api_key},
                    {"Authorization": f"Basic {emulator.api_key}"}):
        response = requests.post(url, json=body, headers=headers, timeout=10)
        assert response.status_code == 401
        assert response.json() == {"message": "Invalid API Key"}
    assert emulator.state()["profiles"] == []


def test_legacy_body_key_only_when_enabled(emulator):
    url = f"{emulator.base_url}/users/track"
    body = {"api_key": emulator.api_key, "attributes": [attrs("u1", a=1)]}
    assert requests.post(url, json=body, timeout=10).status_code == 401
    emulator.set_settings(accept_body_api_key=True)
    assert requests.post(url, json=body, timeout=10).status_code == 201
    logged = emulator.state()["requests"][-1]
    assert logged["body"]["api_key"] == "[redacted]"


def test_403_when_key_lacks_permission(emulator):
    emulator.add_key("export-only", ["users.export.ids"], name="reader")
    response = track(emulator, {"attributes": [attrs("u1", a=1)]}, key="export-only")
    assert response.status_code == 403
    assert response.json() == {"message": "Access Denied"}
    emulator.add_key("tracker", ["users.track"])
    assert track(emulator, {"attributes": [attrs("u1", a=1)]}, key="tracker").status_code == 201
    assert emulator.state()["requests"][-1]["key"] == "key-3"


def test_404_for_unknown_paths_trailing_slash_and_wrong_method(emulator):
    body = json.dumps({"attributes": [attrs("u1", a=1)]})
    for path in ("/users/track/", "/users/trac", "/users/delete", "/v2/users/track"):
        response = raw_post(emulator, path, body)
        assert response.status_code == 404, path
        assert "does not implement" in response.json()["message"]
    response = requests.get(f"{emulator.base_url}/users/track", timeout=10)
    assert response.status_code == 404
    assert emulator.state()["profiles"] == []


def test_413_over_4_mb(emulator):
    filler = "x" * 200
    objects = [attrs(f"u{i}", **{f"k{j}": filler for j in range(20)}) for i in range(75)]
    body = json.dumps({"attributes": objects}) + " " * (4 * 1024 * 1024)
    response = raw_post(emulator, "/users/track", body)
    assert response.status_code == 413
    emulator.set_limits(max_body_bytes=1000)
    response = track(emulator, {"attributes": objects[:10]})
    assert response.status_code == 413


def test_415_without_json_content_type(emulator):
    data = json.dumps({"attributes": [attrs("u1", a=1)]})
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = raw_post(emulator, "/users/track", data, {"Content-Type": content_type})
        assert response.status_code == 415
    response = requests.post(f"{emulator.base_url}/users/track", data=data.encode(),
                             headers={"Authorization": f"Bearer {emulator.api_key}"}, timeout=10)
    assert response.status_code == 415
    ok = raw_post(emulator, "/users/track", data,
                  {"Content-Type": "application/json; charset=utf-8"})
    assert ok.status_code == 201


def test_request_log_never_holds_the_key(emulator):
    track(emulator, {"attributes": [attrs("u1", a=1)]})
    track(emulator, {"attributes": [attrs("u1", a=1)]}, key="wrong-key-123")
    dumped = json.dumps(emulator.state())
    assert emulator.api_key not in dumped and "wrong-key-123" not in dumped
    entries = emulator.state()["requests"]
    assert [e["key"] for e in entries] == ["default", "[redacted]"]
    assert [e["status"] for e in entries] == [201, 401]
    assert entries[0]["body"] == {"attributes": [attrs("u1", a=1)]}
    assert entries[0]["response"] == {"message": "success", "attributes_processed": 1}


def test_request_log_is_bounded_but_counters_complete(emulator):
    emulator.set_settings(request_log_size=5, request_log_bodies=2)
    emulator.reset()  # a reset restores start-up settings
    assert emulator.state(include="settings")["settings"]["request_log_size"] == 10000
    emulator.set_settings(request_log_size=5, request_log_bodies=2)
    for i in range(8):
        track(emulator, {"attributes": [attrs(f"u{i}", a=1)]})
    state = emulator.state()
    assert state["counters"]["requests"] == 8
    assert state["counters"]["objects_processed"]["attributes"] == 8
    assert state["data_points"]["total"] == 8
    assert [r["seq"] for r in state["requests"]] == [4, 5, 6, 7, 8]
    assert sum(1 for r in state["requests"] if "body" in r) == 2
