"""Write membership and attribute deliveries and event files under a landing dir."""

from __future__ import annotations

import csv
import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

MEMBER_COLUMNS = ("audience_id", "split_id", "external_id", "braze_id")


def _write_manifest(folder: Path, manifest: Mapping[str, Any]) -> Path:
    tmp = folder / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    final = folder / "manifest.json"
    os.replace(tmp, final)
    return final


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([_cell(v) for v in row])


def write_membership_delivery(
    landing: str | os.PathLike[str],
    delivery_id: str,
    exported_at: str,
    members: Iterable[Sequence[Any]],
    splits: Iterable[tuple[str, str]] = (),
    retired: Iterable[tuple[str, str]] = (),
    member_counts: Mapping[tuple[str, str], int] | None = None,
    parts: int = 1,
    write_manifest: bool = True,
) -> Path:
    """Write membership/<delivery_id>/ with member CSV parts and its manifest.

    members: rows of (audience_id, split_id, external_id, braze_id), None for an empty cell.
    splits: splits listed in the manifest in addition to those that have rows (empty splits).
    member_counts: overrides the counted rows per split (to write an invalid delivery).
    """
    folder = Path(landing) / "membership" / delivery_id
    folder.mkdir(parents=True, exist_ok=True)
    rows = [tuple(r) for r in members]
    counts: Counter[tuple[str, str]] = Counter((str(r[0]), str(r[1])) for r in rows)
    listed = list(dict.fromkeys([*counts.keys(), *[(str(a), str(s)) for a, s in splits]]))
    parts = max(1, parts)
    for part in range(parts):
        chunk = rows[part::parts]
        _write_csv(folder / f"part-{part:05d}.csv", MEMBER_COLUMNS, chunk)
    overrides = dict(member_counts or {})
    manifest = {
        "delivery_id": delivery_id,
        "exported_at": exported_at,
        "audiences": [
            {
                "audience_id": a,
                "split_id": s,
                "member_count": overrides.get((a, s), counts.get((a, s), 0)),
            }
            for a, s in listed
        ],
        "retired": [{"audience_id": str(a), "split_id": str(s)} for a, s in retired],
    }
    if write_manifest:
        _write_manifest(folder, manifest)
    return folder


def write_attributes_delivery(
    landing: str | os.PathLike[str],
    delivery_id: str,
    exported_at: str,
    attributes: Mapping[str, str],
    rows: Iterable[Mapping[str, Any]],
    row_count: int | None = None,
    parts: int = 1,
    write_manifest: bool = True,
) -> Path:
    """Write attributes/<delivery_id>/ with attribute CSV parts and its manifest.

    attributes: name -> type (string, number, boolean, time), in column order.
    rows: mappings with external_id, braze_id and attribute values (None for an empty cell).
    """
    folder = Path(landing) / "attributes" / delivery_id
    folder.mkdir(parents=True, exist_ok=True)
    header = ["external_id", "braze_id", *attributes.keys()]
    materialised = [[r.get(col) for col in header] for r in rows]
    parts = max(1, parts)
    for part in range(parts):
        _write_csv(folder / f"part-{part:05d}.csv", header, materialised[part::parts])
    manifest = {
        "delivery_id": delivery_id,
        "exported_at": exported_at,
        "row_count": len(materialised) if row_count is None else row_count,
        "attributes": dict(attributes),
    }
    if write_manifest:
        _write_manifest(folder, manifest)
    return folder


def write_events_file(
    landing: str | os.PathLike[str],
    name: str,
    events: Iterable[Mapping[str, Any]],
) -> Path:
    """Write events/<name> as JSONL (name ending .jsonl) or CSV (name ending .csv).

    The file is written under a temporary name and renamed, so readers never see half a file.
    """
    folder = Path(landing) / "events"
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / name
    tmp = folder / (name + ".tmp")
    rows = list(events)
    if name.endswith(".jsonl"):
        with tmp.open("w", encoding="utf-8") as fh:
            for event in rows:
                fh.write(json.dumps(event, separators=(",", ":")) + "\n")
    elif name.endswith(".csv"):
        header: list[str] = list(dict.fromkeys(k for e in rows for k in e if k != "properties"))
        _write_csv(tmp, header, ([e.get(k) for k in header] for e in rows))
    else:
        raise ValueError(f"events file {name!r}: use a .jsonl or .csv name")
    os.replace(tmp, final)
    return final
