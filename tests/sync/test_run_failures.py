"""Failure paths of `python -m sync run` against the emulator: per-object rejections, 429s,
5xx, whole-request 400s, fatal statuses, unknown outcomes for events."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.sync.helpers import SyncEnv, add_attributes, add_events, last_json, query

T0 = datetime(2026, 11, 1, 12)


def _people(n: int, attr: str = "AIQ_7_1", prefix: str = "p") -> list[tuple[str, ...]]:
    return [("external_id", f"{prefix}{i:04d}", attr, "true") for i in range(n)]


def _delivered(sync_env: SyncEnv, n: int, attr: str = "AIQ_7_1", prefix: str = "p") -> None:
    profiles = sync_env.emulator.state(include="profiles")["profiles"]
    got = {p["external_id"]: p["custom_attributes"].get(attr) for p in profiles
           if (p.get("external_id") or "").startswith(prefix)}
    assert got == {f"{prefix}{i:04d}": True for i in range(n)}


def test_per_object_errors_are_recorded_as_rejected_and_the_rest_delivered(sync_env: SyncEnv):
    wh = sync_env.warehouse
    sync_env.emulator.set_settings(blocked_external_ids=["p0003"])
    add_attributes(wh, _people(10))
    add_events(wh, [("ev1", "external_id", "p0003", "login", T0, "{}"),
                    ("ev2", "external_id", "p0004", "login", T0, "{}")])
    proc = sync_env.run("run")
    assert proc.returncode == 3, proc.stderr  # done, with rejected rows
    s = last_json(proc.stdout)
    assert (s["status"], s["attribute_changes_sent"], s["attribute_changes_rejected"],
            s["events_sent"], s["events_rejected"]) == ("partial", 9, 1, 1, 1)
    rejected = query(wh, "select stream, braze_key, attribute_name, event_id, reason, origin "
                         "from sync_rejected_rows order by stream")
    assert [r[:4] for r in rejected] == [("events", "p0003", None, "ev1"),
                                         ("membership", "p0003", "AIQ_7_1", None)]
    assert all("blacklisted" in r[4] and r[5] == "braze" for r in rejected)
    assert query(wh, "select count(*) from sync_attribute_ledger")[0][0] == 9
    assert query(wh, "select event_id from sync_delivered_events") == [("ev2",)]
    # A rejected row is not re-sent by the next run (same source); nothing else is pending.
    again = sync_env.run("run")
    assert last_json(again.stdout)["requests"] == 0 and again.returncode == 0


def test_local_validation_rejects_what_braze_would_and_sends_the_rest(sync_env: SyncEnv):
    wh = sync_env.warehouse
    add_attributes(wh, [
        ("external_id", "v1", "ok_attr", '"fine"', "attributes", "a1"),
        ("external_id", "v1", "email", '"x@y.com"', "attributes", "a1"),
        ("external_id", "v1", "too_long", '"' + "x" * 300 + '"', "attributes", "a1"),
        ("external_id", "v1", "$dollar", "1", "attributes", "a1"),
        ("external_id", "x" * 1000, "AIQ_1_1", "true"),
        ("external_id", "v2", "bad_json", "{nope", "attributes", "a1"),
    ])
    add_events(wh, [
        ("ok", "external_id", "v1", "login", T0, '{"plan": "pro"}'),
        ("reserved", "external_id", "v1", "login", T0, '{"time": 1}'),
        ("noname", "external_id", "v1", "", T0, "{}"),
        ("notime", "external_id", "v1", "login", None, "{}"),
    ])
    proc = sync_env.run("run")
    assert proc.returncode == 3, proc.stderr
    assert sync_env.profile_attrs("v1") == {"ok_attr": "fine"}
    events = sync_env.emulator.state(include="events")["events"]
    assert [(e["name"], e["properties"]) for e in events] == [("login", {"plan": "pro"})]
    reasons = dict(query(wh, "select coalesce(attribute_name, event_id), reason "
                             "from sync_rejected_rows where origin = 'sync_validation'"))
    assert set(reasons) == {"email", "too_long", "$dollar", "AIQ_1_1", "bad_json", "reserved",
                            "noname", "notime"}
    assert "reserved" in reasons["email"] and "255" in reasons["too_long"]
    assert "987 bytes" in reasons["AIQ_1_1"]
    counters = sync_env.emulator.state(include="counters")["counters"]
    assert sum(counters["objects_rejected"].values()) == 0  # Braze rejected nothing


@pytest.mark.parametrize("style", ["delta", "epoch"])
def test_429s_are_survived_with_the_shared_budget(sync_env: SyncEnv, style: str):
    wh = sync_env.warehouse
    sync_env.emulator.set_limits(rate_limits={"/users/track": {"limit": 4, "window_seconds": 1}},
                                 rate_limit_header_style=style)
    add_attributes(wh, _people(20 * 75))
    # Our budget believes in 1,000 req/s: the emulator's 429s and headers must slow us down.
    proc = sync_env.run("run", "--log-every", "0.5", AIQ_SYNC_CONCURRENCY="8", timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert "progress: sent" in proc.stderr  # plain log lines when not on a terminal
    s = last_json(proc.stdout)
    assert s["rate_limited"] >= 1 and s["attribute_changes_sent"] == 1500
    _delivered(sync_env, 1500)
    assert query(wh, "select rate_limited > 0, status from sync_runs")[0] == (True, "success")


def test_5xx_and_connection_resets_are_retried(sync_env: SyncEnv):
    wh = sync_env.warehouse
    sync_env.emulator.set_faults(sequence=["503", "500", "502", "504", "reset"])
    add_attributes(wh, _people(300))
    proc = sync_env.run("run", AIQ_SYNC_CONCURRENCY="2")
    assert proc.returncode == 0, proc.stderr
    s = last_json(proc.stdout)
    assert s["retries"] >= 5 and s["attribute_changes_sent"] == 300
    _delivered(sync_env, 300)


def test_a_request_that_never_answers_times_out_and_is_retried(sync_env: SyncEnv):
    sync_env.emulator.set_latency(hang_seconds=5)
    sync_env.emulator.set_faults(sequence=["hang"])
    add_attributes(sync_env.warehouse, _people(10))
    proc = sync_env.run("run", AIQ_SYNC_REQUEST_TIMEOUT_S="1")
    assert proc.returncode == 0, proc.stderr
    s = last_json(proc.stdout)
    assert s["retries"] == 1 and s["events_outcome_unknown"] == 0  # no events in it
    _delivered(sync_env, 10)


def test_retries_exhausted_leave_rows_pending_for_the_next_run(sync_env: SyncEnv):
    wh = sync_env.warehouse
    sync_env.emulator.set_faults(rates={"503": 1.0})
    add_attributes(wh, _people(100))
    proc = sync_env.run("run", AIQ_SYNC_MAX_RETRIES="2")
    assert proc.returncode == 4, proc.stderr
    s = last_json(proc.stdout)
    assert s["rows_left_pending"] == 100 and s["attribute_changes_sent"] == 0
    assert query(wh, "select count(*) from sync_attribute_ledger")[0][0] == 0
    assert query(wh, "select count(*) from sync_rejected_rows")[0][0] == 0
    sync_env.emulator.set_faults(clear=True)
    proc = sync_env.run("run")
    assert proc.returncode == 0 and last_json(proc.stdout)["attribute_changes_sent"] == 100
    _delivered(sync_env, 100)


def test_whole_request_400_is_split_to_isolate_the_bad_objects(sync_env: SyncEnv):
    wh = sync_env.warehouse
    # Braze answers 400 Max Input Length Exceeded above 10 objects: halves until they fit.
    sync_env.emulator.set_settings(max_objects=10)
    add_attributes(wh, _people(75))
    proc = sync_env.run("run")
    assert proc.returncode == 0, proc.stderr
    _delivered(sync_env, 75)
    statuses = sync_env.emulator.state(include="counters")["counters"]["responses_by_status"]
    assert statuses.get("400", 0) >= 1 and statuses.get("201", 0) >= 8


def test_all_invalid_request_400_records_every_object_as_rejected(sync_env: SyncEnv):
    wh = sync_env.warehouse
    sync_env.emulator.set_settings(blocked_external_ids=[f"p{i:04d}" for i in range(5)])
    add_attributes(wh, _people(5))
    proc = sync_env.run("run")
    assert proc.returncode == 3, proc.stderr
    assert query(wh, "select count(*) from sync_rejected_rows where origin = 'braze'")[0][0] == 5
    assert query(wh, "select count(*) from sync_attribute_ledger")[0][0] == 0


def test_bad_key_stops_with_a_clear_message_and_records_nothing(sync_env: SyncEnv):
    wh = sync_env.warehouse
    add_attributes(wh, _people(200))
    proc = sync_env.run("run", BRAZE_API_KEY="not-the-key")
    assert proc.returncode == 5
    assert "401" in proc.stderr and "invalid" in proc.stderr.lower()
    assert "not-the-key" not in proc.stderr + proc.stdout
    assert query(wh, "select count(*) from sync_attribute_ledger")[0][0] == 0
    assert query(wh, "select status from sync_runs") == [("failed",)]


def test_missing_permission_names_it(sync_env: SyncEnv):
    sync_env.emulator.add_key("export-only-key", ["users.export.ids"], name="export-only")
    add_attributes(sync_env.warehouse, _people(3))
    proc = sync_env.run("run", BRAZE_API_KEY="export-only-key")
    assert proc.returncode == 5 and "users.track" in proc.stderr
    assert "export-only-key" not in proc.stderr + proc.stdout


def test_unknown_outcome_resend_policy_never_loses_an_event(sync_env: SyncEnv):
    wh = sync_env.warehouse
    sync_env.emulator.set_faults(sequence=["drop_after_apply"])
    add_events(wh, [(f"e{i}", "external_id", "u1", "login", T0, "{}") for i in range(3)])
    proc = sync_env.run("run", AIQ_SYNC_REQUEST_TIMEOUT_S="5")
    assert proc.returncode == 0, proc.stderr
    s = last_json(proc.stdout)
    assert s["events_outcome_unknown"] == 1 and s["events_sent"] == 3
    events = sync_env.emulator.state(include="events")["events"]
    assert len(events) == 6  # applied, response lost, re-sent: the documented duplicate
    assert query(wh, "select events_outcome_unknown from sync_runs") == [(1,)]


def test_unknown_outcome_skip_policy_never_duplicates(sync_env: SyncEnv):
    wh = sync_env.warehouse
    sync_env.emulator.set_faults(sequence=["drop_after_apply"])
    add_events(wh, [(f"e{i}", "external_id", "u1", "login", T0, "{}") for i in range(3)])
    add_attributes(wh, [("external_id", "u1", "AIQ_9_1", "true")])
    proc = sync_env.run("run", AIQ_SYNC_UNKNOWN_EVENT_POLICY="skip")
    assert proc.returncode == 0, proc.stderr
    events = sync_env.emulator.state(include="events")["events"]
    assert len(events) == 3
    assert sync_env.profile_attrs("u1") == {"AIQ_9_1": True}
    assert query(wh, "select outcome, count(*) from sync_delivered_events group by 1") == [
        ("unknown", 3)]
    again = sync_env.run("run", AIQ_SYNC_UNKNOWN_EVENT_POLICY="skip")
    assert last_json(again.stdout)["requests"] == 0
