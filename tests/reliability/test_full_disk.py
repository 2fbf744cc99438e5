"""A full disk under the warehouse: the DuckDB file on a small tmpfs that fills up during `dbt
build`, and during the sync's recording (its group commits and its `<warehouse>.sync-stage`
scratch file). Each time: a clear error (exit code, a message naming the full disk), nothing
half-applied (the ledger holds only what Braze acknowledged), and once space is freed the next
cycle reaches the exact truth, re-sending no more than the documented bound (ADR 0011).

Needs root (mount); skipped otherwise. The tmpfs is always unmounted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from tests.pipeline import ROOT
from tests.reliability.faults import (
    SLOW_CONCURRENCY,
    SLOW_OBJECTS_PER_REQUEST,
    SLOW_RATE_PER_S,
    SLOW_SYNC_ENV,
    distinct_events,
    event_duplicates,
    sync_until_done,
)
from tests.reliability.oracle import Oracle
from tests.reliability.runner import compare, land
from tests.reliability.scenarios import crowd

OBJECTS_PER_REQUEST = SLOW_OBJECTS_PER_REQUEST
CONCURRENCY = SLOW_CONCURRENCY
RATE_PER_S = SLOW_RATE_PER_S
DISK_ENV = SLOW_SYNC_ENV
# As for a kill (test_kills.py, ADR 0011): what can be sent twice is the requests in flight plus
# those acknowledged since the last group commit, two seconds of work at most. A failed commit is
# a kill at the recorder: after the disk fills, the run may send at most this many requests.
RESEND_BOUND_REQUESTS = CONCURRENCY + RATE_PER_S * 2
DISK_FULL = "No space left on device"


class ResendBoundExceeded(AssertionError):
    """More was sent twice than the documented bound allows."""


@contextmanager
def tmpfs(folder: Path, size: str) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    folder.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True, text=True,
    )
    if proc.returncode != 0:
        pytest.skip(f"mount not permitted here: {proc.stderr.strip()[:200]}")
    try:
        yield folder
    finally:
        if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(folder)], check=True)


def resize(folder: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(folder)], check=True)


@contextmanager
def filled(folder: Path, leave_bytes: int) -> Iterator[None]:
    """Fill the file system with a ballast file, leaving `leave_bytes` free; free it after."""
    ballast = folder / "ballast"
    stat = os.statvfs(folder)
    with ballast.open("wb") as f:
        f.write(b"\0" * max(0, stat.f_bavail * stat.f_frsize - leave_bytes))
    try:
        yield
    finally:
        ballast.unlink()


def start(pipeline, emulator, tmp_path: Path, disk: Path, people: int) -> tuple[Oracle, list]:
    steps, known = crowd(people=people, seed=7)
    emulator.create_profiles(
        [{"braze_id": b, "external_id": e} if e else {"braze_id": b} for b, e in known.items()]
    )
    emulator.set_latency(latency_ms=20, jitter_ms=10)
    pipeline.warehouse = disk / "warehouse.duckdb"
    pipeline.extra_env.update(DISK_ENV)
    oracle = Oracle()
    land(pipeline.landing, steps[0])
    oracle.apply(steps[0])
    return oracle, steps


def requests(emulator) -> int:
    return emulator.state(include="counters")["counters"]["requests"]


def sync_filling_the_disk_mid_run(pipeline, emulator, disk: Path
                                  ) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run the sync; fill the disk once its first request reached Braze. Returns the finished
    process and how many requests Braze had received when the disk filled."""
    cmd = [sys.executable, "-m", "sync", "run"]
    before = requests(emulator)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=pipeline.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while requests(emulator) == before and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, "the run ended before the disk could fill"
    with filled(disk, 0):
        at_fill = requests(emulator)
        out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err), at_fill


def assert_clear_disk_error(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 6, (proc.returncode, proc.stderr[-2000:])
    assert "disk holding the warehouse" in proc.stderr and DISK_FULL in proc.stderr
    assert "Traceback" not in proc.stderr


def test_full_disk_during_build_fails_clearly_and_recovers(pipeline, emulator, tmp_path):
    # DuckDB keeps committing to its .wal when a checkpoint finds the disk full (the whole
    # build of this crowd fits in about 430 KB of WAL), so the disk must be smaller than that.
    with tmpfs(tmp_path / "disk", "256k") as disk:
        oracle, _ = start(pipeline, emulator, tmp_path, disk, people=400)
        build = pipeline.build(check=False)
        assert build.returncode != 0
        assert DISK_FULL in build.stdout + build.stderr, build.stdout[-3000:]
        # An orchestrator that runs the sync anyway: a clear refusal, nothing sent.
        sync = pipeline.sync("run", check=False)
        assert sync.returncode == 6, (sync.returncode, sync.stderr[-2000:])
        assert "Traceback" not in sync.stderr
        assert requests(emulator) == 0
        resize(disk, "64m")
        pipeline.cycle()
        state = emulator.state()
        assert compare(state, oracle) == []
        assert state["data_points"]["total"] == oracle.data_points


# A group commit that fails stops the run: nothing more is sent that could not be recorded.
def test_full_disk_during_sync_records_only_acknowledged_work(pipeline, emulator, tmp_path):
    with tmpfs(tmp_path / "disk", "64m") as disk:
        oracle, _ = start(pipeline, emulator, tmp_path, disk, people=1500)
        pipeline.build()
        # No room at all: the run stops before its first request (stage or run row).
        with filled(disk, 0):
            proc = pipeline.sync("run", check=False)
        assert_clear_disk_error(proc)
        assert requests(emulator) == 0
        # The disk fills in the middle of the send: once the first request has reached Braze,
        # a ballast takes every free byte, so the next group commit cannot be written.
        proc, at_fill = sync_filling_the_disk_mid_run(pipeline, emulator, disk)
        assert_clear_disk_error(proc)
        failed_run_requests = requests(emulator)
        after_fill = failed_run_requests - at_fill
        # Nothing half-applied: every ledger value is one Braze acknowledged (holds now).
        with duckdb.connect(str(pipeline.warehouse)) as con:
            ledger = con.execute(
                "select braze_key_type, braze_key, attribute_name, value_json "
                "from sync_attribute_ledger"
            ).fetchall()
            recorded_events = con.execute("select count(*) from sync_delivered_events").fetchone()
        pending = oracle.data_points - len(ledger) - recorded_events[0]
        assert pending > 0, "the whole run was recorded: the disk never filled mid-run"
        profiles = {}
        for p in emulator.state()["profiles"]:
            profiles[("braze_id", p["braze_id"])] = p.get("custom_attributes") or {}
            if p.get("external_id"):
                profiles[("external_id", p["external_id"])] = p.get("custom_attributes") or {}
        for key_type, key, name, value_json in ledger:
            held = profiles[(key_type, key)]
            assert held.get(name) == json.loads(value_json), (key_type, key, name, value_json)
        assert recorded_events[0] <= len(emulator.state()["events"])
        # Space freed: the next runs reach the exact truth, re-sending within the bound.
        sync_until_done(pipeline)
        state = emulator.state()
        problems = compare(distinct_events(state), oracle)
        assert not problems, "\n".join(problems[:20])
        resent = state["data_points"]["total"] - oracle.data_points
        assert resent >= 0
        duplicates = event_duplicates(state)
        assert duplicates <= OBJECTS_PER_REQUEST * failed_run_requests
        if after_fill > RESEND_BOUND_REQUESTS:
            raise ResendBoundExceeded(
                f"the run sent {after_fill} requests after the disk filled (bound "
                f"{RESEND_BOUND_REQUESTS}): {resent} data points and {duplicates} events "
                f"sent twice")
