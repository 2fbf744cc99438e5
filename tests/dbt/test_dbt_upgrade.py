"""Upgrading a warehouse built before int_membership_rows existed (ADR 0022).

Such a warehouse kept each split's deciding member rows in the table int_audience_members. Its
first build with the current models seeds the store from that table, so that no member is lost:
no spurious `false` for people who are still members, and a later delivery diffs against them.
"""

from __future__ import annotations

from aiq_dbt_harness import Warehouse

from extracts.writer import write_membership_delivery


def _to_legacy_layout(warehouse: Warehouse) -> list[tuple[str, str | None, str | None, str]]:
    """Turn a current warehouse into the earlier layout; returns the legacy member rows."""
    warehouse.execute("drop view if exists int_audience_members")
    warehouse.execute(
        """create table int_audience_members as
           select 'AIQ_' || audience_id || '_' || split_id as attribute_name, external_id,
                  braze_id, delivery_id
           from int_membership_rows where identity_problem is null"""
    )
    warehouse.execute("drop view if exists int_membership_rows_pending")
    warehouse.execute("drop table int_membership_rows")
    return warehouse.query(
        "select attribute_name, external_id, braze_id, delivery_id from int_audience_members "
        "order by all"
    )


def test_upgrade_seeds_the_members_of_the_earlier_layout(warehouse: Warehouse) -> None:
    landing = warehouse.landing
    write_membership_delivery(
        landing,
        "d1",
        "2026-11-20T12:00:00Z",
        [("1042", "1", "u1", None), ("1042", "1", "u2", None), ("55", "1", "u3", None)],
    )
    warehouse.build_ok()
    warehouse.record_sync()  # Braze holds u1, u2 in 1042/1 and u3 in 55/1
    legacy = _to_legacy_layout(warehouse)
    assert [(r[0], r[1]) for r in legacy] == [
        ("AIQ_1042_1", "u1"), ("AIQ_1042_1", "u2"), ("AIQ_55_1", "u3")]

    # First build on the current models, nothing new: the store is seeded, nothing is sent.
    warehouse.build_ok()
    assert warehouse.query("select table_type from information_schema.tables "
                           "where table_name = 'int_membership_rows'") == [("BASE TABLE",)]
    assert warehouse.query(
        "select audience_id, split_id, external_id, delivery_id from int_membership_rows "
        "order by all") == [("1042", "1", "u1", "d1"), ("1042", "1", "u2", "d1"),
                            ("55", "1", "u3", "d1")]
    assert warehouse.attribute_changes() == set()

    # A new delivery of split 1042/1 only: u2 leaves, u4 enters; 55/1 keeps its seeded member.
    write_membership_delivery(
        landing,
        "d2",
        "2026-11-21T12:00:00Z",
        [("1042", "1", "u1", None), ("1042", "1", "u4", None)],
    )
    warehouse.build_ok()
    assert warehouse.attribute_changes() == {
        ("external_id", "u2", "AIQ_1042_1", "false"),
        ("external_id", "u4", "AIQ_1042_1", "true"),
    }
    assert warehouse.query("select external_id from int_audience_members "
                           "where attribute_name = 'AIQ_55_1'") == [("u3",)]
