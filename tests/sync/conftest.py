"""Fixtures of the sync tests: a real warehouse (state tables built by real dbt, once per
session), change tables created per the contract in docs/architecture.md, and the emulator."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from braze_emulator.testing import EmulatorHandle
from tests.sync.helpers import ROOT, SyncEnv, create_change_tables


@pytest.fixture(scope="session")
def state_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`dbt build --select state` once per session on a temporary DuckDB file."""
    base = tmp_path_factory.mktemp("sync-dbt")
    path = base / "template.duckdb"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BRAZE_", "AIQ_", "DBT_"))}
    env.update(DUCKDB_PATH=str(path), DBT_TARGET_PATH=str(base / "target"),
               DBT_LOG_PATH=str(base / "logs"), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    dbt = Path(sys.executable).parent / "dbt"
    proc = subprocess.run(
        [str(dbt), "build", "--select", "state", "--profiles-dir", "profiles"],
        cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:]
    return path


@pytest.fixture
def warehouse(state_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the state tables plus empty change tables."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(state_template, path)
    create_change_tables(path)
    return path


@pytest.fixture
def sync_env(warehouse: Path, emulator: EmulatorHandle) -> Iterator[SyncEnv]:
    yield SyncEnv(warehouse=warehouse, emulator=emulator)
