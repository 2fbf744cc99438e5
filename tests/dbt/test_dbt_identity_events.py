"""Identity across identifier changes (spec section 1) and events (spec section 4)."""

from __future__ import annotations

import json

from aiq_dbt_harness import Warehouse, braze_id

from extracts.writer import (
    write_attributes_delivery,
    write_events_file,
    write_membership_delivery,
)

B1, B2, B3 = braze_id(1), braze_id(2), braze_id(3)
T = "2026-11-28T10:00:00Z"


def _event(event_id: str, **fields: object) -> dict[str, object]:
    return {"event_id": event_id, "event_name": "purchase", "event_time": T, **fields}


def test_identity_follows_the_profile_that_got_the_entry(warehouse: Warehouse) -> None:
    landing = warehouse.landing
    # First seen with only a braze_id.
    write_membership_delivery(landing, "d1", "2026-11-20T12:00:00Z", [("1042", "1", None, B1)])
    write_events_file(landing, "a.jsonl", [_event("ev1", braze_id=B1)])
    warehouse.build_ok()
    assert warehouse.attribute_changes() == {("braze_id", B1, "AIQ_1042_1", "true")}
    assert warehouse.event_changes()["ev1"][:2] == ("braze_id", B1)
    warehouse.record_sync()

    # Later seen with both identifiers: still a member, so nothing to send (no exit and
    # re-entry under the external_id). Updates keep going to the profile that got the entry.
    write_membership_delivery(
        landing,
        "d2",
        "2026-11-21T12:00:00Z",
        [("1042", "1", "u1", B1), ("1042", "2", "u1", None), ("1042", "2", "u2", B2)],
    )
    # Conflict: B2 seen with u2 (d2) and later with u3 (a1): u2 and u3 stay two persons;
    # a braze_id-only row of B2 belongs to the external_id B2 was last seen with (u3).
    write_attributes_delivery(
        landing,
        "a1",
        "2026-11-22T12:00:00Z",
        {"tier": "string"},
        [{"external_id": "u3", "braze_id": B2, "tier": "gold"}],
    )
    write_events_file(
        landing,
        "b.jsonl",
        [_event("ev2", braze_id=B1), _event("ev3", external_id="u1"), _event("ev4", braze_id=B2)],
    )
    warehouse.build_ok()
    assert warehouse.attribute_changes() == {
        ("braze_id", B1, "AIQ_1042_2", "true"),  # u1's profile is the one holding B1's entry
        ("external_id", "u2", "AIQ_1042_2", "true"),
        ("external_id", "u3", "tier", '"gold"'),
    }
    events = warehouse.event_changes()
    assert set(events) == {"ev2", "ev3", "ev4"}
    assert events["ev2"][:2] == ("braze_id", B1)
    assert events["ev3"][:2] == ("braze_id", B1)
    assert events["ev4"][:2] == ("external_id", "u3")
    assert warehouse.query(
        "select braze_id, external_id, has_conflict from int_braze_id_owners order by 1"
    ) == [(B1, "u1", False), (B2, "u3", True)]
    warehouse.record_sync()

    # The person leaves: the exit reaches the braze_id profile that got the entry.
    write_membership_delivery(
        landing, "d3", "2026-11-23T12:00:00Z", [], splits=[("1042", "1"), ("1042", "2")]
    )
    warehouse.build_ok()
    assert warehouse.attribute_changes() == {
        ("braze_id", B1, "AIQ_1042_1", "false"),
        ("braze_id", B1, "AIQ_1042_2", "false"),
        ("external_id", "u2", "AIQ_1042_2", "false"),
    }


def test_events_deduplicated_validated_and_typed(warehouse: Warehouse) -> None:
    landing = warehouse.landing
    write_events_file(
        landing,
        "e1.jsonl",
        [
            _event(
                "ev1",
                external_id="u1",
                properties={"amount": 12.5, "items": [1, "a"], "meta": {"ok": True}},
                channel="web",
                count=3,
                is_new=False,
            ),
            _event("ev1", external_id="u1"),  # same id again in the same file
            {"event_id": "ev2", "external_id": "u1", "event_time": T},  # no event_name
            _event("ev3", external_id="u1", event_time="yesterday"),
            _event("ev4", external_id="u1", properties={"$bad": 1}),
            _event("ev5", external_id="u1", properties={"time": "x"}),
            _event("ev6", external_id="u1", properties={"blob": [0] * 200}),
            _event("ev7", external_id="u1", event_time="2026-11-28T12:00:00"),
            _event("ev8", external_id="u1", event_time="2026-11-28T12:00:00+02:00"),
            _event("ev9", external_id="u1", properties={"long": "x" * 256}),
            _event("ev10", event_name="e" * 256, external_id="u1"),
            _event("ev11", braze_id="short"),
        ],
    )
    write_events_file(
        landing,
        "e2.csv",
        [
            {"event_id": "ev1", "event_name": "purchase", "external_id": "u1", "event_time": T},
            {
                "event_id": "ev12",
                "event_name": "visit",
                "braze_id": B3,
                "event_time": T,
                "channel": "store",
            },
        ],
    )
    write_events_file(landing, "_e3.jsonl", [_event("ev13", external_id="u1")])
    (landing / "events" / "e4.jsonl.tmp").write_text(json.dumps(_event("ev14")) + "\n")

    warehouse.build_ok(dbt_vars={"aiq_event_properties_max_bytes": 300})
    events = warehouse.event_changes()
    assert set(events) == {"ev1", "ev7", "ev8", "ev12"}
    assert json.loads(events["ev1"][4]) == {
        "amount": 12.5,
        "items": [1, "a"],
        "meta": {"ok": True},
        "channel": "web",
        "count": 3,
        "is_new": False,
    }
    assert events["ev1"][5] == "e1.jsonl"
    assert str(events["ev7"][3]) == "2026-11-28 12:00:00"  # no offset: UTC
    assert str(events["ev8"][3]) == "2026-11-28 10:00:00"  # +02:00 converted to UTC
    assert events["ev12"][:3] == ("braze_id", B3, "visit")
    assert json.loads(events["ev12"][4]) == {"channel": "store"}
    reasons = {r[4]: r[5] for r in warehouse.rejected("events")}
    assert reasons["ev2"] == "missing event_name"
    assert reasons["ev3"].startswith("event_time")
    assert reasons["ev4"].startswith('invalid property key "$bad"')
    assert reasons["ev5"].startswith('invalid property key "time"')
    assert reasons["ev6"] == "properties larger than 300 bytes"
    assert reasons["ev9"] == 'property "long" is a string longer than 255 characters'
    assert reasons["ev10"] == "event_name longer than 255 characters"
    assert reasons["ev11"] == "braze_id is not 24 hexadecimal characters"
    duplicates = [r for r in warehouse.rejected("events") if r[4] == "ev1"]
    assert len(duplicates) == 2  # the second ev1 in e1.jsonl and the one in e2.csv
    assert all(r[5] == "duplicate event_id: already taken from e1.jsonl" for r in duplicates)

    # Delivered events are never pending again; a late event (old time) is still sent;
    # files already loaded are not read again.
    warehouse.record_sync()
    warehouse.execute(
        "insert into sync_delivered_events values "
        "('ev16', 'external_id', 'u1', 'purchase', now(), 'unknown', 'r', now())"
    )
    write_events_file(
        landing,
        "e5.jsonl",
        [
            _event("ev1", external_id="u1"),
            _event("ev15", external_id="u1", event_time="2020-01-01T00:00:00Z"),
            _event("ev16", external_id="u1"),
        ],
    )
    warehouse.build_ok(dbt_vars={"aiq_event_properties_max_bytes": 300})
    assert set(warehouse.event_changes()) == {"ev15"}
    assert warehouse.query(
        "select source_id, count(*) from int_events_loaded group by 1 order by 1"
    ) == [("e1.jsonl", 12), ("e2.csv", 2), ("e5.jsonl", 3)]
