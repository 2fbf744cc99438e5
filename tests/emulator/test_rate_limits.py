"""Fixed-window rate limits and both documented header styles (reference §3)."""

from __future__ import annotations

import time

from tests.emulator.helpers import attrs, export, track

BODY = {"attributes": [attrs("u1", a=1)]}


def test_headers_on_every_response_epoch_style(emulator):
    for response in (track(emulator, BODY), track(emulator, {}),
                     track(emulator, BODY, key="bad")):
        assert response.headers["X-RateLimit-Limit"] == "3000"
        assert int(response.headers["X-RateLimit-Reset"]) > time.time() - 1
        assert int(response.headers["X-RateLimit-Reset"]) <= time.time() + 4
    assert track(emulator, BODY).headers["X-RateLimit-Remaining"] == "2997"
    response = export(emulator, {"external_ids": ["u1"], "fields_to_export": ["external_id"]})
    assert response.headers["X-RateLimit-Limit"] == "250"
    assert response.headers["X-RateLimit-Remaining"] == "249"
    assert int(response.headers["X-RateLimit-Reset"]) % 60 == 0  # clock-aligned window


def test_429_when_over_then_window_resets(emulator):
    emulator.set_limits(rate_limits={"/users/track": {"limit": 3, "window_seconds": 2}})
    # start at the beginning of a window so all requests land in it
    time.sleep(2 - (time.time() % 2) + 0.02)
    statuses = [track(emulator, BODY).status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    limited = track(emulator, BODY)
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert limited.json()["message"] == "API rate limit exceeded"
    time.sleep(2 - (time.time() % 2) + 0.02)
    assert track(emulator, BODY).status_code == 201
    state = emulator.state()
    assert state["counters"]["responses_by_status"]["429"] == 2
    assert state["profiles"][0]["data_points"] == 4  # the 429s were not applied


def test_delta_style_with_retry_after(emulator):
    emulator.set_limits(rate_limit_header_style="delta",
                        rate_limits={"/users/track": {"limit": 1, "window_seconds": 60}})
    ok = track(emulator, BODY)
    assert ok.status_code == 201
    assert 1 <= int(ok.headers["X-RateLimit-Reset"]) <= 60
    assert ok.headers["X-RateLimit-Remaining"] == "0"
    limited = track(emulator, BODY)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["X-Ratelimit-Retry-After"]) <= 60
    assert "X-RateLimit-Limit" not in limited.headers
    assert "X-RateLimit-Reset" not in limited.headers


def test_limits_are_per_endpoint(emulator):
    emulator.set_limits(rate_limits={"/users/export/ids": {"limit": 1, "window_seconds": 60}})
    body = {"external_ids": ["u1"], "fields_to_export": ["external_id"]}
    assert export(emulator, body).status_code == 200
    assert export(emulator, body).status_code == 429
    assert track(emulator, BODY).status_code == 201


def test_bad_limits_fail_loudly(emulator):
    import pytest

    from braze_emulator.testing import EmulatorError

    with pytest.raises(EmulatorError, match="unknown path"):
        emulator.set_limits(rate_limits={"/users/delete": {"limit": 1, "window_seconds": 1}})
    with pytest.raises(EmulatorError, match="unknown option"):
        emulator.set_limits(burst=5)
    with pytest.raises(EmulatorError, match="must be one of"):
        emulator.set_limits(rate_limit_header_style="weird")
