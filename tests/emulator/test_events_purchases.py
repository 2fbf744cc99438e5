"""Event and purchase objects (reference §2.6, §2.7) and their data points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.emulator.helpers import event, track


def purchase(external_id="u1", **extra):
    return {"external_id": external_id, "product_id": "sku-1", "currency": "EUR",
            "price": 9.99, "time": "2024-05-01T10:00:00+02:00", **extra}


def test_name_and_time_are_required(emulator):
    response = track(emulator, {"events": [
        {"external_id": "u1", "time": "2024-01-01T00:00:00Z"},
        {"external_id": "u1", "name": "e"},
        {"external_id": "u1", "name": "e", "time": "yesterday"},
        {"external_id": "u1", "name": "", "time": "2024-01-01T00:00:00Z"},
        {"external_id": "u1", "name": "n" * 256, "time": "2024-01-01T00:00:00Z"},
        event("u1"),
    ]})
    assert response.status_code == 201
    payload = response.json()
    assert payload["events_processed"] == 1
    assert [e["type"] for e in payload["errors"]] == [
        "'name' is required", "'time' is required", "'time' is not a valid time",
        "'name' must be a non-empty string of at most 255 characters",
        "'name' must be a non-empty string of at most 255 characters",
    ]


def test_accepted_time_formats_are_normalised_to_utc(emulator):
    times = ["2013-07-16T19:20:45+01:00", "2013-07-16T18:20:45.5Z", "2013-07-16 18:20:45",
             "2013-07-16", "07/16/2013", "2013-07-16T19:20:45:123+01:00"]
    track(emulator, {"events": [event("u1", time=t) for t in times]})
    assert [e["time"] for e in emulator.state()["events"]] == [
        "2013-07-16T18:20:45.000Z", "2013-07-16T18:20:45.500Z", "2013-07-16T18:20:45.000Z",
        "2013-07-16T00:00:00.000Z", "2013-07-16T00:00:00.000Z", "2013-07-16T18:20:45.123Z",
    ]


def test_future_times_are_clamped_to_now(emulator):
    future = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    before = datetime.now(UTC) - timedelta(seconds=1)
    track(emulator, {"events": [event("u1", time=future)]})
    stored = datetime.fromisoformat(emulator.state()["events"][0]["time"])
    assert before <= stored <= datetime.now(UTC) + timedelta(seconds=1)


def test_events_are_never_deduplicated(emulator):
    same = event("u1", properties={"order": "o-1"})
    for _ in range(2):
        track(emulator, {"events": [same, same]})
    events = emulator.state()["events"]
    assert len(events) == 4 and len({e["id"] for e in events}) == 4
    assert emulator.state()["data_points"]["events"] == 4
    summary = emulator.profile(external_id="u1")["custom_events"]
    assert summary == [{"name": "played", "first": "2024-01-02T03:04:05.000Z",
                        "last": "2024-01-02T03:04:05.000Z", "count": 4}]


def test_event_record_shape(emulator):
    track(emulator, {"events": [event("u1", app_id="app-1", properties={"a": 1})]})
    record = emulator.state()["events"][0]
    assert set(record) == {"id", "braze_id", "external_id", "name", "time", "properties",
                           "app_id", "received_at"}
    assert record["braze_id"] == emulator.profile(external_id="u1")["braze_id"]
    assert record["app_id"] == "app-1" and record["properties"] == {"a": 1}


def test_property_rules(emulator):
    cases = [{"$p": 1}, {"": 1}, {"k" * 256: 1}, {"time": 1}, {"event_name": "x"},
             {"s": "x" * 256}, {"big": ["x" * 200] * 520}]
    body = {"events": [event("u1", properties=p) for p in cases] + [event("u1")]}
    response = track(emulator, body)
    errors = response.json()["errors"]
    assert [e["index"] for e in errors] == list(range(len(cases)))
    assert errors[3]["type"] == "'time' and 'event_name' are reserved property names"
    assert response.json()["events_processed"] == 1


def test_properties_over_256_are_dropped(emulator):
    props = {f"p{i:03}": i for i in range(300)}
    track(emulator, {"events": [event("u1", properties=props)]})
    stored = emulator.state()["events"][0]["properties"]
    assert len(stored) == 256 and "p255" in stored and "p256" not in stored


def test_event_properties_are_free_unless_enabled(emulator):
    track(emulator, {"events": [event("u1", properties={"a": 1, "b": 2})]})
    assert emulator.state()["data_points"]["events"] == 1
    emulator.set_settings(bill_event_properties=True)
    track(emulator, {"events": [event("u1", properties={"a": 1, "b": 2})]})
    assert emulator.state()["data_points"]["events"] == 4


def test_purchase_is_recorded_and_billed_with_properties(emulator):
    response = track(emulator, {"purchases": [purchase(quantity=3, properties={"c": "red"})]})
    assert response.json() == {"message": "success", "purchases_processed": 1}
    record = emulator.state()["purchases"][0]
    assert record["product_id"] == "sku-1" and record["quantity"] == 3
    assert record["time"] == "2024-05-01T08:00:00.000Z"
    assert emulator.state()["data_points"] == {
        "total": 2, "attributes": 0, "events": 0, "purchases": 2
    }
    profile = emulator.profile(external_id="u1")
    assert profile["purchases"][0]["count"] == 3
    assert round(profile["total_revenue"], 2) == 29.97


def test_purchase_rules(emulator):
    cases = [
        purchase(product_id=""), purchase(product_id="p" * 256), purchase(currency="eur"),
        purchase(currency="EURO"), purchase(price="9.99"), purchase(price=True),
        purchase(quantity=0), purchase(quantity=101), purchase(quantity=1.5),
        purchase(time=None), purchase(properties={"$x": 1}),
        purchase(properties={"big": ["x" * 200] * 260}),  # over the 50 KB purchase limit
    ]
    response = track(emulator, {"purchases": cases + [purchase()]})
    errors = response.json()["errors"]
    assert [e["index"] for e in errors] == list(range(len(cases)))
    assert errors[6]["type"] == "'quantity' is not valid"
    assert all(e["input_array"] == "purchases" for e in errors)


def test_processing_order_attributes_then_events(emulator):
    body = {"events": [event("u1")], "attributes": [{"external_id": "u1", "a": 1}]}
    track(emulator, body)
    profile = emulator.profile(external_id="u1")
    assert profile["custom_attributes"] == {"a": 1}
    assert emulator.state()["counters"]["profiles_created"] == 1
