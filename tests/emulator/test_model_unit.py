"""The model without HTTP: the business rules are plain Python (moto's layering)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from braze_emulator import errors
from braze_emulator.faults import FaultPlan
from braze_emulator.model import Backend
from braze_emulator.ratelimit import RateLimiter
from braze_emulator.settings import Settings, from_sources
from braze_emulator.timeparse import parse_time


def backend(**config) -> Backend:
    return Backend(from_sources("key", config or None, None))


def test_track_and_errors_as_python():
    model = backend()
    assert model.track({"attributes": [{"external_id": "u", "a": 1}]}) == {
        "message": "success", "attributes_processed": 1}
    with pytest.raises(errors.MaxInputLengthExceeded):
        model.track({"events": [{}] * 76})
    with pytest.raises(errors.NoValidData) as caught:
        model.track({"events": [{"external_id": "u"}]})
    assert caught.value.status == 400 and len(caught.value.errors) == 1
    with pytest.raises(errors.InvalidRequest):
        model.track([1, 2])


def test_clamping_uses_the_given_now():
    model = backend()
    now = datetime(2024, 6, 1, tzinfo=UTC)
    model.track({"events": [{"external_id": "u", "name": "e", "time": "2030-01-01"}]}, now=now)
    assert model.events[0]["time"] == "2024-06-01T00:00:00.000Z"


def test_plain_hint_is_only_a_shortcut():
    fast, slow = backend(), backend()
    body = {"attributes": [{"external_id": "u", "a": 1, "b": None},
                           {"external_id": "u", "n": {"inc": 2}},
                           {"external_id": "v", "_update_existing_only": True, "a": 1}]}
    fast.track(body, plain_hint=(True, False, True))
    slow.track(body)
    def strip(model):
        return [(p["external_id"], p["custom_attributes"], p["data_points"])
                for p in model.dump({"include": "profiles"})["profiles"]]

    assert strip(fast) == strip(slow) == [("u", {"a": 1, "n": 2}, 3)]
    assert fast.data_points == slow.data_points


def test_rate_limiter_windows_align_on_the_epoch():
    limiter = RateLimiter()
    rule = {"limit": 2, "window_seconds": 60}
    first = limiter.check("/p", rule, 120.5, consume=True)
    assert first.allowed and first.remaining == 1 and first.reset_at == 180
    limiter.check("/p", rule, 150.0, consume=True)
    assert not limiter.check("/p", rule, 179.9, consume=True).allowed
    assert limiter.check("/p", rule, 180.0, consume=True).allowed
    assert limiter.check("/p", None, 0, consume=True) is None


def test_fault_plan_sequence_then_rates():
    plan = FaultPlan()
    plan.configure({"sequence": ["503", None, "reset"], "path": "/p"})
    assert [plan.choose("/p") for _ in range(4)] == ["503", None, "reset", None]
    plan.configure({"rates": {"500": 1.0}, "paths": ["/q"]})
    assert plan.choose("/p") is None and plan.choose("/q") == "500"


def test_settings_refuse_unknown_names_and_values():
    settings = Settings()
    with pytest.raises(errors.ControlError):
        settings.update({"no_such": 1})
    with pytest.raises(errors.ControlError):
        settings.update({"array_overflow": "explode"})
    public = from_sources("secret-key", None, None).public()
    assert "secret-key" not in str(public)


@pytest.mark.parametrize("text", ["2024-13-01", "tomorrow", "", "3001-01-01", "12:00"])
def test_unreadable_times(text):
    assert parse_time(text) is None
