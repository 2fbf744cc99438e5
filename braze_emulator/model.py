"""The emulated Braze workspace: business rules of /users/track and /users/export/ids.

Knows no HTTP: it takes decoded JSON bodies and returns JSON-able answers or raises the errors
of `braze_emulator.errors`. One instance holds one consistent state (profiles, events,
purchases, data points, counters, request log, faults seen) that the control plane dumps.
"""

from __future__ import annotations

import copy
import itertools
import os
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any

from braze_emulator.exporting import build_export
from braze_emulator.faults import FaultPlan
from braze_emulator.ratelimit import RateLimiter
from braze_emulator.settings import Settings
from braze_emulator.store import Store
from braze_emulator.timeparse import format_time
from braze_emulator.tracking import ARRAYS, Tracking


class Backend(Tracking):
    def __init__(self, settings: Settings):
        self.base_settings = copy.deepcopy(settings)
        self.reset()

    # -- lifecycle ----------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the start-up state and settings: nothing survives but the base config."""
        self.settings = copy.deepcopy(self.base_settings)
        self.store = Store()
        self.events: list[dict[str, Any]] = []
        self.purchases: list[dict[str, Any]] = []
        self.data_points = {"total": 0, "attributes": 0, "events": 0, "purchases": 0}
        self.counters: dict[str, Any] = {
            "requests": 0,
            "requests_by_path": {},
            "responses_by_status": {},
            "objects_received": dict.fromkeys(ARRAYS, 0),
            "objects_processed": dict.fromkeys(ARRAYS, 0),
            "objects_rejected": dict.fromkeys(ARRAYS, 0),
            "objects_skipped": dict.fromkeys(ARRAYS, 0),
            "profiles_created": 0,
            "events_stored": 0,
            "purchases_stored": 0,
            "faults": 0,
        }
        self.request_log: deque[dict[str, Any]] = deque(maxlen=self.settings.request_log_size)
        self._logged_bodies: deque[dict[str, Any]] = deque()
        self.faults_seen: deque[dict[str, Any]] = deque(maxlen=self.settings.request_log_size)
        self.faults = FaultPlan()
        self.limiter = RateLimiter()
        self._visible: dict[str, dict[str, Any]] = {}
        self._pending: deque[tuple[float, str, dict[str, Any]]] = deque()
        self._record_ids = itertools.count(1)
        self._id_prefix = os.urandom(4).hex()
        self._request_seq = itertools.count(1)

    def next_request_seq(self) -> int:
        return next(self._request_seq)

    # -- /users/export/ids --------------------------------------------------------------------

    def export(self, body: Any) -> dict[str, Any]:
        self._drain_pending()
        lagging = self.settings.export_lag_ms > 0
        return build_export(
            body, self.store, self.settings, self._visible if lagging else None
        )

    def _drain_pending(self) -> None:
        now = time.monotonic()
        pending = self._pending
        while pending and pending[0][0] <= now:
            _, braze_id, snapshot = pending.popleft()
            self._visible[braze_id] = snapshot

    # -- control plane --------------------------------------------------------------------------

    def create_profiles(self, specs: Any) -> list[str]:
        """Pre-create profiles (as if Braze had them already) and return their braze_ids."""
        from braze_emulator.seeding import create_profiles

        now_text = format_time(datetime.now(UTC))
        created = create_profiles(self.store, specs, now_text, self.settings)
        for braze_id in created:
            self._changed(self.store.profiles[braze_id], now_text)
            if self.settings.export_lag_ms > 0:  # seeded profiles are visible at once
                self._visible[braze_id] = copy.deepcopy(self.store.profiles[braze_id].as_dict())
        return created

    def record_request(self, entry: dict[str, Any], body: Any) -> None:
        """Log one API exchange. Counters are complete; the log keeps the last N entries."""
        counters = self.counters
        counters["requests"] += 1
        by_path = counters["requests_by_path"]
        by_path[entry["path"]] = by_path.get(entry["path"], 0) + 1
        by_status = counters["responses_by_status"]
        status = str(entry["status"])
        by_status[status] = by_status.get(status, 0) + 1
        if entry.get("fault"):
            counters["faults"] += 1
            self.faults_seen.append(
                {"seq": entry["seq"], "path": entry["path"], "kind": entry["fault"],
                 "at": entry["at"]}
            )
        limit = self.settings.request_log_bodies
        if body is not None and limit > 0:
            if isinstance(body, dict) and "api_key" in body:
                body = {**body, "api_key": "[redacted]"}
            entry["body"] = body
            if len(self._logged_bodies) >= limit:
                self._logged_bodies.popleft().pop("body", None)
            self._logged_bodies.append(entry)
        if self.request_log.maxlen != self.settings.request_log_size:
            self.request_log = deque(self.request_log, maxlen=self.settings.request_log_size)
        self.request_log.append(entry)

    def dump(self, query: dict[str, str]) -> dict[str, Any]:
        from braze_emulator.dumping import dump_state

        return dump_state(self, query)
