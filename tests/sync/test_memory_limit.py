"""The sync stays within a small DuckDB memory limit (AIQ_SYNC_DUCKDB_MEMORY_LIMIT) when the
run carries many events beside attribute changes and a delivered-events history.

A guard against gross regressions only: the failure found at 8x of `make bench` (pending events
read by one anti-join + sort while the group commits held the run's writes in memory) needs
warehouse sizes beyond a unit test to show; its reproduction at 2x is in docs/benchmarks.md.
"""

from __future__ import annotations

import duckdb

from tests.sync.helpers import SyncEnv, last_json, query, replace_changes

EVENTS = 300_000
HISTORY = 300_000
PEOPLE = 20_000


def test_many_events_and_a_long_history_fit_a_small_memory_limit(sync_env: SyncEnv):
    wh = sync_env.warehouse
    with duckdb.connect(str(wh)) as con:  # events delivered by earlier runs
        con.execute(f"""
            insert into sync_delivered_events
            select 'old-' || lpad(i::varchar, 9, '0'), 'external_id', 'u' || (i % {PEOPLE}),
                   'viewed_product', timestamp '2026-10-01' + to_seconds(i), 'acknowledged',
                   'earlier-run', timestamp '2026-10-02'
            from range({HISTORY}) as t(i)""")
    replace_changes(
        wh,
        sql_attrs=f"""
            select 'external_id', 'u' || p, 'AIQ_1_' || s, 'true', 'membership', 'd1'
            from range({PEOPLE}) as a(p), range(3) as b(s)""",
        sql_events=f"""
            select 'evt-' || lpad(i::varchar, 9, '0'), 'external_id', 'u' || (i % {PEOPLE}),
                   'redeemed_offer', timestamp '2026-11-01' + to_seconds((i * 7919) % 86400),
                   '{{"channel":"web","order_value":"' || (i % 1000) || '.25"}}',
                   'events-20261102T060000Z.csv'
            from range({EVENTS}) as t(i)""")
    proc = sync_env.run("run", timeout=300, AIQ_SYNC_DUCKDB_MEMORY_LIMIT="64MB",
                        AIQ_SYNC_DUCKDB_THREADS="1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = last_json(proc.stdout)
    assert summary["status"] == "success"
    assert summary["events_sent"] == EVENTS
    assert summary["attribute_changes_sent"] == PEOPLE * 3
    assert query(wh, "select count(*) from sync_delivered_events where run_id <> 'earlier-run'"
                 ) == [(EVENTS,)]
    counters = sync_env.emulator.state(include="counters")["counters"]
    assert counters["requests"] == summary["requests"]
    # Sent in event time order, as before: the first request's events are the earliest.
    first = query(wh, "select min(event_time) from braze_event_changes")[0][0]
    assert query(wh, "select min(event_time) from sync_delivered_events "
                     "where run_id <> 'earlier-run'")[0][0] == first
