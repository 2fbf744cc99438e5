"""Audience membership through real dbt builds (spec section 2)."""

from __future__ import annotations

from pathlib import Path

import duckdb
from aiq_dbt_harness import Warehouse, braze_id

from extracts.writer import write_membership_delivery

B1 = braze_id(1)


def _parquet_part(folder: Path, rows: list[tuple[str, str, str | None, str | None]]) -> None:
    with duckdb.connect() as con:
        con.execute(
            "create table parts (audience_id varchar, split_id varchar, "
            "external_id varchar, braze_id varchar)"
        )
        con.executemany("insert into parts values (?, ?, ?, ?)", rows)
        con.execute(f"copy parts to '{folder / 'part-extra.parquet'}' (format parquet)")


def test_membership_lifecycle(warehouse: Warehouse) -> None:
    # An empty landing dir (no stream folders at all) builds every table, empty; the dbt unit
    # tests (diff, identity, event de-duplication) run in this build.
    empty = warehouse.build_ok(unit_tests=True)
    assert "unit_test" in empty.output or "unit test" in empty.output
    assert warehouse.attribute_changes() == set()
    assert warehouse.query("select count(*) from braze_event_changes") == [(0,)]
    assert warehouse.query("select count(*) from rejected_rows") == [(0,)]
    assert warehouse.query("select count(*) from sync_attribute_ledger") == [(0,)]

    landing = warehouse.landing
    d1 = write_membership_delivery(
        landing,
        "d1",
        "2026-11-20T12:00:00Z",
        [
            ("1042", "1", "u1", None),
            ("1042", "1", "u1", None),  # duplicate row: counts once
            ("1042", "1", "u2", None),
            ("1042", "1", "u3", None),
            ("1042", "1", None, B1),
            ("1042", "2", "u1", None),
            ("1042", "3", "u1", None),
            ("1042", "3", "u2", None),
            ("55", "1", "u4", None),
        ],
        splits=[("77", "0")],  # listed, empty
        member_counts={("1042", "2"): 2},  # one more row in the Parquet part
        parts=2,
    )
    _parquet_part(d1, [("1042", "2", "u5", None)])
    # Ignored: names starting with _ or ., .tmp files, folders without manifest.
    (d1 / "_scratch.csv").write_text("audience_id,split_id,external_id,braze_id\n1042,9,zz,\n")
    (d1 / ".hidden.csv").write_text("audience_id,split_id,external_id,braze_id\n1042,9,zz,\n")
    (d1 / "part-9.csv.tmp").write_text("audience_id,split_id,external_id,braze_id\n1042,9,\n")
    write_membership_delivery(
        landing, "d9", "2026-11-29T00:00:00Z", [("1042", "1", "zz", None)], write_manifest=False
    )
    write_membership_delivery(landing, "_d8", "2026-11-29T00:00:00Z", [("1042", "1", "zz", None)])

    first = warehouse.build_ok()
    # The feed is older than aiq_membership_max_age_hours: a warning, not a failure.
    assert "assert_membership_feed_is_fresh" in first.output
    assert "WARN=1" in first.output
    assert warehouse.attribute_changes() == {
        ("external_id", "u1", "AIQ_1042_1", "true"),
        ("external_id", "u2", "AIQ_1042_1", "true"),
        ("external_id", "u3", "AIQ_1042_1", "true"),
        ("braze_id", B1, "AIQ_1042_1", "true"),
        ("external_id", "u1", "AIQ_1042_2", "true"),
        ("external_id", "u5", "AIQ_1042_2", "true"),
        ("external_id", "u1", "AIQ_1042_3", "true"),
        ("external_id", "u2", "AIQ_1042_3", "true"),
        ("external_id", "u4", "AIQ_55_1", "true"),
    }
    assert warehouse.query(
        "select distinct source_stream, source_id from braze_attribute_changes"
    ) == [("membership", "d1")]

    # The sync delivers; a second build with nothing new sends nothing and reads no file.
    warehouse.record_sync()
    warehouse.build_ok()
    assert warehouse.attribute_changes() == set()
    assert warehouse.query("select count(*) from int_membership_rows_pending") == [(0,)]

    # d2 is newer; d0 is older and lands late: it must not override anything.
    write_membership_delivery(
        landing,
        "d2",
        "2026-11-21T12:00:00Z",
        [
            ("1042", "1", "u1", None),
            ("1042", "1", "u6", None),
            ("1042", "1", "u7", "not-a-braze-id"),  # invalid row: rejected, not applied
            ("77", "0", "u7", None),
        ],
        splits=[("1042", "3")],  # now empty: every previous member leaves
        retired=[("55", "1")],
    )
    write_membership_delivery(
        landing,
        "d0",
        "2026-11-19T12:00:00Z",
        [("1042", "2", "u9", None), ("1042", "1", "u8", None)],
    )
    warehouse.build_ok()
    assert warehouse.attribute_changes() == {
        # 1042/1: u2, u3 and the braze_id-only member leave, u6 enters; u1 stays (nothing).
        ("external_id", "u2", "AIQ_1042_1", "false"),
        ("external_id", "u3", "AIQ_1042_1", "false"),
        ("braze_id", B1, "AIQ_1042_1", "false"),
        ("external_id", "u6", "AIQ_1042_1", "true"),
        # 1042/2 is not listed by d2 and d0 is older: it keeps its state (no row).
        # 1042/3 listed empty: both members leave.
        ("external_id", "u1", "AIQ_1042_3", "false"),
        ("external_id", "u2", "AIQ_1042_3", "false"),
        # 77/0 gains a member; 55/1 is retired: false on the profile holding true.
        ("external_id", "u7", "AIQ_77_0", "true"),
        ("external_id", "u4", "AIQ_55_1", "false"),
    }
    assert (
        "d2",
        "u7",
        "not-a-braze-id",
        "AIQ_1042_1",
        None,
        "braze_id is not 24 hexadecimal characters",
    ) in warehouse.rejected("membership")
    assert warehouse.query(
        "select delivery_id from int_membership_deliveries_applied order by 1"
    ) == [("d0",), ("d1",), ("d2",)]

    # --full-refresh cannot wipe the state the sync wrote, nor the desired state.
    warehouse.record_sync()
    ledger_rows = warehouse.query("select count(*) from sync_attribute_ledger")[0][0]
    members = warehouse.query("select count(*) from int_audience_members")[0][0]
    warehouse.build_ok("--full-refresh")
    assert warehouse.query("select count(*) from sync_attribute_ledger") == [(ledger_rows,)]
    assert warehouse.query("select count(*) from int_audience_members") == [(members,)]
    assert warehouse.attribute_changes() == set()


def test_two_values_for_one_profile_fail_the_build(warehouse: Warehouse) -> None:
    """Two changes for one Braze profile and attribute (impossible from valid input) fail the
    build at the uniqueness test of braze_attribute_changes, so the sync does not run."""
    write_membership_delivery(
        warehouse.landing,
        "d1",
        "2026-11-20T12:00:00Z",
        [("1042", "1", "u1", None), ("1042", "1", "u2", None)],
    )
    warehouse.build_ok()
    before = warehouse.attribute_changes()
    assert {(c[1], c[3]) for c in before} == {("u1", "true"), ("u2", "true")}
    warehouse.hold("external_id", "u3", "AIQ_1042_1", "true")  # u3 left the split: false
    # An identity bug stands in: u3's updates routed to u1's profile, which enters (true).
    warehouse.execute(
        "insert into int_person_braze_keys by name select 'external_id' as person_key_type, "
        "'u3' as person_key, 'external_id' as braze_key_type, 'u1' as braze_key"
    )
    failed = warehouse.build("--select", "braze_attribute_changes")
    assert not failed.ok
    assert "FAIL 1 unique_combination_braze_attribute_changes" in failed.output
