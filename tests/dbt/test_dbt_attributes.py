"""Custom attributes through real dbt builds (spec section 3)."""

from __future__ import annotations

from aiq_dbt_harness import Warehouse, braze_id

from extracts.writer import write_attributes_delivery

B1 = braze_id(1)
TYPES = {"tier": "string", "score": "number", "is_vip": "boolean", "last_order_at": "time"}


def test_attribute_snapshots(warehouse: Warehouse) -> None:
    warehouse.build_ok()
    # From an earlier sync, Braze holds u2's score: a rejected value must not remove it.
    warehouse.hold("external_id", "u2", "score", "0.1")
    landing = warehouse.landing
    write_attributes_delivery(
        landing,
        "a1",
        "2026-11-20T12:00:00Z",
        TYPES,
        [
            {
                "external_id": "u1",
                "tier": 'gold "plus"',
                "score": "12.50",
                "is_vip": "TRUE",
                "last_order_at": "2026-11-01T10:00:00+01:00",
            },
            {"external_id": "u2", "tier": "x" * 256, "score": "abc", "is_vip": "maybe"},
            {"external_id": "u3", "tier": None, "score": "-1e3"},
            {"external_id": "u4", "tier": "silver", "last_order_at": "2026-11-02"},
            {"braze_id": B1, "is_vip": "false"},
            {"external_id": None, "braze_id": None, "tier": "lost"},
        ],
    )
    warehouse.build_ok()
    assert warehouse.attribute_changes() == {
        ("external_id", "u1", "tier", '"gold \\"plus\\""'),
        ("external_id", "u1", "score", "12.50"),
        ("external_id", "u1", "is_vip", "true"),
        ("external_id", "u1", "last_order_at", '"2026-11-01T09:00:00Z"'),
        ("external_id", "u3", "score", "-1e3"),
        ("external_id", "u4", "tier", '"silver"'),
        ("external_id", "u4", "last_order_at", '"2026-11-02T00:00:00Z"'),
        ("braze_id", B1, "is_vip", "false"),
    }
    assert warehouse.rejected("attributes") == {
        ("a1", "u2", None, "tier", None, "string longer than 255 characters"),
        ("a1", "u2", None, "score", None, 'value "abc" is not a valid number'),
        ("a1", "u2", None, "is_vip", None, 'value "maybe" is not a valid boolean'),
        ("a1", None, None, None, None, "no identifier: external_id and braze_id are both empty"),
    }
    warehouse.record_sync()

    # a2 lists only tier: the newest listing decides per attribute. u1 changes, u4 is absent
    # (its value is removed), u3 has no tier held (nothing). score keeps a1's state.
    # a0 is older and lands late: it changes nothing.
    write_attributes_delivery(
        landing,
        "a2",
        "2026-11-21T12:00:00Z",
        {"tier": "string"},
        [{"external_id": "u1", "tier": "silver"}, {"external_id": "u3", "tier": None}],
    )
    write_attributes_delivery(
        landing,
        "a0",
        "2026-11-19T12:00:00Z",
        {"score": "number", "tier": "string"},
        [{"external_id": "u1", "score": "9", "tier": "bronze"}],
    )
    warehouse.build_ok()
    assert warehouse.attribute_changes() == {
        ("external_id", "u1", "tier", '"silver"'),
        ("external_id", "u4", "tier", "null"),
    }
    assert warehouse.query(
        "select attribute_name, delivery_id from int_custom_attributes order by 1"
    ) == [("is_vip", "a1"), ("last_order_at", "a1"), ("score", "a1"), ("tier", "a2")]
