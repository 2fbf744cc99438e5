"""Fault injection: by rate per kind, or a scripted sequence for the next requests of a path.

Kinds: "500", "502", "503", "504" and "429" answer with that status without applying;
"reset" closes the connection (RST) before applying; "hang" holds the connection open without
applying and never answers; "drop_after_apply" applies the write, then drops the connection
before the response. "ok" in a sequence lets that request through untouched. Pure: no HTTP.
"""

from __future__ import annotations

import random
from collections import deque
from typing import Any

from braze_emulator.errors import ControlError

STATUS_KINDS = frozenset({"500", "502", "503", "504", "429"})
CONNECTION_KINDS = frozenset({"reset", "hang", "drop_after_apply"})
KINDS = STATUS_KINDS | CONNECTION_KINDS


class FaultPlan:
    def __init__(self) -> None:
        self.rates: dict[str, float] = {}
        self.rate_paths: set[str] | None = None
        self.sequences: dict[str, deque[str]] = {}
        self._random = random.Random(0)

    def configure(self, spec: dict[str, Any]) -> None:
        """Body of POST /_emulator/faults.

        {"rates": {"503": 0.1, "reset": 0.05}, "paths": ["/users/track"] | null (all API paths),
         "sequence": ["503", "ok", "drop_after_apply"], "path": "/users/track",
         "seed": 1, "clear": true}
        """
        known = {"rates", "paths", "sequence", "path", "seed", "clear"}
        unknown = sorted(set(spec) - known)
        if unknown:
            raise ControlError(f"unknown fault option(s): {', '.join(unknown)}")
        if spec.get("clear"):
            self.rates, self.rate_paths, self.sequences = {}, None, {}
        if "seed" in spec:
            self._random = random.Random(spec["seed"])
        if "rates" in spec:
            rates = spec["rates"] or {}
            for kind, rate in rates.items():
                if kind not in KINDS:
                    raise ControlError(f"unknown fault kind {kind!r}; kinds: {sorted(KINDS)}")
                if not isinstance(rate, int | float) or not 0 <= rate <= 1:
                    raise ControlError("a fault rate is a number from 0 to 1")
            if sum(rates.values()) > 1:
                raise ControlError("fault rates add up to more than 1")
            self.rates = {k: float(v) for k, v in rates.items() if v}
        if "paths" in spec:
            self.rate_paths = set(spec["paths"]) if spec["paths"] is not None else None
        if "sequence" in spec:
            sequence = spec["sequence"] or []
            for kind in sequence:
                if kind not in KINDS and kind not in ("ok", None):
                    raise ControlError(f"unknown fault kind {kind!r} in sequence")
            path = spec.get("path", "/users/track")
            self.sequences[path] = deque("ok" if k is None else k for k in sequence)

    def choose(self, path: str) -> str | None:
        sequence = self.sequences.get(path)
        if sequence:
            kind = sequence.popleft()
            return None if kind == "ok" else kind
        if not self.rates or (self.rate_paths is not None and path not in self.rate_paths):
            return None
        draw = self._random.random()
        for kind, rate in self.rates.items():
            if draw < rate:
                return kind
            draw -= rate
        return None

    def describe(self) -> dict[str, Any]:
        return {
            "rates": self.rates,
            "paths": sorted(self.rate_paths) if self.rate_paths is not None else None,
            "sequences": {path: list(seq) for path, seq in self.sequences.items()},
        }
