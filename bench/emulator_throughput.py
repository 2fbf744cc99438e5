"""Throughput of the Braze emulator: /users/track requests of 75 objects, validation on.

Starts `python -m braze_emulator` (rate limits raised so they do not cap the run; every other
rule on), then drives it with a fast client: `wrk` (Debian package) when it is installed,
else a lean asyncio client in this process (keep-alive, pre-encoded requests). Each request
carries 60 attribute objects (external_id + 3 values) and 15 events (2 properties), each for
one of 50,000 users. The figure counts only 201 answers; the server's own counters are printed
beside it. Prints one JSON line.

    .venv/bin/python bench/emulator_throughput.py --seconds 10 --connections 32
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.report import replace_between_markers  # noqa: E402
from braze_emulator.testing import run_emulator  # noqa: E402

CONFIG = {
    "rate_limits": {"/users/track": {"limit": 10_000_000, "window_seconds": 3}},
    "store_events": True,
}


def process_tree_cpu(root: int) -> float:
    """CPU seconds used so far by `root` and its children (the emulator's worker processes)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == root or int(fields[1]) == root:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as handle:
        values = [int(v) for v in handle.readline().split()[1:9]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = values[3] + values[4]
    return (sum(values) - idle) / tick, sum(values) / tick


def make_body(rng: random.Random, users: int, attributes: int, events: int) -> bytes:
    """A realistic sync batch: attribute objects of 5 values, events with 2 properties."""
    objects_a = [
        {
            "external_id": f"user-{rng.randrange(users)}",
            "AIQ_audience_1234_control": rng.random() < 0.5,
            "plan": rng.choice(["free", "pro", "team"]),
            "lifetime_value": round(rng.random() * 1000, 2),
        }
        for _ in range(attributes)
    ]
    objects_e = [
        {
            "external_id": f"user-{rng.randrange(users)}",
            "name": "order_placed",
            "time": "2026-01-02T03:04:05Z",
            "properties": {"order_id": f"o-{rng.randrange(10**9)}", "amount": 12.5},
        }
        for _ in range(events)
    ]
    return json.dumps({"attributes": objects_a, "events": objects_e}).encode()


def encode_request(host: str, key: str, body: bytes) -> bytes:
    head = (
        f"POST /users/track HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def worker(
    host: str, port: int, requests: list[bytes], deadline: float, stats: dict[str, int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    index = random.randrange(len(requests))
    try:
        while time.monotonic() < deadline:
            writer.write(requests[index % len(requests)])
            index += 1
            status_line = await reader.readline()
            status = int(status_line.split()[1])
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            key = "ok" if status == 201 else f"status_{status}"
            stats[key] = stats.get(key, 0) + 1
    finally:
        writer.close()


def make_bodies(args: argparse.Namespace) -> list[bytes]:
    rng = random.Random(7)
    attributes = args.objects - args.events
    return [make_body(rng, args.users, attributes, args.events) for _ in range(64)]


def drive_wrk(base_url: str, key: str, args: argparse.Namespace) -> dict[str, int]:
    """wrk cycles through the pre-made bodies; returns {"ok": n, "other": n}."""
    bodies = make_bodies(args)
    lua = ["local bodies = {"]
    lua += [f"[==[{body.decode()}]==]," for body in bodies]
    lua += [
        "}",
        "local i = 0",
        'wrk.method = "POST"',
        f'wrk.headers["Authorization"] = "Bearer {key}"',
        'wrk.headers["Content-Type"] = "application/json"',
        "request = function()",
        "  i = i % #bodies + 1",
        '  return wrk.format(nil, "/users/track", nil, bodies[i])',
        "end",
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lua))
    command = [
        "wrk",
        "-t1",
        f"-c{args.connections}",
        f"-d{int(args.seconds)}s",
        "-s",
        script.name,
        base_url,
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    other = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    bad = int(other.group(1)) if other else 0
    return {"ok": total - bad, "other": bad}


async def drive(base_url: str, key: str, args: argparse.Namespace) -> dict[str, int]:
    parts = urlsplit(base_url)
    requests = [encode_request(parts.netloc, key, body) for body in make_bodies(args)]
    stats: dict[str, int] = {}
    deadline = time.monotonic() + args.seconds
    await asyncio.gather(
        *(
            worker(parts.hostname, parts.port, requests, deadline, stats)
            for _ in range(args.connections)
        )
    )
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--objects", type=int, default=75, help="objects per request")
    parser.add_argument("--events", type=int, default=15, help="of which events")
    parser.add_argument("--users", type=int, default=50_000, help="distinct external_ids")
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--workers", type=int, default=None, help="emulator --workers")
    parser.add_argument("--doc", help="rewrite the 'Emulator throughput' result in this file")
    args = parser.parse_args()
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    extra = ["--workers", str(args.workers)] if args.workers is not None else []
    with run_emulator(config=CONFIG, extra_args=extra) as emu:
        warm = argparse.Namespace(**{**vars(args), "seconds": args.warmup})
        asyncio.run(drive(emu.base_url, emu.api_key, warm))
        emu.reset()
        cpu_before = process_tree_cpu(emu.pid) if emu.pid else 0.0
        busy_before = machine_busy()
        started = time.monotonic()
        if client == "wrk":
            stats = drive_wrk(emu.base_url, emu.api_key, args)
        else:
            stats = asyncio.run(drive(emu.base_url, emu.api_key, args))
        elapsed = time.monotonic() - started
        busy_after = machine_busy()
        server_cpu = (process_tree_cpu(emu.pid) if emu.pid else 0.0) - cpu_before
        state = emu.state(include="counters,data_points")
    done = stats.get("ok", 0)
    busy = (busy_after[0] - busy_before[0]) / max(busy_after[1] - busy_before[1], 1e-9)
    result = {
        "client": client,
        "workers": args.workers,
        "requests": done,
        "seconds": round(elapsed, 2),
        "requests_per_second": round(done / elapsed, 1),
        "objects_per_second": round(done * args.objects / elapsed, 1),
        "statuses": stats,
        "objects_per_request": args.objects,
        "connections": args.connections,
        "server_objects_processed": state["counters"]["objects_processed"],
        "server_objects_rejected": state["counters"]["objects_rejected"],
        "data_points": state["data_points"]["total"],
        "cpus": os.cpu_count(),
        "emulator_cpu_seconds": round(server_cpu, 2),
        "emulator_cpu_ms_per_request": round(1000 * server_cpu / max(done, 1), 3),
        "machine_busy_percent": round(100 * busy, 1),
        "scheduling_group": _autogroup(),
    }
    print(json.dumps(result))
    if args.doc:
        write_doc(args.doc, result, " ".join(sys.argv[1:]))


def _autogroup() -> str:
    """The run's scheduling group and its nice value (Linux autogroup), e.g. 'nice -20'."""
    try:
        with open("/proc/self/autogroup", encoding="ascii") as handle:
            return handle.read().split(" ", 1)[1].strip()
    except (OSError, IndexError):
        return "unknown"


START, END = "<!-- emulator-throughput:start -->", "<!-- emulator-throughput:end -->"


def write_doc(path: str, result: dict[str, Any], argv: str) -> None:
    """Replace the text between the markers with this run's figures."""
    workers = result["workers"] if result["workers"] is not None else "2 (default)"
    lines = [
        f"Last run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"`bench/emulator_throughput.py {argv}`, client `{result['client']}`, "
        f"emulator `--workers {workers}`, {result['cpus']} CPUs.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| requests per second (201 answers, 75 objects each) | "
        f"{result['requests_per_second']} |",
        f"| objects per second | {result['objects_per_second']} |",
        f"| requests in {result['seconds']} s | {result['requests']} |",
        f"| other answers | {result['statuses'].get('other', 0)} |",
        f"| emulator CPU per request (all its processes) | "
        f"{result['emulator_cpu_ms_per_request']} ms |",
        f"| whole machine busy during the run (all users) | "
        f"{result['machine_busy_percent']} % |",
        f"| scheduling group of the run (Linux autogroup) | {result['scheduling_group']} |",
        f"| data points counted by the emulator | {result['data_points']} |",
    ]
    replace_between_markers(Path(path), START, END, "\n".join(lines))

if __name__ == "__main__":
    main()
