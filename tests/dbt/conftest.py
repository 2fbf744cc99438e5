"""Fixtures for the dbt integration tests: a temporary landing dir and DuckDB file per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from aiq_dbt_harness import Warehouse


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    """An empty landing dir and warehouse; run dbt against them with warehouse.build()."""
    yield Warehouse.create(tmp_path)
