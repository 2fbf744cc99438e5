"""/users/track happy path, state dump, reset and profile pre-creation."""

from __future__ import annotations

from tests.emulator.helpers import attrs, event, track


def test_attributes_create_profile_and_are_dumped(emulator):
    response = track(emulator, {"attributes": [attrs("u1", plan="pro", score=3, vip=True)]})
    assert response.status_code == 201
    assert response.json() == {"message": "success", "attributes_processed": 1}
    profile = emulator.profile(external_id="u1")
    assert profile["custom_attributes"] == {"plan": "pro", "score": 3, "vip": True}
    assert len(profile["braze_id"]) == 24
    int(profile["braze_id"], 16)
    state = emulator.state()
    assert state["data_points"] == {"total": 3, "attributes": 3, "events": 0, "purchases": 0}
    assert state["counters"]["profiles_created"] == 1


def test_events_and_purchases_recorded_without_dedupe(emulator):
    body = {
        "events": [event("u1"), event("u1")],
        "purchases": [
            {"external_id": "u1", "product_id": "sku", "currency": "USD", "price": 2.5,
             "time": "2024-01-01T00:00:00Z", "properties": {"colour": "red"}}
        ],
    }
    response = track(emulator, body)
    assert response.status_code == 201
    assert response.json() == {
        "message": "success", "events_processed": 2, "purchases_processed": 1
    }
    state = emulator.state()
    ids = {e["id"] for e in state["events"]}
    assert len(ids) == 2
    assert state["events"][0]["time"] == "2024-01-02T03:04:05.000Z"
    assert state["events"][0]["external_id"] == "u1"
    assert state["purchases"][0]["product_id"] == "sku"
    assert state["data_points"] == {"total": 4, "attributes": 0, "events": 2, "purchases": 2}


def test_reset_clears_everything(emulator):
    track(emulator, {"attributes": [attrs("u1", a=1)]})
    emulator.set_faults(sequence=["503"])
    emulator.reset()
    state = emulator.state()
    assert state["profiles"] == [] and state["events"] == []
    assert state["data_points"]["total"] == 0
    assert state["counters"]["requests"] == 0
    assert track(emulator, {"attributes": [attrs("u1", a=1)]}).status_code == 201


def test_precreated_profiles_take_braze_id_writes(emulator):
    ids = emulator.create_profiles(
        [{"custom_attributes": {"tier": "gold"}}, {"external_id": "known", "email": "a@b.co"}]
    )
    assert len(ids) == 2
    response = track(emulator, {"attributes": [{"braze_id": ids[0], "tier": "silver"}]})
    assert response.status_code == 201
    assert emulator.profile(braze_id=ids[0])["custom_attributes"] == {"tier": "silver"}
    assert emulator.profile(external_id="known")["email"] == "a@b.co"
    assert emulator.state()["data_points"]["total"] == 1  # seeding is not billed


def test_state_filters(emulator):
    track(emulator, {"events": [event("u1", "a"), event("u2", "b"), event("u1", "b")]})
    only_u1 = emulator.state(external_id="u1", include="profiles,events")
    assert set(only_u1) == {"profiles", "events"}
    assert [e["name"] for e in only_u1["events"]] == ["a", "b"]
    assert [e["external_id"] for e in emulator.state(event_name="b")["events"]] == ["u2", "u1"]
    assert len(emulator.state(last=1)["events"]) == 1
