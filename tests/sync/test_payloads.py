"""Pure payload building and local validation (no network, no warehouse)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from sync import payloads
from sync.payloads import AttrRow, EventRow, attribute_items, batches, event_items

T0 = datetime(2026, 11, 1, 12, 30, 5)


def a(key: str, name: str, value: str, kt: str = "external_id", in_ledger: bool = False):
    return AttrRow(kt, key, name, value, "membership", "d1", in_ledger)


def e(eid: str, key: str = "u1", name: str = "login", props: str = "{}", t=T0):
    return EventRow(eid, "external_id", key, name, t, props, "f1")


def test_one_object_per_person_with_all_their_changes():
    rej: list = []
    items = list(attribute_items([a("u1", "AIQ_1_1", "true"), a("u1", "tier", '"gold"'),
                                  a("u2", "AIQ_1_1", "null"),
                                  a("b" * 24, "score", "1.5", kt="braze_id")], rej))
    assert [json.loads(i.text) for i in items] == [
        {"external_id": "u1", "AIQ_1_1": True, "tier": "gold"},
        {"external_id": "u2", "AIQ_1_1": None},
        {"braze_id": "b" * 24, "score": 1.5}]
    assert [i.data_points for i in items] == [2, 1, 1] and rej == []


@pytest.mark.parametrize(("row", "reason"), [
    (a("u1", "email", '"x@y.com"'), "reserved"),
    (a("u1", "$x", "1"), "starts with '$'"),
    (a("u1", "", "1"), "empty"),
    (a("u1", "n" * 256, "1"), "longer than 255"),
    (a("u1", "s", '"' + "x" * 256 + '"'), "longer than 255"),
    (a("u1", "s", "NaN"), "not valid JSON"),
    (a("u1", "s", "{bad"), "not valid JSON"),
    (a("é" * 494, "s", "1"), "987 bytes"),
    (a("", "s", "1"), "empty"),
    (a("u1", "s", "1", kt="email"), "identifier type"),
    (a("u1", "nested", json.dumps({"a": "x" * 300})), "longer than 255"),
])
def test_attribute_validation(row, reason):
    rej: list = []
    items = list(attribute_items([row, a("zz", "ok", "true")], rej))
    assert len(rej) == 1 and reason in rej[0].reason and rej[0].origin == "sync_validation"
    assert [json.loads(i.text) for i in items] == [{"external_id": "zz", "ok": True}]


def test_unicode_and_quotes_are_escaped_properly():
    rej: list = []
    [item] = attribute_items([a('we"ird\\id', "nom", '"café \\"x\\""')], rej)
    assert json.loads(item.text) == {"external_id": 'we"ird\\id', "nom": 'café "x"'}
    assert item.size == len(item.text.encode("utf-8"))


def test_event_objects_and_time_format():
    rej: list = []
    aware = datetime(2026, 11, 1, 14, 30, 5, tzinfo=timezone(timedelta(hours=2)))
    items = list(event_items([e("1", props='{"plan": "pro", "n": [1, 2]}'), e("2", t=aware)],
                             rej))
    assert [json.loads(i.text) for i in items] == [
        {"external_id": "u1", "name": "login", "time": "2026-11-01T12:30:05Z",
         "properties": {"plan": "pro", "n": [1, 2]}},
        {"external_id": "u1", "name": "login", "time": "2026-11-01T12:30:05Z"}]
    assert payloads.format_time(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00Z"


@pytest.mark.parametrize(("row", "reason"), [
    (e("1", props='{"time": 1}'), "reserved"),
    (e("1", props='{"event_name": 1}'), "reserved"),
    (e("1", props='{"$p": 1}'), "starts with '$'"),
    (e("1", props='{"": 1}'), "empty"),
    (e("1", props="[1]"), "not a JSON object"),
    (e("1", props=json.dumps({f"p{i}": i for i in range(257)})), "more than 256"),
    (e("1", props=json.dumps({"big": ["x" * 200] * 600})), "over 102400 bytes"),
    (e("1", props=json.dumps({"s": "x" * 256})), "longer than 255"),
    (e("1", name=""), "empty"),
    (e("1", name="n" * 256), "longer than 255"),
    (e("1", t=None), "missing"),
    (e("", ), "event_id is empty"),
])
def test_event_validation(row, reason):
    rej: list = []
    assert list(event_items([row], rej)) == []
    assert len(rej) == 1 and reason in rej[0].reason


def _attr_items(n: int):
    return list(attribute_items([a(f"u{i:05d}", "x", "true") for i in range(n)], []))


def _event_items(n: int):
    return list(event_items([e(str(i)) for i in range(n)], []))


def test_combined_mode_75_objects_events_fill_the_rest():
    out = list(batches(_attr_items(100), _event_items(100), 75))
    assert [(len(b.attributes), len(b.events)) for b in out] == [
        (75, 0), (25, 50), (0, 50)]
    body = json.loads(out[1].body())
    assert len(body["attributes"]) == 25 and len(body["events"]) == 50


def test_legacy_mode_75_per_array():
    out = list(batches(_attr_items(160), _event_items(80), 75, legacy_per_array=True))
    assert [(len(b.attributes), len(b.events)) for b in out] == [(75, 75), (75, 5), (10, 0)]


def test_body_size_limit_starts_a_new_request():
    big = json.dumps({"s": ["y" * 200] * 400})  # ~80 KB of properties per event
    items = list(event_items([e(str(i), props=big) for i in range(75)], []))
    out = list(batches([], items, 75))
    assert len(out) > 1
    assert all(len(b.body()) <= payloads.MAX_BODY_BYTES for b in out)
    assert sum(b.objects for b in out) == 75


def test_split_halves_keep_every_object_once():
    batch = next(iter(batches(_attr_items(30), _event_items(45), 75)))
    left, right = batch.split()
    assert (left.objects, right.objects) == (37, 38)
    assert left.attributes + right.attributes == batch.attributes
    assert left.events + right.events == batch.events
