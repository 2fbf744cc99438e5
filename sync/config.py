"""Settings of the sync: every tunable lives here, read from the environment.

Required for `run` and `check`: BRAZE_REST_ENDPOINT and BRAZE_API_KEY. `plan` and `status` need
neither. Everything else has a default and an `AIQ_SYNC_` prefixed variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# Braze limits (docs/decisions and /users/track docs): 75 objects per request, combined across
# the arrays (or per array for accounts on the legacy limits); 3,000 requests per 3 seconds.
DEFAULT_OBJECTS_PER_REQUEST = 75
DEFAULT_RATE_LIMIT = 3000
DEFAULT_RATE_WINDOW_S = 3.0
DEFAULT_CONCURRENCY = 96
DEFAULT_CONNECT_TIMEOUT_S = 5.0
DEFAULT_REQUEST_TIMEOUT_S = 30.0
DEFAULT_MAX_RETRIES = 6
DEFAULT_BACKOFF_BASE_S = 0.5
DEFAULT_BACKOFF_CAP_S = 30.0
DEFAULT_MAX_RATE_LIMIT_WAITS = 50
DEFAULT_READ_CHUNK_ROWS = 20_000
DEFAULT_COMMIT_INTERVAL_S = 0.3
DEFAULT_COMMIT_MAX_ROWS = 50_000
DEFAULT_DUCKDB_MEMORY_LIMIT = "1GB"
DEFAULT_DUCKDB_THREADS = 1  # leaves the other core to the senders
MAX_BODY_BYTES = 4 * 1024 * 1024
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
UNKNOWN_EVENT_POLICIES = ("resend", "skip")

ENV_ENDPOINT = "BRAZE_REST_ENDPOINT"
ENV_API_KEY = "BRAZE_API_KEY"  # secret: never logged, printed or stored


class ConfigError(Exception):
    """A setting is missing or invalid. The message names every faulty setting."""


@dataclass(frozen=True)
class Settings:
    duckdb_path: str
    endpoint: str | None
    api_key: str | None = field(repr=False)
    objects_per_request: int = DEFAULT_OBJECTS_PER_REQUEST
    legacy_per_array: bool = False
    rate_limit: int = DEFAULT_RATE_LIMIT
    rate_window_s: float = DEFAULT_RATE_WINDOW_S
    concurrency: int = DEFAULT_CONCURRENCY
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
    request_timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S
    max_retries: int = DEFAULT_MAX_RETRIES
    backoff_base_s: float = DEFAULT_BACKOFF_BASE_S
    backoff_cap_s: float = DEFAULT_BACKOFF_CAP_S
    max_rate_limit_waits: int = DEFAULT_MAX_RATE_LIMIT_WAITS
    unknown_event_policy: str = "resend"
    read_chunk_rows: int = DEFAULT_READ_CHUNK_ROWS
    commit_interval_s: float = DEFAULT_COMMIT_INTERVAL_S
    commit_max_rows: int = DEFAULT_COMMIT_MAX_ROWS
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    duckdb_threads: int = DEFAULT_DUCKDB_THREADS

    def __repr__(self) -> str:  # the key never appears, even in a debugger or a traceback
        return f"Settings(duckdb_path={self.duckdb_path!r}, endpoint={self.endpoint!r}, ...)"


# name -> (field, parser)
_INT = "int"
_FLOAT = "float"
_BOOL = "bool"
_STR = "str"
_TUNABLES: dict[str, tuple[str, str]] = {
    "AIQ_SYNC_OBJECTS_PER_REQUEST": ("objects_per_request", _INT),
    "AIQ_SYNC_LEGACY_PER_ARRAY": ("legacy_per_array", _BOOL),
    "AIQ_SYNC_RATE_LIMIT": ("rate_limit", _INT),
    "AIQ_SYNC_RATE_WINDOW_S": ("rate_window_s", _FLOAT),
    "AIQ_SYNC_CONCURRENCY": ("concurrency", _INT),
    "AIQ_SYNC_CONNECT_TIMEOUT_S": ("connect_timeout_s", _FLOAT),
    "AIQ_SYNC_REQUEST_TIMEOUT_S": ("request_timeout_s", _FLOAT),
    "AIQ_SYNC_MAX_RETRIES": ("max_retries", _INT),
    "AIQ_SYNC_BACKOFF_BASE_S": ("backoff_base_s", _FLOAT),
    "AIQ_SYNC_BACKOFF_CAP_S": ("backoff_cap_s", _FLOAT),
    "AIQ_SYNC_MAX_RATE_LIMIT_WAITS": ("max_rate_limit_waits", _INT),
    "AIQ_SYNC_UNKNOWN_EVENT_POLICY": ("unknown_event_policy", _STR),
    "AIQ_SYNC_READ_CHUNK_ROWS": ("read_chunk_rows", _INT),
    "AIQ_SYNC_COMMIT_INTERVAL_S": ("commit_interval_s", _FLOAT),
    "AIQ_SYNC_COMMIT_MAX_ROWS": ("commit_max_rows", _INT),
    "AIQ_SYNC_DUCKDB_MEMORY_LIMIT": ("duckdb_memory_limit", _STR),
    "AIQ_SYNC_DUCKDB_THREADS": ("duckdb_threads", _INT),
}

_POSITIVE = {
    "objects_per_request",
    "rate_limit",
    "rate_window_s",
    "concurrency",
    "connect_timeout_s",
    "request_timeout_s",
    "read_chunk_rows",
    "commit_interval_s",
    "commit_max_rows",
    "duckdb_threads",
}


def _parse(kind: str, raw: str) -> object:
    if kind == _INT:
        return int(raw)
    if kind == _FLOAT:
        return float(raw)
    if kind == _BOOL:
        low = raw.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off", ""):
            return False
        raise ValueError(raw)
    return raw.strip()


def endpoint_problem(endpoint: str) -> str | None:
    """Why this endpoint is refused, or None. https only, except on the local machine."""
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return f"{ENV_ENDPOINT} must be a URL such as https://rest.iad-01.braze.com"
    if parts.scheme == "http" and host not in LOCAL_HOSTS:
        return f"{ENV_ENDPOINT} must use https (plain http is only allowed for localhost)"
    if parts.path not in ("", "/"):
        return f"{ENV_ENDPOINT} must be the REST host only, without a path"
    return None


def load(
    env: Mapping[str, str] | None = None, *, need_braze: bool = True
) -> Settings:
    """Read the settings. Raise ConfigError naming every missing or invalid setting at once."""
    env = os.environ if env is None else env
    problems: list[str] = []
    missing: list[str] = []
    endpoint = (env.get(ENV_ENDPOINT) or "").strip() or None
    api_key = (env.get(ENV_API_KEY) or "").strip() or None
    if need_braze:
        missing += [name for name, val in ((ENV_ENDPOINT, endpoint), (ENV_API_KEY, api_key))
                    if val is None]
    if endpoint is not None:
        problem = endpoint_problem(endpoint)
        if problem:
            problems.append(problem)
        endpoint = endpoint.rstrip("/")
    values: dict[str, object] = {}
    for name, (fname, kind) in _TUNABLES.items():
        raw = env.get(name)
        if raw is None or raw.strip() == "":
            continue
        try:
            value = _parse(kind, raw)
        except ValueError:
            problems.append(f"{name}={raw!r} is not a valid {kind}")
            continue
        if fname in _POSITIVE and isinstance(value, int | float) and value <= 0:
            problems.append(f"{name} must be positive")
            continue
        if isinstance(value, int | float) and value < 0:
            problems.append(f"{name} must not be negative")
            continue
        values[fname] = value
    policy = values.get("unknown_event_policy", "resend")
    if policy not in UNKNOWN_EVENT_POLICIES:
        problems.append(
            f"AIQ_SYNC_UNKNOWN_EVENT_POLICY must be one of {', '.join(UNKNOWN_EVENT_POLICIES)}"
        )
    if missing:
        problems.insert(0, "missing required setting(s): " + ", ".join(missing))
    if problems:
        raise ConfigError("; ".join(problems))
    duckdb_path = (env.get("DUCKDB_PATH") or "").strip() or "data/warehouse.duckdb"
    return Settings(duckdb_path=duckdb_path, endpoint=endpoint, api_key=api_key, **values)  # type: ignore[arg-type]
