"""What the sync records once Braze accepted every pending change, without running the sync.

For the dbt tests (tests/dbt/aiq_dbt_harness.py) and the dbt benchmark (bench/dbt_scale.py),
which build the next delivery on top of "everything pending was sent". The columns are those of
models/state/sync_attribute_ledger.sql and sync_delivered_events.sql (dbt owns that DDL); the
real sync records the same rows per acknowledged batch (sync/warehouse.py, sync/fastpath.py).
"""

from __future__ import annotations

import duckdb


def accept_attribute_changes(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Upsert every row of braze_attribute_changes into the ledger, as acknowledged by run_id."""
    con.execute(
        """
        delete from sync_attribute_ledger as ledger
        using braze_attribute_changes as changes
        where ledger.braze_key_type = changes.braze_key_type
          and ledger.braze_key = changes.braze_key
          and ledger.attribute_name = changes.attribute_name;
        insert into sync_attribute_ledger (
            braze_key_type, braze_key, attribute_name, value_json, source_stream, run_id,
            recorded_at
        )
        select braze_key_type, braze_key, attribute_name, value_json, source_stream, $run_id,
               now()
        from braze_attribute_changes;
        """,
        {"run_id": run_id},
    )


def accept_event_changes(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Record every row of braze_event_changes as delivered ('acknowledged') by run_id."""
    con.execute(
        """
        insert into sync_delivered_events (
            event_id, braze_key_type, braze_key, event_name, event_time, outcome, run_id,
            recorded_at
        )
        select event_id, braze_key_type, braze_key, event_name, event_time, 'acknowledged',
               $run_id, now()
        from braze_event_changes;
        """,
        {"run_id": run_id},
    )
