"""Run the real dbt project on a temporary DuckDB file and landing dir, and look inside.

dbt runs as a subprocess, like an operator would run it, with its own target and log paths so
that tests (and other people's dbt runs in the same checkout) never share a manifest.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from extracts.acknowledge import accept_attribute_changes, accept_event_changes

_RUN_NUMBERS = itertools.count(1)

PROJECT_DIR = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).parent / "dbt"


def braze_id(n: int) -> str:
    """A well-formed braze_id (24 hex characters) numbered n."""
    return f"{n:024x}"


@dataclass
class BuildResult:
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@dataclass
class Warehouse:
    root: Path
    landing: Path
    duckdb_path: Path

    @classmethod
    def create(cls, root: Path) -> Warehouse:
        landing = root / "landing"
        landing.mkdir()
        return cls(root=root, landing=landing, duckdb_path=root / "warehouse.duckdb")

    def build(
        self, *args: str, dbt_vars: dict[str, Any] | None = None, unit_tests: bool = False
    ) -> BuildResult:
        """Run `dbt build` (plus args); return its exit code and output.

        dbt unit tests (YAML) only run when unit_tests is set: they do not depend on the data.
        """
        command = [
            str(DBT),
            "build",
            "--profiles-dir",
            "profiles",
            "--target-path",
            str(self.root / "target"),
            "--log-path",
            str(self.root / "logs"),
            "--no-use-colors",
            *args,
        ]
        if not unit_tests:
            command += ["--exclude-resource-type", "unit_test"]
        if dbt_vars:
            command += ["--vars", json.dumps(dbt_vars)]
        env = {
            **os.environ,
            "DUCKDB_PATH": str(self.duckdb_path),
            "AIQ_LANDING_DIR": str(self.landing),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        proc = subprocess.run(
            command,
            cwd=PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        return BuildResult(proc.returncode, proc.stdout + proc.stderr)

    def build_ok(
        self, *args: str, dbt_vars: dict[str, Any] | None = None, unit_tests: bool = False
    ) -> BuildResult:
        result = self.build(*args, dbt_vars=dbt_vars, unit_tests=unit_tests)
        assert result.ok, result.output[-6000:]
        return result

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.duckdb_path)) as con:
            return con.execute(sql, params or []).fetchall()

    def execute(self, sql: str, params: list[Any] | None = None) -> None:
        with duckdb.connect(str(self.duckdb_path)) as con:
            con.execute(sql, params or [])

    def attribute_changes(self) -> set[tuple[str, str, str, str]]:
        """(braze_key_type, braze_key, attribute_name, value_json) of every pending change."""
        rows = self.query(
            "select braze_key_type, braze_key, attribute_name, value_json "
            "from braze_attribute_changes"
        )
        return {tuple(r) for r in rows}  # type: ignore[misc]

    def event_changes(self) -> dict[str, tuple[Any, ...]]:
        """event_id -> (braze_key_type, braze_key, event_name, event_time, properties, source)."""
        rows = self.query(
            "select event_id, braze_key_type, braze_key, event_name, event_time, "
            "properties_json, source_id from braze_event_changes"
        )
        return {r[0]: tuple(r[1:]) for r in rows}

    def rejected(self, stream: str) -> set[tuple[Any, ...]]:
        """(source_id, external_id, braze_id, attribute_name, event_id, reason) per stream."""
        rows = self.query(
            "select source_id, external_id, braze_id, attribute_name, event_id, reason "
            "from rejected_rows where stream = ?",
            [stream],
        )
        return {tuple(r) for r in rows}

    def record_sync(self) -> None:
        """Do what the sync does after Braze acknowledged everything pending (the contract)."""
        with duckdb.connect(str(self.duckdb_path)) as con:
            run_id = f"test-run-{next(_RUN_NUMBERS)}"  # each sync run has its own id
            accept_attribute_changes(con, run_id)
            accept_event_changes(con, run_id)

    def hold(self, key_type: str, key: str, attribute: str, value_json: str) -> None:
        """Put one row in the ledger, as if Braze had accepted it in an earlier sync."""
        self.execute(
            "insert into sync_attribute_ledger values (?, ?, ?, ?, 'membership', 'seed', now())",
            [key_type, key, attribute, value_json],
        )
