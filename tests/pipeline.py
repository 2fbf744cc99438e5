"""The main job as an orchestrator runs it: `dbt build`, then `python -m sync run`, as
subprocesses with their settings in the environment, on a temporary DuckDB file and landing dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@dataclass
class Pipeline:
    root: Path
    landing: Path
    warehouse: Path
    base_url: str
    api_key: str
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("BRAZE_", "AIQ_", "DBT_"))
        }
        env.update(
            AIQ_LANDING_DIR=str(self.landing),
            DUCKDB_PATH=str(self.warehouse),
            BRAZE_REST_ENDPOINT=self.base_url,
            BRAZE_API_KEY=self.api_key,
            DBT_TARGET_PATH=str(self.root / "dbt-target"),
            DBT_LOG_PATH=str(self.root / "dbt-logs"),
            DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        )
        env.update(self.extra_env)
        return env

    def build(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(BIN / "dbt"), "build", "--profiles-dir", "profiles", *args]
        proc = subprocess.run(cmd, cwd=ROOT, env=self.env(), capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise AssertionError(
                f"dbt build failed ({proc.returncode}):\n{proc.stdout[-6000:]}{proc.stderr[-2000:]}"
            )
        return proc

    def sync(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "sync", *(args or ("run",))]
        proc = subprocess.run(cmd, cwd=ROOT, env=self.env(), capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise AssertionError(
                f"sync failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
            )
        return proc

    def cycle(self) -> dict:
        """dbt build then sync run; returns the sync's one-line JSON summary."""
        self.build()
        return last_json_line(self.sync("run").stdout)


def last_json_line(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise AssertionError(f"no JSON summary line in output:\n{text[-2000:]}")


@pytest.fixture
def pipeline(tmp_path: Path, emulator) -> Pipeline:
    landing = tmp_path / "landing"
    landing.mkdir()
    return Pipeline(
        root=tmp_path,
        landing=landing,
        warehouse=tmp_path / "warehouse.duckdb",
        base_url=emulator.base_url,
        api_key=emulator.api_key,
    )
