"""The API key never appears in logs, errors, the warehouse or plan output; plain-http endpoints
are refused unless on localhost; TLS certificates are verified."""

from __future__ import annotations

import secrets
import shutil
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from extracts import write_events_file, write_membership_delivery


def _all_text_under(folder: Path) -> str:
    chunks = []
    for path in folder.rglob("*"):
        if path.is_file():
            chunks.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(chunks)


def test_key_is_never_written_anywhere(pipeline, emulator, tmp_path):
    # A key of the emulator's own, distinctive enough to find anywhere it leaks.
    key = "sekret-" + secrets.token_hex(12)
    emulator.add_key(key, permissions=["users.track", "users.export.ids"])
    pipeline.api_key = key
    write_membership_delivery(
        pipeline.landing, "d1", "2026-11-27T06:00:00Z", [("1", "1", "u1", None)]
    )
    write_events_file(
        pipeline.landing,
        "e.jsonl",
        [{"event_id": "x", "event_name": "n", "external_id": "u1",
          "event_time": "2026-11-27T06:00:00Z"}],
    )
    outputs = [pipeline.build(), pipeline.sync("plan"), pipeline.sync("run"),
               pipeline.sync("status"), pipeline.sync("check")]
    # A failing call must not echo the key either: a wrong key, then an unreachable endpoint.
    pipeline.api_key = key + "-wrong"
    outputs.append(pipeline.sync("check", check=False))
    outputs.append(pipeline.sync("run", check=False))
    pipeline.api_key = key
    pipeline.base_url = "http://127.0.0.1:9"
    outputs.append(pipeline.sync("run", check=False))
    for proc in outputs:
        assert key not in proc.stdout and key not in proc.stderr
    assert key not in _all_text_under(tmp_path)  # dbt logs, target, the DuckDB file itself
    # The warehouse, read through DuckDB (values may be compressed in the file).
    import duckdb

    with duckdb.connect(str(pipeline.warehouse), read_only=True) as con:
        # Every table and view of every schema (dbt's stored test failures included).
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
        assert len(tables) > 20
        for schema, table in tables:
            rows = con.execute(f'select * from "{schema}"."{table}"').fetchall()
            assert key not in repr(rows), f"{schema}.{table}"
    assert key not in repr(emulator.state())


def test_plain_http_endpoint_is_refused_unless_local(pipeline):
    pipeline.base_url = "http://rest.iad-01.braze.com"
    proc = pipeline.sync("run", check=False)
    assert proc.returncode != 0
    assert "https" in (proc.stdout + proc.stderr)
    assert "BRAZE_REST_ENDPOINT" in (proc.stdout + proc.stderr)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_tls_certificates_are_verified(pipeline, tmp_path):
    cert, keyfile = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-keyout", str(keyfile), "-out", str(cert)],
        check=True, capture_output=True,
    )
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            hits.append(self.path)
            self.send_response(201)
            self.end_headers()
            self.wfile.write(b'{"message":"success"}')

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, keyfile)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        pipeline.base_url = f"https://localhost:{server.server_address[1]}"
        proc = pipeline.sync("check", check=False)
        assert proc.returncode != 0
        assert "certificate" in (proc.stdout + proc.stderr).lower()
        assert hits == []  # no request got through an unverified connection
    finally:
        server.shutdown()
