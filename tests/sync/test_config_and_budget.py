"""Settings and the shared rate budget (pure: no network)."""

from __future__ import annotations

import asyncio
import bisect
import time

import pytest

from sync import config
from sync.braze import RateBudget, backoff, fatal_message

BASE = {"BRAZE_REST_ENDPOINT": "https://rest.iad-01.braze.com", "BRAZE_API_KEY": "sekret"}


def test_defaults_and_tunables():
    s = config.load(BASE)
    assert (s.objects_per_request, s.rate_limit, s.rate_window_s, s.unknown_event_policy) == (
        75, 3000, 3.0, "resend")
    assert s.duckdb_path == "data/warehouse.duckdb"
    s = config.load({**BASE, "AIQ_SYNC_OBJECTS_PER_REQUEST": "50",
                     "AIQ_SYNC_LEGACY_PER_ARRAY": "yes", "AIQ_SYNC_UNKNOWN_EVENT_POLICY": "skip",
                     "DUCKDB_PATH": "/tmp/x.duckdb", "BRAZE_REST_ENDPOINT": "http://localhost:1/"})
    assert (s.objects_per_request, s.legacy_per_array, s.unknown_event_policy) == (50, True,
                                                                                   "skip")
    assert s.endpoint == "http://localhost:1" and s.duckdb_path == "/tmp/x.duckdb"


def test_every_problem_in_one_message():
    with pytest.raises(config.ConfigError) as err:
        config.load({"AIQ_SYNC_RATE_LIMIT": "0", "AIQ_SYNC_MAX_RETRIES": "x"})
    text = str(err.value)
    for name in ("BRAZE_REST_ENDPOINT", "BRAZE_API_KEY", "AIQ_SYNC_RATE_LIMIT",
                 "AIQ_SYNC_MAX_RETRIES"):
        assert name in text
    assert config.load({}, need_braze=False).endpoint is None  # plan / status


@pytest.mark.parametrize(("endpoint", "ok"), [
    ("https://rest.fra-01.braze.eu", True), ("http://127.0.0.1:8080", True),
    ("http://[::1]:8080", True), ("http://rest.iad-01.braze.com", False),
    ("ftp://x", False), ("https://rest.iad-01.braze.com/users/track", False)])
def test_endpoint_rules(endpoint, ok):
    assert (config.endpoint_problem(endpoint) is None) is ok


def test_the_key_is_not_in_repr():
    s = config.load(BASE)
    assert "sekret" not in repr(s) and "sekret" not in str(s)


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_token_bucket_holds_the_window_limit():
    clock = Clock()
    budget = RateBudget(3000, 3.0, clock=clock, wall=lambda: 1.7e9)
    taken = 0
    for _ in range(3000):  # 3 seconds in 1 ms steps
        while budget.try_take() == 0:
            taken += 1
        clock.t += 0.001
    assert 2900 <= taken <= 3000  # never above the limit in the window


def test_429_hints_epoch_and_delta_and_retry_after():
    clock = Clock()
    budget = RateBudget(3000, 3.0, clock=clock, wall=lambda: 1_700_000_000.0)
    assert budget.reset_in({"x-ratelimit-reset": "1700000002"}) == pytest.approx(2.0)
    assert budget.reset_in({"X-RateLimit-Reset": "3"}) == 3.0
    pause = budget.on_429({"x-ratelimit-retry-after": "2"}, fallback=9)
    assert 2.0 <= pause <= 2.0 * 1.2 + 0.25
    assert budget.try_take() == pytest.approx(budget.blocked_until - clock.t)
    clock.t += 3
    assert budget.try_take() == 0
    pause = budget.on_429({}, fallback=0.5)
    assert 0.5 <= pause <= 0.85


def test_low_remaining_pauses_until_the_reset():
    clock = Clock()
    budget = RateBudget(3000, 3.0, low_water=50, clock=clock, wall=lambda: 0.0)
    budget.observe({"x-ratelimit-remaining": "500", "x-ratelimit-reset": "2"})
    assert budget.try_take() == 0
    budget.observe({"x-ratelimit-remaining": "10", "x-ratelimit-reset": "2"})
    assert budget.try_take() >= 2.0


def test_low_remaining_at_the_end_of_a_window_we_filled_does_not_pause():
    """45 left with 0.04 s to go: the bucket sends at most ~39 more before the reset."""
    clock = Clock()
    budget = RateBudget(3000, 3.0, low_water=96, clock=clock, wall=lambda: 1700000099.96)
    budget.observe({"x-ratelimit-remaining": "45", "x-ratelimit-reset": "1700000100"})
    assert budget.blocked_until == 0.0
    # The same count with a second to go means others use the quota: pause until the reset.
    budget = RateBudget(3000, 3.0, low_water=96, clock=clock, wall=lambda: 1700000099.0)
    budget.observe({"x-ratelimit-remaining": "45", "x-ratelimit-reset": "1700000100"})
    assert budget.try_take() >= 1.0


def test_backoff_is_bounded_and_grows():
    assert all(backoff(10, 0.5, 30) <= 30 + 0.05 for _ in range(100))
    assert max(backoff(1, 0.5, 30) for _ in range(200)) <= 1.05


def test_fatal_messages_are_specific():
    assert "another Braze instance" in fatal_message(401, "Invalid API Key", "https://x", "p")
    assert "'users.track' permission" in fatal_message(403, "", "https://x", "users.track")
    assert "wrong REST endpoint" in fatal_message(404, "", "https://x", "p")


def test_acquire_queues_waiters_one_sleep_each_and_holds_the_window(monkeypatch):
    """Concurrent senders wait in line: one sleep per token (no herd of wake-ups), and any
    window of window_s seconds holds at most `limit` tokens."""
    from sync import braze

    sleeps = 0
    real_sleep = asyncio.sleep

    async def counting_sleep(delay: float) -> None:
        nonlocal sleeps
        sleeps += 1
        await real_sleep(delay)

    monkeypatch.setattr(braze.asyncio, "sleep", counting_sleep)
    budget = RateBudget(100, 0.5)
    times: list[float] = []

    async def sender(n: int) -> None:
        for _ in range(n):
            await budget.acquire()
            times.append(time.monotonic())

    async def main() -> None:
        await asyncio.gather(*(sender(5) for _ in range(30)))  # 150 tokens, 30 senders

    started = time.monotonic()
    asyncio.run(main())
    elapsed = time.monotonic() - started
    assert len(times) == 150
    assert sleeps <= 150  # polling would sleep ~30 times per token
    assert elapsed >= (150 - budget.burst) / budget.rate * 0.95
    times.sort()
    assert max(bisect.bisect_left(times, t + 0.5) - i for i, t in enumerate(times)) <= 100


def test_acquire_honours_a_pause_that_starts_while_waiting():
    budget = RateBudget(20, 1.0)  # ~20 tokens/s: waiters sleep ~50 ms each
    got: list[float] = []

    async def sender() -> None:
        await budget.acquire()
        got.append(time.monotonic())

    async def main() -> float:
        tasks = [asyncio.create_task(sender()) for _ in range(6)]
        await asyncio.sleep(0.01)
        budget.block_for(0.3)
        until = budget.blocked_until
        await asyncio.gather(*tasks)
        return until

    until = asyncio.run(main())
    late = [t for t in got if t > until - 0.29]
    assert len(got) == 6 and len(late) >= 5  # only the burst token went before the pause
    assert all(t >= until for t in late)
