"""Small helpers for the emulator's own tests."""

from __future__ import annotations

from typing import Any

import requests

from braze_emulator.testing import EmulatorHandle


def post(
    emu: EmulatorHandle,
    path: str,
    body: Any,
    key: str | None = None,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    all_headers = {
        "Authorization": f"Bearer {key or emu.api_key}",
        "Content-Type": "application/json",
    }
    all_headers.update(headers or {})
    return requests.post(f"{emu.base_url}{path}", json=body, headers=all_headers, timeout=10)


def track(emu: EmulatorHandle, body: Any, **kwargs: Any) -> requests.Response:
    return post(emu, "/users/track", body, **kwargs)


def export(emu: EmulatorHandle, body: Any, **kwargs: Any) -> requests.Response:
    return post(emu, "/users/export/ids", body, **kwargs)


def attrs(external_id: str, **values: Any) -> dict[str, Any]:
    return {"external_id": external_id, **values}


def event(external_id: str, name: str = "played", time: str = "2024-01-02T03:04:05Z",
          **extra: Any) -> dict[str, Any]:
    return {"external_id": external_id, "name": name, "time": time, **extra}
