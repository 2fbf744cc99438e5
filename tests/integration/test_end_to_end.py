"""The thin path through every part: ActionIQ membership files -> dbt -> change tables -> sync ->
real HTTP -> the Braze emulator, asserting on what the emulator holds afterwards."""

from __future__ import annotations

from extracts import write_events_file, write_membership_delivery


def profiles_by_external_id(state: dict) -> dict[str, dict]:
    return {p["external_id"]: p for p in state["profiles"] if p.get("external_id")}


def test_entries_exits_and_a_quiet_second_run(pipeline, emulator):
    write_membership_delivery(
        pipeline.landing,
        "20261127T060000Z",
        "2026-11-27T06:00:00Z",
        members=[("1042", "1", "u1", None), ("1042", "1", "u2", None), ("77", "0", "u3", None)],
    )
    pipeline.cycle()
    held = profiles_by_external_id(emulator.state())
    assert held["u1"]["custom_attributes"] == {"AIQ_1042_1": True}
    assert held["u2"]["custom_attributes"] == {"AIQ_1042_1": True}
    assert held["u3"]["custom_attributes"] == {"AIQ_77_0": True}
    first_points = emulator.state()["data_points"]["total"]
    assert first_points == 3

    # Next day: u2 leaves 1042/1, u3 enters it; 77/0 is not listed, so it keeps its state.
    write_membership_delivery(
        pipeline.landing,
        "20261128T060000Z",
        "2026-11-28T06:00:00Z",
        members=[("1042", "1", "u1", None), ("1042", "1", "u3", None)],
    )
    pipeline.cycle()
    held = profiles_by_external_id(emulator.state())
    assert held["u1"]["custom_attributes"] == {"AIQ_1042_1": True}
    assert held["u2"]["custom_attributes"] == {"AIQ_1042_1": False}
    assert held["u3"]["custom_attributes"] == {"AIQ_77_0": True, "AIQ_1042_1": True}
    # Only the two changes were billed: u1's unchanged value was not sent again.
    assert emulator.state()["data_points"]["total"] == first_points + 2

    # Nothing new: the build yields no change and the sync sends no request.
    requests_before = emulator.state()["counters"]["requests"]
    pipeline.cycle()
    state = emulator.state()
    assert state["data_points"]["total"] == first_points + 2
    assert state["counters"]["requests"] == requests_before


def test_events_reach_braze_once(pipeline, emulator):
    event = {
        "event_id": "e-1",
        "event_name": "added_to_cart",
        "external_id": "u1",
        "event_time": "2026-11-28T05:01:00Z",
        "properties": {"sku": "A-1", "price": 19.9, "tags": ["x"]},
        "channel": "web",
    }
    write_events_file(pipeline.landing, "a.jsonl", [event, event])
    pipeline.cycle()
    write_events_file(pipeline.landing, "b.jsonl", [event])  # the same event landed again
    pipeline.cycle()
    events = emulator.state()["events"]
    assert len(events) == 1
    sent = events[0]
    assert sent["name"] == "added_to_cart"
    assert sent["external_id"] == "u1"
    assert sent["properties"] == {"sku": "A-1", "price": 19.9, "tags": ["x"], "channel": "web"}
