"""The ledger's uniqueness test checks only the keys written by sync runs it has not checked
yet (data-tests/generic/unique_combination.sql, model int_ledger_checked_runs) when those are
fewer than half the rows, every row otherwise, and either way catches every duplicate a sync run
could write."""

from __future__ import annotations

from aiq_dbt_harness import Warehouse

from extracts.writer import write_membership_delivery

TEST_NAME = "unique_combination_sync_attribute_ledger"


def checked_runs(warehouse: Warehouse) -> set[str]:
    return {r[0] for r in warehouse.query("select run_id from int_ledger_checked_runs")}


def checked_rows(warehouse: Warehouse) -> str:
    """Which rows the last build's ledger test checked, read from the SQL dbt ran."""
    (sql,) = (warehouse.root / "target" / "run").rglob("unique_combination_sync_attrib*.sql")
    return "new runs' keys" if "new_keys as" in sql.read_text(encoding="utf-8") else "all"


def test_ledger_duplicates_written_by_a_new_run_fail_the_build(warehouse: Warehouse) -> None:
    write_membership_delivery(
        warehouse.landing,
        "d1",
        "2026-11-20T12:00:00Z",
        [("1042", "1", "u1", None), ("1042", "1", "u2", None)],
    )
    warehouse.build_ok()
    assert checked_runs(warehouse) == set()  # an empty ledger: every row checked
    assert checked_rows(warehouse) == "all"
    warehouse.record_sync()
    warehouse.build_ok()  # the first check of a full ledger sorts every row's hash
    assert checked_rows(warehouse) == "all"
    first = checked_runs(warehouse)
    assert len(first) == 1

    # A later run writes a second row for a key an already checked run wrote: the next build
    # fails and names the test, and the checked runs do not move on.
    warehouse.hold("external_id", "u1", "AIQ_1042_1", "true")  # run_id 'seed'
    failed = warehouse.build()
    assert not failed.ok
    assert TEST_NAME in failed.output
    assert checked_rows(warehouse) == "new runs' keys"  # 1 of 3 rows not checked yet
    assert checked_runs(warehouse) == first

    # Two rows of one key, both written by runs not checked yet, are caught too; a row without
    # a run id is always checked. Half the rows are new now: every row is checked.
    warehouse.execute("delete from sync_attribute_ledger where run_id = 'seed'")
    warehouse.execute(
        "insert into sync_attribute_ledger values "
        "('external_id', 'u9', 'AIQ_1042_1', 'true', 'membership', 'run-a', now()), "
        "('external_id', 'u9', 'AIQ_1042_1', 'false', 'membership', null, now())"
    )
    assert not warehouse.build().ok
    assert checked_rows(warehouse) == "all"

    # Without the duplicates the ledger passes, and the new run is checked from now on.
    warehouse.execute("delete from sync_attribute_ledger where braze_key = 'u9'")
    warehouse.build_ok()
    assert checked_runs(warehouse) == first
    write_membership_delivery(
        warehouse.landing,
        "d2",
        "2026-11-21T12:00:00Z",
        [("1042", "1", "u1", None), ("1042", "1", "u2", None), ("1042", "1", "u3", None)],
    )
    warehouse.build_ok()
    warehouse.record_sync()  # u3 enters, written by a second run
    warehouse.build_ok()
    assert checked_rows(warehouse) == "new runs' keys"
    assert len(checked_runs(warehouse)) == 2
