"""Helpers of the sync tests: change-table rows, running `python -m sync`, reading state."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from braze_emulator.testing import EmulatorHandle

ROOT = Path(__file__).resolve().parents[2]

ATTR_DDL = """create table if not exists braze_attribute_changes (
    braze_key_type varchar, braze_key varchar, attribute_name varchar, value_json varchar,
    source_stream varchar, source_id varchar)"""
EVENT_DDL = """create table if not exists braze_event_changes (
    event_id varchar, braze_key_type varchar, braze_key varchar, event_name varchar,
    event_time timestamp, properties_json varchar, source_id varchar)"""


def create_change_tables(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(ATTR_DDL)
        con.execute(EVENT_DDL)


def add_attributes(path: Path, rows: list[tuple[Any, ...]]) -> None:
    """rows: (key_type, key, attribute_name, value_json[, source_stream, source_id])."""
    full = [tuple(r) + ("membership", "d1")[len(r) - 4:] if len(r) < 6 else tuple(r)
            for r in rows]
    with duckdb.connect(str(path)) as con:
        con.executemany("insert into braze_attribute_changes values (?, ?, ?, ?, ?, ?)", full)


def add_events(path: Path, rows: list[tuple[Any, ...]]) -> None:
    """rows: (event_id, key_type, key, name, time, properties_json[, source_id])."""
    full = [tuple(r) + ("events-1.jsonl",) if len(r) == 6 else tuple(r) for r in rows]
    with duckdb.connect(str(path)) as con:
        con.executemany("insert into braze_event_changes values (?, ?, ?, ?, ?, ?, ?)", full)


def replace_changes(path: Path, sql_attrs: str | None = None,
                    sql_events: str | None = None) -> None:
    """Replace the change tables' rows with the result of a query (large data sets)."""
    with duckdb.connect(str(path)) as con:
        if sql_attrs is not None:
            con.execute("delete from braze_attribute_changes")
            con.execute(f"insert into braze_attribute_changes {sql_attrs}")
        if sql_events is not None:
            con.execute("delete from braze_event_changes")
            con.execute(f"insert into braze_event_changes {sql_events}")


def query(path: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def last_json(text: str) -> dict[str, Any]:
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise AssertionError(f"no JSON line in:\n{text[-3000:]}")


@dataclass
class SyncEnv:
    warehouse: Path
    emulator: EmulatorHandle
    extra: dict[str, str] = field(default_factory=dict)

    def env(self, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("BRAZE_", "AIQ_", "DUCKDB_"))}
        env.update(DUCKDB_PATH=str(self.warehouse), BRAZE_REST_ENDPOINT=self.emulator.base_url,
                   BRAZE_API_KEY=self.emulator.api_key, AIQ_SYNC_BACKOFF_BASE_S="0.02",
                   AIQ_SYNC_BACKOFF_CAP_S="0.2")
        env.update(self.extra)
        env.update(overrides)
        return {k: v for k, v in env.items() if v != ""}

    def run(self, *args: str, timeout: float = 120, **overrides: str,
            ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([sys.executable, "-m", "sync", *(args or ("run",))], cwd=ROOT,
                              env=self.env(**overrides), capture_output=True, text=True,
                              timeout=timeout)
        key = self.emulator.api_key
        assert key not in proc.stdout and key not in proc.stderr, "the API key leaked"
        return proc

    def popen(self, *args: str, **overrides: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "sync", *(args or ("run",))], cwd=ROOT,
                                env=self.env(**overrides), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def profile_attrs(self, external_id: str) -> dict[str, Any] | None:
        profile = self.emulator.profile(external_id=external_id)
        return None if profile is None else profile["custom_attributes"]
