"""Invalid deliveries, the membership guard and retired splits in null mode."""

from __future__ import annotations

from aiq_dbt_harness import Warehouse

from extracts.writer import write_attributes_delivery, write_membership_delivery

VARS = {
    "aiq_ignore_deliveries": ["m_bad", "a_bad"],
    "aiq_retired_split_value": "null",
    "aiq_guard_min_split_size": 3,
}


def test_invalid_deliveries_guard_and_retired_null(warehouse: Warehouse) -> None:
    landing = warehouse.landing
    write_membership_delivery(
        landing,
        "m1",
        "2026-11-20T12:00:00Z",
        [("1042", "1", f"u{i}", None) for i in range(1, 5)]
        + [("55", "1", f"u{i}", None) for i in range(1, 4)],
    )
    write_membership_delivery(
        landing,
        "m_bad",
        "2026-11-20T13:00:00Z",
        [("1042", "1", "u1", None), ("1042", "1", "u2", None), ("1042", "7", "u2", None)],
        member_counts={("1042", "1"): 5},
        splits=[],
    )
    # Unlisted split rows: rewrite the manifest without split 1042/7.
    manifest = landing / "membership" / "m_bad" / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"split_id": "7"', '"split_id": "8"'))
    write_attributes_delivery(
        landing, "a_bad", "2026-11-20T12:00:00Z", {"email": "string"}, [{"external_id": "u1"}]
    )
    write_attributes_delivery(
        landing, "a_short", "2026-11-20T12:00:00Z", {"tier": "string"}, [], row_count=2
    )

    failed = warehouse.build()
    assert not failed.ok
    out = failed.output
    assert (
        "membership delivery m_bad: split 1042/1: manifest member_count 5, files have 2 rows" in out
    )
    assert "membership delivery m_bad: split 1042/7: not listed in the manifest" in out
    assert "files have 1 rows" in out
    assert "attributes delivery a_bad: attribute 'email': a reserved Braze profile field" in out
    assert "attributes delivery a_short: manifest row_count 2, files have 0 rows" in out
    # Nothing of any pending delivery was applied, and nothing reached the change tables.
    assert warehouse.query(
        "select count(*) from information_schema.tables where table_name in "
        "('int_audience_members', 'braze_attribute_changes', 'int_membership_deliveries_applied')"
    ) == [(0,)]

    # Leaving the bad deliveries out, the rest applies.
    (landing / "attributes" / "a_short" / "manifest.json").unlink()
    warehouse.build_ok(dbt_vars=VARS)
    assert len(warehouse.attribute_changes()) == 7
    warehouse.record_sync()
    warehouse.hold("external_id", "u5", "AIQ_55_1", "false")
    warehouse.hold("external_id", "u6", "AIQ_55_1", "null")

    # m2 drops 3 of 4 members of 1042/1 (75% > 50% of a split of at least 3): the guard
    # fails the build and nothing of m2 is applied.
    write_membership_delivery(
        landing, "m2", "2026-11-21T12:00:00Z", [("1042", "1", "u1", None)], retired=[("55", "1")]
    )
    guarded = warehouse.build(dbt_vars=VARS)
    assert not guarded.ok
    assert "assert_no_split_loses_too_many_members" in guarded.output
    # The analyst can query which split tripped it, with both counts.
    assert "main_dbt_test__audit" in guarded.output
    assert warehouse.query(
        "select attribute_name, delivery_id, previous_member_rows, member_rows "
        "from main_dbt_test__audit.assert_no_split_loses_too_many_members"
    ) == [("AIQ_1042_1", "m2", 4, 1)]
    assert warehouse.query(
        "select count(*) from int_audience_members where attribute_name = 'AIQ_1042_1'"
    ) == [(4,)]
    assert warehouse.query(
        "select count(*) from int_membership_deliveries_applied where delivery_id = 'm2'"
    ) == [(0,)]

    # Explicitly allowed, it applies; the retired split is cleared with null on every profile
    # holding a value for it (true or false), not where Braze already holds null.
    warehouse.build_ok(dbt_vars={**VARS, "aiq_guard_allow_deliveries": ["m2"]})
    assert warehouse.attribute_changes() == {
        ("external_id", "u2", "AIQ_1042_1", "false"),
        ("external_id", "u3", "AIQ_1042_1", "false"),
        ("external_id", "u4", "AIQ_1042_1", "false"),
        ("external_id", "u1", "AIQ_55_1", "null"),
        ("external_id", "u2", "AIQ_55_1", "null"),
        ("external_id", "u3", "AIQ_55_1", "null"),
        ("external_id", "u5", "AIQ_55_1", "null"),
    }
