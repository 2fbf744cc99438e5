"""Drive a Braze emulator from Python: a handle on a running one, and a context manager that
starts one as a subprocess. Used by the pytest fixtures, the demo and the benchmarks.

Interface (stable; other packages build on it):

    from braze_emulator.testing import EmulatorHandle, run_emulator

    with run_emulator(api_key=None, latency_ms=None, config=None,   # -> EmulatorHandle
                      extra_args=["--workers", "2"]) as emu:       # config: settings.py names
        emu.base_url            # "http://127.0.0.1:PORT"  (POST {base_url}/users/track, ...)
        emu.api_key             # a key with every permission (random unless given)
        emu.log_path, emu.pid   # the emulator's stderr log file; its process id
        emu.reset()             # back to the start-up state: no profiles, events, faults, keys
        emu.state(**filters)    # GET /_emulator/state -> dict with profiles, events, purchases,
                                #   data_points {total, attributes, events, purchases}, counters,
                                #   requests (recent log), faults_seen, settings, faults.
                                #   filters: include="profiles,events", external_id=, braze_id=,
                                #   event_name=, path=, last=N
        emu.profile(external_id=... | braze_id=...)  # one profile dict or None
        emu.create_profiles([{"external_id": "u1", "custom_attributes": {"a": 1}},
                             {"email": "x@y.com"}, {"user_aliases": [{...}]}])  # -> [braze_id]
        emu.set_faults(sequence=["503", "ok", "drop_after_apply"], path="/users/track")
        emu.set_faults(rates={"503": 0.1, "reset": 0.05}, paths=None, seed=1)   # clear=True
        emu.set_limits(rate_limits={"/users/track": {"limit": 10, "window_seconds": 3}},
                       rate_limit_header_style="delta", batch_limit_mode="per_array")
        emu.set_latency(latency_ms=20, jitter_ms=10, hang_seconds=5, export_lag_ms=500)
        emu.set_settings(unknown_braze_id="ignore", ...)   # any setting (see settings.py)
        emu.add_key("k2", ["users.export.ids"], name="export-only")

    In pytest: the `emulator` fixture (tests/conftest.py) yields a handle on a session-wide
    emulator, reset before each test. EmulatorHandle(base_url, api_key) also works on any
    emulator already running (e.g. the demo's).

    Fault kinds: "500" "502" "503" "504" "429" (answered, not applied), "reset" (connection
    reset, not applied), "hang" (never answered, not applied), "drop_after_apply" (applied,
    connection dropped before the response). Profile dicts carry braze_id, external_id,
    user_aliases, reserved fields (email, first_name, ...) at top level, custom_attributes,
    data_points, custom_events, purchases, created_at, updated_at. Event records carry id,
    braze_id, external_id, name, time (after clamping), properties, app_id, received_at.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests


class EmulatorError(RuntimeError):
    """The emulator refused a control-plane request or could not start."""


class EmulatorHandle:
    def __init__(
        self, base_url: str, api_key: str, log_path: str | None = None, pid: int | None = None
    ):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.log_path = log_path
        self.pid = pid  # of the emulator process, when run_emulator started it
        self._session = requests.Session()

    def __repr__(self) -> str:  # never shows the key
        return f"EmulatorHandle({self.base_url!r})"

    def _call(self, method: str, route: str, **kwargs: Any) -> dict[str, Any]:
        response = self._session.request(
            method, f"{self.base_url}/_emulator/{route}", timeout=30, **kwargs
        )
        if response.status_code != 200:
            raise EmulatorError(
                f"{method} /_emulator/{route}: {response.status_code} {response.text}"
            )
        return response.json()

    def reset(self) -> None:
        self._call("POST", "reset")

    def state(self, **filters: Any) -> dict[str, Any]:
        params = {k: str(v) for k, v in filters.items() if v is not None}
        return self._call("GET", "state", params=params)

    def profile(
        self, external_id: str | None = None, braze_id: str | None = None
    ) -> dict[str, Any] | None:
        profiles = self.state(include="profiles", external_id=external_id, braze_id=braze_id)[
            "profiles"
        ]
        return profiles[0] if profiles else None

    def create_profiles(self, profiles: list[dict[str, Any]]) -> list[str]:
        return self._call("POST", "profiles", json={"profiles": profiles})["braze_ids"]

    def set_faults(self, **spec: Any) -> dict[str, Any]:
        return self._call("POST", "faults", json=spec)

    def set_limits(self, **limits: Any) -> dict[str, Any]:
        return self._call("POST", "limits", json=limits)

    def set_latency(self, **values: Any) -> dict[str, Any]:
        return self._call("POST", "latency", json=values)

    def set_settings(self, **values: Any) -> dict[str, Any]:
        return self._call("POST", "settings", json=values)

    def add_key(self, key: str, permissions: list[str], name: str | None = None) -> None:
        self._call("POST", "keys", json={"key": key, "permissions": permissions, "name": name})

    def close(self) -> None:
        self._session.close()


@contextmanager
def run_emulator(
    api_key: str | None = None,
    latency_ms: float | None = None,
    config: dict[str, Any] | None = None,
    port: int = 0,
    start_timeout: float = 20.0,
    extra_args: list[str] | tuple[str, ...] = (),
) -> Iterator[EmulatorHandle]:
    """Start `python -m braze_emulator` as a subprocess; stop it on exit.

    stderr goes to a temporary log file (handle.log_path), kept for reading after a failure.
    """
    import json

    api_key = api_key or f"test-{secrets.token_hex(16)}"
    workdir = tempfile.mkdtemp(prefix="braze-emulator-")
    log_path = os.path.join(workdir, "emulator.log")
    command = [sys.executable, "-m", "braze_emulator", "--port", str(port), "--api-key", api_key]
    if latency_ms is not None:
        command += ["--latency-ms", str(latency_ms)]
    if config is not None:
        config_path = os.path.join(workdir, "config.json")
        with open(config_path, "w", encoding="utf-8") as handle:
            json.dump(config, handle)
        command += ["--config", config_path]
    command += list(extra_args)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL
        )
    try:
        base_url = _first_line(process, start_timeout)
        if not base_url.startswith("http://127.0.0.1:"):
            raise EmulatorError(f"emulator did not start (log: {log_path}): {base_url!r}")
        handle = EmulatorHandle(base_url, api_key, log_path, process.pid)
        try:
            yield handle
        finally:
            handle.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


def _first_line(process: subprocess.Popen[bytes], timeout: float) -> str:
    result: list[bytes] = []
    reader = threading.Thread(
        target=lambda: result.append(process.stdout.readline() if process.stdout else b""),
        daemon=True,
    )
    reader.start()
    reader.join(timeout)
    if not result:
        raise EmulatorError(f"emulator printed no base URL within {timeout} s")
    return result[0].decode().strip()
