"""`python -m sync run` against the emulator: only changes are sent, outcomes are recorded."""

from __future__ import annotations

from datetime import datetime

import duckdb

from tests.sync.helpers import SyncEnv, add_attributes, add_events, last_json, query


def test_run_delivers_attributes_and_events_then_sends_nothing_again(sync_env: SyncEnv):
    wh = sync_env.warehouse
    add_attributes(wh, [
        ("external_id", "u1", "AIQ_1_1", "true"),
        ("external_id", "u1", "AIQ_2_1", "false"),
        ("external_id", "u1", "ltv_tier", '"gold"', "attributes", "a1"),
        ("external_id", "u2", "AIQ_1_1", "true"),
        ("external_id", "u2", "churn_score", "0.25", "attributes", "a1"),
    ])
    add_events(wh, [
        ("e1", "external_id", "u1", "purchase", datetime(2026, 11, 1, 12), '{"sku": "A"}'),
        ("e2", "external_id", "u2", "login", datetime(2026, 11, 2, 8, 30), "{}"),
    ])
    proc = sync_env.run("run")
    assert proc.returncode == 0, proc.stderr
    summary = last_json(proc.stdout)
    assert summary["status"] == "success"
    assert summary["attribute_changes_sent"] == 5
    assert summary["events_sent"] == 2
    assert summary["data_points"] == 7
    assert summary["requests"] == 1  # 2 attribute objects + 2 events in one request

    assert sync_env.profile_attrs("u1") == {"AIQ_1_1": True, "AIQ_2_1": False, "ltv_tier": "gold"}
    assert sync_env.profile_attrs("u2") == {"AIQ_1_1": True, "churn_score": 0.25}
    events = sync_env.emulator.state(include="events")["events"]
    assert sorted((e["external_id"], e["name"]) for e in events) == [
        ("u1", "purchase"), ("u2", "login")]
    assert sync_env.emulator.state(include="data_points")["data_points"]["total"] == 7

    ledger = query(wh, "select braze_key, attribute_name, value_json from sync_attribute_ledger "
                       "order by 1, 2")
    assert ledger == [("u1", "AIQ_1_1", "true"), ("u1", "AIQ_2_1", "false"),
                      ("u1", "ltv_tier", '"gold"'), ("u2", "AIQ_1_1", "true"),
                      ("u2", "churn_score", "0.25")]
    assert query(wh, "select event_id, outcome from sync_delivered_events order by 1") == [
        ("e1", "acknowledged"), ("e2", "acknowledged")]
    runs = query(wh, "select status, requests, attribute_changes_sent, events_sent, data_points "
                     "from sync_runs")
    assert runs == [("success", 1, 5, 2, 7)]

    # Same change tables, no new dbt build: nothing is sent again.
    again = sync_env.run("run")
    assert again.returncode == 0, again.stderr
    assert last_json(again.stdout)["requests"] == 0
    assert sync_env.emulator.state(include="counters")["counters"]["requests"] == 1


def test_changed_values_replace_their_ledger_rows(sync_env: SyncEnv):
    """Run 1 records new keys (no ledger row to replace); run 2 changes one value and adds a
    key: the changed row replaces its ledger row, the unchanged one is not sent again."""
    wh = sync_env.warehouse
    add_attributes(wh, [("external_id", "u1", "AIQ_1_1", "true"),
                        ("external_id", "u2", "AIQ_1_1", "true")])
    first = sync_env.run("run")
    assert first.returncode == 0, first.stderr
    assert last_json(first.stdout)["attribute_changes_sent"] == 2
    with duckdb.connect(str(wh)) as con:
        con.execute("update braze_attribute_changes set value_json = 'false' "
                    "where braze_key = 'u2'")
    add_attributes(wh, [("external_id", "u3", "AIQ_1_1", "true")])
    second = sync_env.run("run")
    assert second.returncode == 0, second.stderr
    assert last_json(second.stdout)["attribute_changes_sent"] == 2  # u2 changed, u3 new
    assert sync_env.profile_attrs("u2") == {"AIQ_1_1": False}
    assert query(wh, "select braze_key, value_json from sync_attribute_ledger order by 1") == [
        ("u1", "true"), ("u2", "false"), ("u3", "true")]
