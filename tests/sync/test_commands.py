"""plan, status, check, configuration errors and secrets, through `python -m sync`."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

import duckdb
import pytest

from tests.sync.helpers import SyncEnv, add_attributes, add_events, last_json, query

T0 = datetime(2026, 11, 1, 12)


def _some_changes(sync_env: SyncEnv) -> None:
    add_attributes(sync_env.warehouse, [
        ("external_id", f"c{i:03d}", "AIQ_3_1", "true") for i in range(100)] + [
        ("external_id", "c000", "tier", '"gold"', "attributes", "a1"),
        ("external_id", "c001", "email", '"x@y.com"', "attributes", "a1"),
    ])
    add_events(sync_env.warehouse, [
        (f"e{i}", "external_id", f"c{i:03d}", "login", T0, "{}") for i in range(10)])


def _state_rows(path) -> dict[str, int]:
    tables = ["sync_attribute_ledger", "sync_delivered_events", "sync_rejected_rows",
              "sync_runs", "sync_watermarks"]
    return {t: query(path, f"select count(*) from {t}")[0][0] for t in tables}


def test_plan_sends_nothing_records_nothing_and_its_bodies_are_what_run_sends(
        sync_env: SyncEnv, tmp_path):
    _some_changes(sync_env)
    bodies = tmp_path / "bodies.jsonl"
    before = _state_rows(sync_env.warehouse)
    # plan needs no Braze settings at all
    proc = sync_env.run("plan", "--bodies", str(bodies), BRAZE_API_KEY="",
                        BRAZE_REST_ENDPOINT="")
    assert proc.returncode == 3, proc.stderr  # one row would be rejected locally (email)
    plan = last_json(proc.stdout)
    assert plan["requests"] == 2 and plan["attribute_changes"] == 101 and plan["events"] == 10
    assert plan["data_points"] == 111
    assert plan["by_attribute"] == {"AIQ_3_1": 100, "tier": 1}
    assert plan["by_event"] == {"login": 10}
    assert plan["rejected_locally"] == 1
    assert _state_rows(sync_env.warehouse) == before
    assert sync_env.emulator.state(include="counters")["counters"]["requests"] == 0

    planned = [json.loads(line) for line in bodies.read_text().splitlines()]
    assert len(planned) == 2 and sum(len(b.get("attributes", [])) + len(b.get("events", []))
                                     for b in planned) == 110
    run = sync_env.run("run", AIQ_SYNC_CONCURRENCY="1")
    assert run.returncode == 3
    sent = [r["body"] for r in sync_env.emulator.state(include="requests")["requests"]]
    assert sent == planned

    # The data-point budget as a CI check.
    add_attributes(sync_env.warehouse, [("external_id", "c999", "AIQ_3_1", "true")])
    over = sync_env.run("plan", "--max-data-points", "0")
    assert over.returncode == 7


def test_plan_bodies_to_stdout_keep_the_summary_on_stderr(sync_env: SyncEnv):
    add_attributes(sync_env.warehouse, [("external_id", "s1", "AIQ_1_1", "true")])
    proc = sync_env.run("plan", "--bodies", "-")
    assert proc.returncode == 0
    assert json.loads(proc.stdout) == {"attributes": [{"external_id": "s1", "AIQ_1_1": True}]}
    assert last_json(proc.stderr)["requests"] == 1


def test_status_shows_runs_pending_and_rejections(sync_env: SyncEnv):
    _some_changes(sync_env)
    proc = sync_env.run("status", BRAZE_API_KEY="", BRAZE_REST_ENDPOINT="")
    assert proc.returncode == 0, proc.stderr
    assert "pending: 102 attribute change(s), 10 event(s)" in proc.stdout
    sync_env.run("run")
    status = last_json(sync_env.run("status", "--json").stdout)
    assert status["pending_attribute_changes"] == 0 and status["pending_events"] == 0
    assert status["rejected_rows"] == 1
    assert status["runs"][0]["status"] == "partial"
    assert "reserved" in status["rejected_by_reason"][0]["reason"]
    text = sync_env.run("status").stdout
    assert "partial" in text and "reserved Braze profile field" in text
    assert "external_id=c001  email" in text  # the latest rejected rows, one by one
    assert status["recent_rejections"][0]["braze_key"] == "c001"


def test_check_ok_bad_key_missing_permission_and_unreachable(sync_env: SyncEnv):
    ok = sync_env.run("check")
    assert ok.returncode == 0 and last_json(ok.stdout)["ok"] is True
    bad = sync_env.run("check", BRAZE_API_KEY="wrong-key-123")
    assert bad.returncode == 5
    msg = last_json(bad.stdout)["message"]
    assert "401" in msg and "another Braze instance" in msg and "wrong-key-123" not in msg
    sync_env.emulator.add_key("track-only-key", ["users.track"], name="track-only")
    denied = sync_env.run("check", BRAZE_API_KEY="track-only-key")
    assert denied.returncode == 5 and "users.export.ids" in last_json(denied.stdout)["message"]
    down = sync_env.run("check", BRAZE_REST_ENDPOINT="http://127.0.0.1:9")
    assert down.returncode == 4 and "cannot reach" in last_json(down.stdout)["message"]


def test_config_errors_name_every_missing_setting_at_once(sync_env: SyncEnv):
    proc = sync_env.run("run", BRAZE_API_KEY="", BRAZE_REST_ENDPOINT="")
    assert proc.returncode == 2
    assert "BRAZE_REST_ENDPOINT" in proc.stderr and "BRAZE_API_KEY" in proc.stderr
    assert proc.stderr.count("\n") == 1  # one clear message
    plain = sync_env.run("check", BRAZE_REST_ENDPOINT="http://rest.iad-01.braze.com")
    assert plain.returncode == 2 and "https" in plain.stderr
    bad = sync_env.run("run", AIQ_SYNC_CONCURRENCY="many", AIQ_SYNC_UNKNOWN_EVENT_POLICY="x")
    assert bad.returncode == 2
    assert "AIQ_SYNC_CONCURRENCY" in bad.stderr and "AIQ_SYNC_UNKNOWN_EVENT_POLICY" in bad.stderr


def test_missing_tables_and_a_locked_warehouse_are_clear(sync_env: SyncEnv, tmp_path):
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    proc = sync_env.run("status", DUCKDB_PATH=str(empty))
    assert proc.returncode == 6 and "dbt build" in proc.stderr
    with duckdb.connect(str(sync_env.warehouse)):
        locked = sync_env.run("run")
    # Another process holds the file: DuckDB refuses a second writer.
    assert locked.returncode == 6 and "in use by another process" in locked.stderr


def test_legacy_per_array_mode_fills_both_arrays(sync_env: SyncEnv):
    sync_env.emulator.set_limits(batch_limit_mode="per_array")
    add_attributes(sync_env.warehouse, [
        ("external_id", f"l{i:03d}", "AIQ_2_2", "true") for i in range(150)])
    add_events(sync_env.warehouse, [
        (f"le{i}", "external_id", f"l{i:03d}", "login", T0, "{}") for i in range(150)])
    proc = sync_env.run("run", AIQ_SYNC_LEGACY_PER_ARRAY="true")
    assert proc.returncode == 0, proc.stderr
    s = last_json(proc.stdout)
    assert s["requests"] == 2 and s["attribute_changes_sent"] == 150 and s["events_sent"] == 150


def test_the_api_key_is_in_no_output_and_no_table(sync_env: SyncEnv):
    _some_changes(sync_env)
    sync_env.emulator.set_faults(sequence=["503", "429"])
    for command in ("check", "run", "status", "plan"):
        sync_env.run(command, "-v") if command != "status" else sync_env.run(command)
    key = sync_env.emulator.api_key
    with duckdb.connect(str(sync_env.warehouse), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables").fetchall()
        for schema, table in tables:
            rows = con.execute(f'select * from "{schema}"."{table}"').fetchall()
            assert key not in repr(rows), f"{schema}.{table}"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_run_refuses_an_untrusted_certificate(sync_env: SyncEnv, tmp_path):
    cert, keyfile = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", str(keyfile), "-out", str(cert)],
                   check=True, capture_output=True)
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            hits.append(self.path)
            self.send_response(201)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, keyfile)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        add_attributes(sync_env.warehouse, [("external_id", "t1", "AIQ_1_1", "true")])
        proc = sync_env.run("run", BRAZE_REST_ENDPOINT=f"https://localhost:"
                                                      f"{server.server_address[1]}")
        assert proc.returncode == 5 and "certificate" in proc.stderr
        assert hits == [] and query(sync_env.warehouse,
                                    "select count(*) from sync_attribute_ledger")[0][0] == 0
    finally:
        server.shutdown()
