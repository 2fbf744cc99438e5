"""Generate realistic ActionIQ extracts of any size, deterministic from a seed.

The layout is the one in the extract contract (docs: /work/shared/spec/actioniq-extracts.md):
membership and attribute deliveries with their manifests, and one events file per day. Every
value is a pure function of (seed, person, split or attribute, day), computed by DuckDB with its
`hash()`, so any day can be written on its own, in seconds for millions of people, and the same
seed gives the same bytes (with the pinned DuckDB version).

Model of a day `d` (day 0 is the first delivery, each later day is one daily cycle):

- People `0 .. people-1`. Identity mix: `braze_only` of them carry only a `braze_id`,
  `external_only` only an `external_id`, the rest both. Every day `identify_rate` of all people
  move from braze_id-only to both identifiers (a late login), so identity changes are exercised.
- Splits: `splits` audience splits (up to 4 per audience), each of a fixed share of people
  between 2% and 40%. Each day a share `churn` of each split's members leaves and as many
  non-members enter (a rotating window over a per-person random number), so split sizes stay
  constant and entries + exits per day = 2 * churn * members.
- Attributes: `attributes` custom attribute columns cycling through the types string, number,
  boolean, time; each day a share `attribute_change` of people get a new value per attribute,
  and about 5% of cells are empty. The delivery is a full snapshot of every person.
- Events: `events_per_day` events of 8 names, by people picked at random, at times spread over
  the day, with two extra fields (`channel`, `order_value`) sent as properties.

CLI: python -m extracts.generator --landing DIR --people 1000000 --days 0 1 --format parquet
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from extracts.writer import _write_manifest

BASE_DAY = datetime(2026, 11, 1, 6, 0, 0, tzinfo=UTC)
ATTRIBUTE_TYPES = ("string", "number", "boolean", "time")
ATTRIBUTE_NAMES = (
    "ltv_tier",
    "churn_score",
    "is_vip",
    "last_order_at",
    "favourite_category",
    "lifetime_orders",
    "email_opt_in",
    "first_order_at",
)
EVENT_NAMES = (
    "viewed_product",
    "added_to_cart",
    "purchased",
    "opened_app",
    "searched",
    "wrote_review",
    "returned_item",
    "redeemed_offer",
)
STRING_VALUES = (
    ("bronze", "silver", "gold", "platinum"),
    ("books", "garden", "sports", "music", "toys", "travel", "food", "fashion"),
)
FORMATS = ("csv", "parquet")
EVENT_FORMATS = ("csv", "parquet", "jsonl")
SPLITS_PER_AUDIENCE = 4
NULL_PERCENT = 5


@dataclass(frozen=True)
class ExtractSpec:
    """Size and shape of a generated extract. Every field has a realistic default."""

    people: int = 1000
    splits: int = 20
    churn: float = 0.02
    events_per_day: int = 500
    attributes: int = 5
    seed: int = 42
    format: str = "csv"
    events_format: str | None = None  # defaults to `format`
    braze_only: float = 0.10
    external_only: float = 0.10
    identify_rate: float = 0.001
    attribute_change: float = 0.02
    rows_per_file: int = 1_000_000

    def __post_init__(self) -> None:
        if self.people < 1 or self.splits < 0 or self.attributes < 0 or self.events_per_day < 0:
            raise ValueError("people must be >= 1; splits, attributes, events must be >= 0")
        if self.format not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}")
        if self.events_format is not None and self.events_format not in EVENT_FORMATS:
            raise ValueError(f"events_format must be one of {EVENT_FORMATS}")
        for name in ("churn", "braze_only", "external_only", "identify_rate", "attribute_change"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.braze_only + self.external_only > 1.0:
            raise ValueError("braze_only + external_only must be at most 1")

    @property
    def event_format(self) -> str:
        return self.events_format or self.format


def delivery_id(day: int) -> str:
    return (BASE_DAY + timedelta(days=day)).strftime("%Y%m%dT%H%M%SZ")


def exported_at(day: int) -> str:
    return (BASE_DAY + timedelta(days=day)).strftime("%Y-%m-%dT%H:%M:%SZ")


def split_keys(spec: ExtractSpec) -> list[tuple[str, str]]:
    """(audience_id, split_id) of every split, in manifest order."""
    return [
        (str(1000 + s // SPLITS_PER_AUDIENCE), str(s % SPLITS_PER_AUDIENCE + 1))
        for s in range(spec.splits)
    ]


def attribute_columns(spec: ExtractSpec) -> dict[str, str]:
    """Attribute name -> type, in column order."""
    out: dict[str, str] = {}
    for a in range(spec.attributes):
        name = ATTRIBUTE_NAMES[a] if a < len(ATTRIBUTE_NAMES) else f"attr_{a:03d}"
        out[name] = ATTRIBUTE_TYPES[a % len(ATTRIBUTE_TYPES)]
    return out


def _connect(threads: int | None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"preserve_insertion_order": True})
    con.execute("set enable_progress_bar = false")
    if threads:
        con.execute(f"set threads = {int(threads)}")
    # u(...) is a uniform number in [0, 1) derived from its arguments' hash.
    con.execute("create macro u(a, b, c, d) as (hash(a, b, c, d) >> 11) / 9007199254740992.0")
    return con


def _people_sql(spec: ExtractSpec, day: int, lo: int, hi: int) -> str:
    """People lo..hi-1 with their identifiers as of `day`."""
    only_braze_until = max(0.0, spec.braze_only - day * spec.identify_rate)
    s = int(spec.seed)
    return f"""
        select
            i as person_id,
            case
                when uid < {only_braze_until!r} then null
                else 'cust-' || lpad(cast(i as varchar), 9, '0')
            end as external_id,
            case
                when uid >= {spec.braze_only!r} and uid < {spec.braze_only + spec.external_only!r}
                    then null
                else printf('%016x%08x', hash({s}, i, 'braze_id'), i)
            end as braze_id
        from (select i, u({s}, i, 'identity', 0) as uid from range({lo}, {hi}) t(i))
    """


def _split_share(spec: ExtractSpec, s: int) -> float:
    con = duckdb.connect()
    try:
        row = con.execute(
            "select (hash(?, ?, 'split_size') >> 11) / 9007199254740992.0", [spec.seed, s]
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    return 0.02 + 0.38 * float(row[0])


def _membership_sql(spec: ExtractSpec, day: int, lo: int, hi: int) -> str:
    rows = []
    for s, (audience_id, split_id) in enumerate(split_keys(spec)):
        share = _split_share(spec, s)
        shift = day * spec.churn * share
        rows.append(f"({s}, '{audience_id}', '{split_id}', {share!r}, {shift!r})")
    splits = ", ".join(rows)
    return f"""
        with splits(s, audience_id, split_id, share, shift) as (values {splits}),
        people as ({_people_sql(spec, day, lo, hi)})
        select audience_id, split_id, external_id, braze_id
        from people
        cross join splits
        where (u({spec.seed}, person_id, s, 'member') + shift) % 1.0 < share
        order by person_id, s
    """


def _attributes_sql(spec: ExtractSpec, day: int, lo: int, hi: int) -> str:
    s = int(spec.seed)
    cols = []
    for a, (name, kind) in enumerate(attribute_columns(spec).items()):
        version = f"floor(u({s}, person_id, {a}, 'phase') + {day * spec.attribute_change!r})"
        h = f"hash({s}, person_id, {a}, {version})"
        choices = STRING_VALUES[(a // len(ATTRIBUTE_TYPES)) % len(STRING_VALUES)]
        value = {
            "string": f"{list(choices)!r}[cast(({h} >> 8) % {len(choices)} as int) + 1]",
            "number": f"round(cast(({h} >> 8) % 10000 as double) / 100.0, 2)",
            "boolean": f"({h} >> 8) % 2 = 0",
            "time": (
                f"strftime(timestamp '2025-01-01' + to_seconds(cast(({h} >> 8) % 31536000"
                " as bigint)), '%Y-%m-%dT%H:%M:%SZ')"
            ),
        }[kind]
        cols.append(f'case when {h} % 100 < {NULL_PERCENT} then null else {value} end as "{name}"')
    attribute_cols = "".join(f",\n            {c}" for c in cols)
    return f"""
        select external_id, braze_id{attribute_cols}
        from ({_people_sql(spec, day, lo, hi)})
        order by person_id
    """


def _events_sql(spec: ExtractSpec, day: int, with_properties: bool) -> str:
    s = int(spec.seed)
    start = (BASE_DAY + timedelta(days=day)).strftime("%Y-%m-%d %H:%M:%S")
    names = list(EVENT_NAMES)
    channel = f"['web', 'app', 'store'][cast(hash({s}, {day}, n, 'ch') % 3 as int) + 1]"
    value = (
        f"case when hash({s}, {day}, n, 'v') % 2 = 0 then null "
        f"else round(cast(hash({s}, {day}, n, 'val') % 50000 as double) / 100.0, 2) end"
    )
    extra = (
        f"{{'channel': {channel}, 'order_value': {value}}} as properties"
        if with_properties
        else f"{channel} as channel, {value} as order_value"
    )
    return f"""
        with picks as (
            select
                n,
                cast(hash({s}, {day}, n, 'person') % {spec.people} as bigint) as person_id
            from range({spec.events_per_day}) t(n)
        ),
        people as ({_people_sql(spec, day, 0, spec.people)})
        select
            printf('evt-%04d-%010d', {day}, n) as event_id,
            list_extract({names!r}, cast(hash({s}, {day}, n, 'name') % {len(names)} as int) + 1)
                as event_name,
            people.external_id,
            people.braze_id,
            strftime(
                timestamp '{start}' - interval 1 day
                    + to_seconds(cast(hash({s}, {day}, n, 'time') % 86400 as bigint)),
                '%Y-%m-%dT%H:%M:%SZ'
            ) as event_time,
            {extra}
        from picks
        join people using (person_id)
        order by n
    """


def _copy(con: duckdb.DuckDBPyConnection, query: str, path: Path, fmt: str) -> None:
    """Write query to path through a temporary name, so readers never see half a file."""
    tmp = path.with_name(path.name + ".tmp")
    options = {
        "csv": "format csv, header true",
        "parquet": "format parquet, compression zstd",
        "jsonl": "format json",
    }[fmt]
    con.execute(f"copy ({query}) to '{tmp}' ({options})")
    os.replace(tmp, path)


def _ranges(spec: ExtractSpec, rows_per_person: float) -> list[tuple[int, int]]:
    per_file = max(1, int(spec.rows_per_file / max(rows_per_person, 1e-9)))
    return [(lo, min(lo + per_file, spec.people)) for lo in range(0, spec.people, per_file)]


def write_membership(
    con: duckdb.DuckDBPyConnection, landing: Path, spec: ExtractSpec, day: int
) -> dict[str, Any]:
    folder = landing / "membership" / delivery_id(day)
    folder.mkdir(parents=True, exist_ok=True)
    expected = sum(_split_share(spec, s) for s in range(spec.splits))
    counts: dict[tuple[str, str], int] = {}
    files = 0
    for part, (lo, hi) in enumerate(_ranges(spec, expected)):
        path = folder / f"part-{part:05d}.{spec.format}"
        query = _membership_sql(spec, day, lo, hi)
        _copy(con, query, path, spec.format)
        files += 1
        for a, s, n in con.execute(
            f"select audience_id, split_id, count(*) from ({query}) group by all"
        ).fetchall():
            counts[(a, s)] = counts.get((a, s), 0) + int(n)
    manifest = {
        "delivery_id": delivery_id(day),
        "exported_at": exported_at(day),
        "audiences": [
            {"audience_id": a, "split_id": s, "member_count": counts.get((a, s), 0)}
            for a, s in split_keys(spec)
        ],
        "retired": [],
    }
    _write_manifest(folder, manifest)
    return {"rows": sum(counts.values()), "files": files}


def write_attributes(
    con: duckdb.DuckDBPyConnection, landing: Path, spec: ExtractSpec, day: int
) -> dict[str, Any]:
    folder = landing / "attributes" / delivery_id(day)
    folder.mkdir(parents=True, exist_ok=True)
    files = 0
    for part, (lo, hi) in enumerate(_ranges(spec, 1.0)):
        _copy(
            con,
            _attributes_sql(spec, day, lo, hi),
            folder / f"part-{part:05d}.{spec.format}",
            spec.format,
        )
        files += 1
    manifest = {
        "delivery_id": delivery_id(day),
        "exported_at": exported_at(day),
        "row_count": spec.people,
        "attributes": attribute_columns(spec),
    }
    _write_manifest(folder, manifest)
    return {"rows": spec.people, "files": files}


def write_events(
    con: duckdb.DuckDBPyConnection, landing: Path, spec: ExtractSpec, day: int
) -> dict[str, Any]:
    folder = landing / "events"
    folder.mkdir(parents=True, exist_ok=True)
    fmt = spec.event_format
    name = f"events-{delivery_id(day)}.{fmt}"
    _copy(con, _events_sql(spec, day, with_properties=fmt == "jsonl"), folder / name, fmt)
    return {"rows": spec.events_per_day, "files": 1}


def generate_day(
    landing: str | os.PathLike[str],
    spec: ExtractSpec,
    day: int,
    threads: int | None = None,
) -> dict[str, Any]:
    """Write day `day`'s membership and attribute deliveries and events file under landing.

    Returns counts and timing: {"day", "membership_rows", "attribute_rows", "event_rows",
    "files", "bytes", "seconds"}. Streams with size 0 (no splits, attributes or events) are
    not written.
    """
    started = time.perf_counter()
    root = Path(landing)
    con = _connect(threads)
    try:
        stats: dict[str, Any] = {"day": day, "files": 0}
        for stream, writer, wanted in (
            ("membership", write_membership, spec.splits > 0),
            ("attribute", write_attributes, spec.attributes > 0),
            ("event", write_events, spec.events_per_day > 0),
        ):
            result = writer(con, root, spec, day) if wanted else {"rows": 0, "files": 0}
            stats[f"{stream}_rows"] = result["rows"]
            stats["files"] += result["files"]
    finally:
        con.close()
    stats["bytes"] = sum(p.stat().st_size for p in _day_files(root, day))
    stats["seconds"] = round(time.perf_counter() - started, 3)
    return stats


def _day_files(root: Path, day: int) -> list[Path]:
    did = delivery_id(day)
    out = [p for p in (root / "membership" / did).glob("*") if p.is_file()]
    out += [p for p in (root / "attributes" / did).glob("*") if p.is_file()]
    out += list((root / "events").glob(f"events-{did}.*"))
    return out


def generate(
    landing: str | os.PathLike[str],
    spec: ExtractSpec,
    days: list[int],
    threads: int | None = None,
) -> list[dict[str, Any]]:
    """Write several days; see generate_day."""
    return [generate_day(landing, spec, d, threads) for d in days]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--landing", required=True, help="landing dir to write under")
    p.add_argument("--days", type=int, nargs="+", default=[0], help="day numbers (0 = first)")
    p.add_argument("--people", type=int, default=ExtractSpec.people)
    p.add_argument("--splits", type=int, default=ExtractSpec.splits)
    p.add_argument("--churn", type=float, default=ExtractSpec.churn)
    p.add_argument("--events-per-day", type=int, default=ExtractSpec.events_per_day)
    p.add_argument("--attributes", type=int, default=ExtractSpec.attributes)
    p.add_argument("--seed", type=int, default=ExtractSpec.seed)
    p.add_argument("--format", choices=FORMATS, default=ExtractSpec.format)
    p.add_argument("--events-format", choices=EVENT_FORMATS, default=None)
    p.add_argument("--rows-per-file", type=int, default=ExtractSpec.rows_per_file)
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args(argv)
    spec = ExtractSpec(
        people=args.people,
        splits=args.splits,
        churn=args.churn,
        events_per_day=args.events_per_day,
        attributes=args.attributes,
        seed=args.seed,
        format=args.format,
        events_format=args.events_format,
        rows_per_file=args.rows_per_file,
    )
    for stats in generate(args.landing, spec, args.days, args.threads):
        print(json.dumps({"spec": asdict(spec), **stats}, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
