"""Run one benchmark stage as a child process and measure its wall time and peak memory.

Peak memory is the child's maximum resident set size as the kernel reports it to `wait4`
(bench/rusage_exec.py): the largest of the child and the descendants it waited for (dbt's
threads are in its own process, so this is dbt's peak; for a pipeline of processes it is the
largest one, not a sum).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class StageResult:
    command: list[str]
    returncode: int
    seconds: float
    peak_rss_mb: float
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def last_json(self) -> dict[str, Any] | None:
        """The last output line that parses as a JSON object (the sync's run summary)."""
        for line in reversed(self.output.splitlines()):
            line = line.strip()
            if line.startswith("{") and line.endswith("}"):
                try:
                    value = json.loads(line)
                except ValueError:
                    continue
                if isinstance(value, dict):
                    return value
        return None

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self.output.splitlines()[-lines:])


LAUNCHER = Path(__file__).resolve().parent / "rusage_exec.py"


def run_stage(
    command: Sequence[str],
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    log: Path | None = None,
    timeout: float | None = None,
) -> StageResult:
    """Run command to completion; its stdout and stderr go to `log` (a temporary file if None).

    The command runs under bench/rusage_exec.py, so its peak memory is its own and not this
    process's. A stage still running after `timeout` seconds is killed with its process group
    (returncode -9).
    """
    full_env = {**os.environ, **(env or {})}
    with tempfile.TemporaryDirectory() as scratch:
        log_path = log or Path(scratch) / "stage.log"
        usage_path = Path(scratch) / "rusage.json"
        launcher = [sys.executable, str(LAUNCHER), str(usage_path), *command]
        started = time.perf_counter()
        with log_path.open("w", encoding="utf-8") as fh:
            proc = subprocess.Popen(
                launcher,
                env=full_env,
                cwd=cwd,
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        seconds = time.perf_counter() - started
        output = log_path.read_text(encoding="utf-8", errors="replace")
        usage = json.loads(usage_path.read_text()) if usage_path.exists() else {}
    return StageResult(
        command=list(command),
        returncode=int(usage.get("returncode", proc.returncode)),
        seconds=round(seconds, 3),
        peak_rss_mb=round(usage.get("maxrss_kb", 0) / 1024.0, 1),  # Linux reports KiB
        output=output,
    )
