"""Commands of `python -m sync`: run, plan, status, check. Exit codes are part of the interface.

Exit codes (for an orchestrator):
  0  success: everything pending was delivered (run), plan/status/check OK
  1  internal error (a bug): see the log
  2  configuration error: a setting is missing or invalid (the message names every one)
  3  done, but rows were rejected (by Braze or local validation) and recorded in
     sync_rejected_rows; re-running will not help, fix the data (plan: rows would be rejected)
  4  incomplete: rows left pending after retries (5xx, timeouts, 429s), or Braze unreachable
     (check); re-run later, nothing was lost
  5  Braze refused the requests (401/403/404/413/415): fix the key, permissions or endpoint;
     nothing unacknowledged was recorded as delivered
  6  the warehouse cannot be used (missing tables, locked by another writer, its disk is full:
     free space and re-run; only what Braze acknowledged was recorded)
  7  plan: the data points would exceed --max-data-points
  130 interrupted (SIGINT/SIGTERM); what was acknowledged is recorded, the rest stays pending
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections import Counter
from typing import IO, Any

from sync import config, payloads
from sync.braze import check_credentials
from sync.runner import Runner
from sync.warehouse import Warehouse, WarehouseError, disk_full_message

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_CONFIG = 2
EXIT_REJECTED = 3
EXIT_PENDING = 4
EXIT_BRAZE_FATAL = 5
EXIT_WAREHOUSE = 6
EXIT_OVER_BUDGET = 7
EXIT_INTERRUPTED = 130

log = logging.getLogger("sync")


class RedactFilter(logging.Filter):
    """Belt and braces: replace the API key wherever it might appear in a log line."""

    def __init__(self, secret: str | None) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secret and len(self.secret) >= MIN_REDACT_LEN:
            msg = record.getMessage()
            if self.secret in msg:
                record.msg = msg.replace(self.secret, "***")
                record.args = None
        return True


MIN_REDACT_LEN = 6  # a shorter "key" is a test value; replacing it would mangle every line


def redact(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret and len(secret) >= MIN_REDACT_LEN else text


def _setup_logging(verbose: bool, secret: str | None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactFilter(secret))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("asyncio", "urllib3", "aiohttp"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _emit(obj: dict[str, Any], out: IO[str], secret: str | None) -> None:
    out.write(redact(json.dumps(obj, default=str, separators=(",", ":")), secret) + "\n")
    out.flush()


# ---- progress -----------------------------------------------------------------------------------

class ProgressDisplay:
    """A one-line bar on a terminal; a plain log line every `log_every_s` otherwise."""

    def __init__(self, stream: IO[str], log_every_s: float = 10.0) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.t0 = time.monotonic()
        self.last_log = self.t0
        self.log_every_s = log_every_s
        self.shown = False

    def __call__(self, p: dict[str, Any]) -> None:
        elapsed = max(time.monotonic() - self.t0, 1e-9)
        done, total = p["done_rows"], p["total_rows"]
        rate = p["requests"] / elapsed
        rows_rate = done / elapsed
        eta = (total - done) / rows_rate if rows_rate > 0 and total > done else 0.0
        pct = 100.0 * done / total if total else 100.0
        text = (f"sent {done:,}/{total:,} rows ({pct:5.1f}%)  {rate:,.0f} req/s  "
                f"ETA {int(eta // 60)}:{int(eta % 60):02d}  retries {p['retries']}  "
                f"429s {p['rate_limited']}")
        if self.tty:
            width = 30
            fill = int(width * pct / 100)
            self.stream.write("\r[" + "#" * fill + "." * (width - fill) + "] " + text + " ")
            self.stream.flush()
            self.shown = True
        elif time.monotonic() - self.last_log >= self.log_every_s:
            self.last_log = time.monotonic()
            log.info("progress: %s", text)

    def close(self) -> None:
        if self.tty and self.shown:
            self.stream.write("\n")
            self.stream.flush()


# ---- commands -----------------------------------------------------------------------------------

def cmd_run(args: argparse.Namespace, settings: config.Settings) -> int:
    wh = Warehouse(settings.duckdb_path, memory_limit=settings.duckdb_memory_limit,
                   threads=settings.duckdb_threads)
    try:
        wh.require_tables()
        run_id = wh.start_run("run")
        log.info("run %s: delivering to %s (%d concurrent, %d objects/request%s)", run_id,
                 settings.endpoint, settings.concurrency, settings.objects_per_request,
                 " per array" if settings.legacy_per_array else "")
        display = ProgressDisplay(sys.stderr, log_every_s=args.log_every)
        runner = Runner(settings, wh, on_progress=display)
        try:
            result = asyncio.run(runner.run(run_id))
        finally:
            display.close()
    finally:
        wh.close()
    summary = result.summary()
    if result.error:
        log.error("%s", result.error)
    _emit(summary, sys.stdout, settings.api_key)
    if result.status == "failed":
        return EXIT_BRAZE_FATAL
    if result.status == "interrupted":
        return EXIT_INTERRUPTED
    if result.pending_left:
        return EXIT_PENDING
    if result.status == "partial":
        return EXIT_REJECTED
    return EXIT_OK


def cmd_plan(args: argparse.Namespace, settings: config.Settings) -> int:
    wh = Warehouse(settings.duckdb_path, read_only=True,
                   memory_limit=settings.duckdb_memory_limit, threads=settings.duckdb_threads)
    try:
        wh.require_tables()
        rejected: list[payloads.Rejection] = []
        attr_counts: Counter[str] = Counter()
        event_counts: Counter[str] = Counter()
        requests = objects = data_points = 0


        def event_rows() -> Any:
            for chunk in wh.iter_pending_events(settings.read_chunk_rows):
                yield from chunk

        out: IO[str] | None = None
        if args.bodies == "-":
            out = sys.stdout
        elif args.bodies:
            out = open(args.bodies, "w", encoding="utf-8")  # noqa: SIM115
        try:
            for batch in payloads.batches(payloads.attribute_items_from_chunks(
                                              wh.iter_pending_attributes(
                                                  settings.read_chunk_rows), rejected),
                                          payloads.event_items(event_rows(), rejected),
                                          settings.objects_per_request,
                                          settings.legacy_per_array):
                requests += 1
                objects += batch.objects
                data_points += batch.data_points
                for item in batch.attributes:
                    attr_counts.update(r[2] for r in item.rows)
                for item in batch.events:
                    event_counts.update(r.event_name for r in item.rows)
                if out is not None:
                    out.write(batch.body().decode("utf-8") + "\n")
        finally:
            if out is not None and out is not sys.stdout:
                out.close()
    finally:
        wh.close()
    reasons = Counter(r.reason for r in rejected)
    summary = {
        "command": "plan", "requests": requests, "objects": objects,
        "attribute_changes": sum(attr_counts.values()), "events": sum(event_counts.values()),
        "data_points": data_points, "by_attribute": dict(sorted(attr_counts.items())),
        "by_event": dict(sorted(event_counts.items())),
        "rejected_locally": len(rejected), "rejected_reasons": dict(reasons.most_common(20)),
        "objects_per_request": settings.objects_per_request,
        "legacy_per_array": settings.legacy_per_array,
    }
    _emit(summary, sys.stderr if args.bodies == "-" else sys.stdout, None)
    if args.max_data_points is not None and data_points > args.max_data_points:
        log.error("plan: %d data points exceed --max-data-points %d", data_points,
                  args.max_data_points)
        return EXIT_OVER_BUDGET
    return EXIT_REJECTED if rejected else EXIT_OK


def cmd_status(args: argparse.Namespace, settings: config.Settings) -> int:
    wh = Warehouse(settings.duckdb_path, read_only=True,
                   memory_limit=settings.duckdb_memory_limit, threads=settings.duckdb_threads)
    try:
        wh.require_tables()
        attrs, events = wh.count_pending()
        report = {"command": "status", "pending_attribute_changes": attrs,
                  "pending_events": events, "rejected_rows": wh.rejected_count(),
                  "rejected_by_reason": wh.rejected_summary(),
                  "recent_rejections": wh.recent_rejections(args.rejections),
                  "runs": wh.recent_runs(args.runs)}
    finally:
        wh.close()
    if args.json:
        _emit(report, sys.stdout, None)
        return EXIT_OK
    w = sys.stdout.write
    w(f"pending: {attrs:,} attribute change(s), {events:,} event(s)\n")
    w(f"rejected rows (sync_rejected_rows): {report['rejected_rows']:,}\n")
    for r in report["rejected_by_reason"]:
        w(f"  {r['rows']:>8,}  {r['stream']:<10} {r['origin']:<16} {r['reason']}\n")
    if report["recent_rejections"]:
        w("latest rejected rows:\n")
    for r in report["recent_rejections"]:
        w(f"  {r['rejected_at']}  {r['stream']:<10} {r['source_id'] or '-'}  "
          f"{r['braze_key_type']}={r['braze_key']}  {r['name'] or '-'}"
          f"{'  event ' + r['event_id'] if r['event_id'] else ''}: {r['reason']}\n")
    w("last runs:\n")
    for r in report["runs"]:
        w(f"  {r['run_id']}  {r['status']:<11} started {r['started_at']}  "
          f"requests {r['requests'] or 0:,}  attrs sent {r['attribute_changes_sent'] or 0:,}  "
          f"events sent {r['events_sent'] or 0:,}  rejected "
          f"{(r['attribute_changes_rejected'] or 0) + (r['events_rejected'] or 0):,}  "
          f"data points {r['data_points'] or 0:,}  retries {r['retries'] or 0}  "
          f"429s {r['rate_limited'] or 0}  unknown {r['events_outcome_unknown'] or 0}\n")
        if r["error_message"]:
            w(f"      error: {r['error_message']}\n")
    return EXIT_OK


def cmd_check(args: argparse.Namespace, settings: config.Settings) -> int:
    result = check_credentials(settings)
    _emit({"command": "check", "ok": result.ok, "status": result.status,
           "message": result.message}, sys.stdout, settings.api_key)
    if result.ok:
        log.info("%s", result.message)
        return EXIT_OK
    log.error("%s", result.message)
    return EXIT_PENDING if result.retriable else EXIT_BRAZE_FATAL


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m sync", description="Deliver warehouse change tables to Braze.",
        epilog=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="deliver everything pending")
    run.add_argument("--log-every", type=float, default=10.0,
                     help="seconds between progress log lines when not on a terminal")
    plan = sub.add_parser("plan", help="dry run: counts, data points and request bodies")
    plan.add_argument("--bodies", metavar="PATH",
                      help="write the exact request bodies as JSON lines to PATH ('-': stdout)")
    plan.add_argument("--max-data-points", type=int, default=None,
                      help="exit 7 when the plan would spend more data points than this")
    status = sub.add_parser("status", help="last runs, what is pending, rejected rows")
    status.add_argument("--runs", type=int, default=10)
    status.add_argument("--rejections", type=int, default=10,
                        help="how many of the latest rejected rows to list")
    status.add_argument("--json", action="store_true", help="one JSON object instead of text")
    sub.add_parser("check", help="verify the endpoint and the key (/users/export/ids)")
    return p


COMMANDS = {"run": cmd_run, "plan": cmd_plan, "status": cmd_status, "check": cmd_check}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    need_braze = args.command in ("run", "check")
    secret = None
    try:
        settings = config.load(need_braze=need_braze)
        secret = settings.api_key
    except config.ConfigError as exc:
        _setup_logging(args.verbose, None)
        log.error("configuration error: %s", exc)
        return EXIT_CONFIG
    _setup_logging(args.verbose, secret)
    try:
        return COMMANDS[args.command](args, settings)
    except WarehouseError as exc:
        log.error("%s", redact(str(exc), secret))
        return EXIT_WAREHOUSE
    except KeyboardInterrupt:
        log.error("interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - last resort: a clear line, never the key
        full = disk_full_message(exc, settings.duckdb_path)
        if full is not None:
            log.error("%s", redact(full, secret))
            return EXIT_WAREHOUSE
        log.error("internal error: %s: %s", type(exc).__name__, redact(str(exc), secret))
        if args.verbose:
            log.exception("traceback")
        return EXIT_INTERNAL
