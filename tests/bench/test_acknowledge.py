"""extracts/acknowledge.py: "the sync accepted every pending change", for the dbt tests and the
dbt benchmark, on tables with the columns of models/state (in memory, no dbt)."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from extracts.acknowledge import accept_attribute_changes, accept_event_changes

LEDGER = """create table sync_attribute_ledger (braze_key_type varchar, braze_key varchar,
    attribute_name varchar, value_json varchar, source_stream varchar, run_id varchar,
    recorded_at timestamp)"""
DELIVERED = """create table sync_delivered_events (event_id varchar, braze_key_type varchar,
    braze_key varchar, event_name varchar, event_time timestamp, outcome varchar,
    run_id varchar, recorded_at timestamp)"""


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory warehouse with the two state tables, empty."""
    with duckdb.connect() as connection:
        connection.execute(LEDGER)
        connection.execute(DELIVERED)
        yield connection


def test_attribute_changes_replace_what_the_ledger_held_per_key_and_attribute(
    con: duckdb.DuckDBPyConnection,
) -> None:
    con.execute(
        "insert into sync_attribute_ledger values "
        "('external_id', 'u1', 'AIQ_1_1', 'true', 'membership', 'old', now()), "
        "('external_id', 'u1', 'AIQ_1_2', 'true', 'membership', 'old', now()), "
        "('braze_id', 'u1', 'AIQ_1_1', 'true', 'membership', 'old', now())"
    )
    con.execute(
        "create table braze_attribute_changes as select * from (values "
        "('external_id', 'u1', 'AIQ_1_1', 'false', 'membership', 'extra'), "
        "('external_id', 'u2', 'color', '\"red\"', 'custom_attribute', 'extra')) "
        "as t(braze_key_type, braze_key, attribute_name, value_json, source_stream, other)"
    )
    accept_attribute_changes(con, "bench")
    rows = con.execute(
        "select * exclude (recorded_at) from sync_attribute_ledger order by all"
    ).fetchall()
    assert rows == [
        ("braze_id", "u1", "AIQ_1_1", "true", "membership", "old"),
        ("external_id", "u1", "AIQ_1_1", "false", "membership", "bench"),
        ("external_id", "u1", "AIQ_1_2", "true", "membership", "old"),
        ("external_id", "u2", "color", '"red"', "custom_attribute", "bench"),
    ]
    unstamped = "select count(*) from sync_attribute_ledger where recorded_at is null"
    assert con.execute(unstamped).fetchone() == (0,)


def test_event_changes_are_recorded_as_acknowledged(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "create table braze_event_changes as select 'e1' as event_id, "
        "'external_id' as braze_key_type, 'u1' as braze_key, 'viewed' as event_name, "
        "timestamp '2026-11-01 10:00:00' as event_time, '{}' as properties_json"
    )
    accept_event_changes(con, "test-run")
    rows = con.execute("select * exclude (recorded_at) from sync_delivered_events").fetchall()
    assert [r[:4] + r[5:] for r in rows] == [
        ("e1", "external_id", "u1", "viewed", "acknowledged", "test-run")
    ]
