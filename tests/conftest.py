"""Root pytest fixtures: the Braze emulator (one subprocess per session, reset per test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from braze_emulator.testing import EmulatorHandle, run_emulator


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[EmulatorHandle]:
    """One `python -m braze_emulator --port 0` for the whole session, with a random test key."""
    with run_emulator() as handle:
        yield handle


@pytest.fixture
def emulator(emulator_server: EmulatorHandle) -> EmulatorHandle:
    """A fresh emulator for each test: reset to its start-up state before the test runs."""
    emulator_server.reset()
    return emulator_server
