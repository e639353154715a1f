"""Token buckets (gateway.kit.ratelimit) on the in-process cache and on a real Redis."""

from __future__ import annotations

import asyncio

import pytest

from gateway.cache import Cache, MemoryCache, connect_cache
from gateway.kit.ratelimit import Decision, LeasedBuckets, TokenBucket


async def test_a_full_bucket_allows_a_burst_of_capacity_then_refuses(
    cache: Cache, namespace: str
) -> None:
    bucket = TokenBucket(cache, namespace, capacity=3, refill_per_second=0.5)
    decisions = [await bucket.take("alice") for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[0].retry_after == 0
    assert decisions[2].remaining == pytest.approx(0, abs=0.01)
    refused = decisions[3]
    # One token at 0.5/s: about 2 seconds to wait.
    assert 1.8 < refused.retry_after <= 2.0
    assert refused.retry_after_header == "2"


async def test_keys_have_their_own_buckets(cache: Cache, namespace: str) -> None:
    bucket = TokenBucket(cache, namespace, capacity=1, refill_per_second=0.01)
    assert (await bucket.take("alice")).allowed
    assert not (await bucket.take("alice")).allowed
    assert (await bucket.take("bob")).allowed
    other = TokenBucket(cache, f"{namespace}-other", capacity=1, refill_per_second=0.01)
    assert (await other.take("alice")).allowed


async def test_the_bucket_refills_over_time(cache: Cache, namespace: str) -> None:
    bucket = TokenBucket(cache, namespace, capacity=2, refill_per_second=20)
    assert (await bucket.take("k", tokens=2)).allowed
    assert not (await bucket.take("k")).allowed
    await asyncio.sleep(0.12)  # ≥ 2 tokens at 20/s, never more than capacity
    assert (await bucket.take("k")).allowed
    assert (await bucket.take("k")).allowed
    assert not (await bucket.take("k")).allowed


async def test_a_refused_take_takes_nothing(cache: Cache, namespace: str) -> None:
    bucket = TokenBucket(cache, namespace, capacity=5, refill_per_second=0.001)
    assert (await bucket.take("k", tokens=3)).allowed
    refused = await bucket.take("k", tokens=3)
    assert not refused.allowed
    assert refused.remaining == pytest.approx(2, abs=0.01)
    assert (await bucket.take("k", tokens=2)).allowed


async def test_reset_fills_the_bucket(cache: Cache, namespace: str) -> None:
    bucket = TokenBucket(cache, namespace, capacity=1, refill_per_second=0.001)
    await bucket.take("k")
    assert not (await bucket.take("k")).allowed
    await bucket.reset("k")
    assert (await bucket.take("k")).allowed


async def test_an_idle_bucket_expires(cache: Cache, namespace: str) -> None:
    bucket = TokenBucket(cache, namespace, capacity=1, refill_per_second=1)
    await bucket.take("k")
    # Full again after 1 s; the state is kept one second longer, then dropped.
    assert 0 <= await cache.ttl(bucket.key("k")) <= 2


async def test_fifty_concurrent_takes_on_a_bucket_of_ten(cache: Cache, namespace: str) -> None:
    bucket = TokenBucket(cache, namespace, capacity=10, refill_per_second=0.001)
    decisions = await asyncio.gather(*(bucket.take("hot") for _ in range(50)))
    assert sum(d.allowed for d in decisions) == 10
    assert all(d.retry_after > 0 for d in decisions if not d.allowed)


async def test_concurrent_takes_from_separate_redis_connections(
    redis_url: str, namespace: str
) -> None:
    # Five "gateway processes", each with its own connection pool, on one bucket.
    caches = [connect_cache(redis_url) for _ in range(5)]
    try:
        buckets = [TokenBucket(c, namespace, capacity=10, refill_per_second=0.001) for c in caches]
        decisions = await asyncio.gather(*(buckets[i % 5].take("hot") for i in range(50)))
        assert sum(d.allowed for d in decisions) == 10
    finally:
        for c in caches:
            await c.close()


@pytest.mark.parametrize(
    ("capacity", "rate"), [(0, 1), (-1, 1), (1, 0), (1, -2), (float("inf"), 1), (1, float("nan"))]
)
def test_bad_parameters_are_refused(capacity: float, rate: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(MemoryCache(), "x", capacity=capacity, refill_per_second=rate)


async def test_bad_token_counts_are_refused() -> None:
    bucket = TokenBucket(MemoryCache(), "x", capacity=2, refill_per_second=1)
    with pytest.raises(ValueError, match="positive"):
        await bucket.take("k", tokens=0)
    with pytest.raises(ValueError, match="capacity"):
        await bucket.take("k", tokens=3)


def test_decision_defaults() -> None:
    assert Decision(True, 0.0) == Decision(allowed=True, retry_after=0.0, remaining=0.0)
    assert Decision(False, 0.2).retry_after_header == "1"


async def test_leases_serve_the_burst_exactly_and_share_a_round_trip(
    cache: Cache, namespace: str
) -> None:
    """Two processes' leases (two LeasedBuckets on one cache) spend exactly the burst,
    and concurrent misses share one lease instead of taking one each."""
    bucket = TokenBucket(cache, namespace, capacity=20, refill_per_second=0.001)
    first, second = LeasedBuckets(bucket, lease=4), LeasedBuckets(bucket, lease=4)
    takes = 0
    original = bucket.take

    async def counted(key: str, tokens: float = 1) -> Decision:
        nonlocal takes
        takes += 1
        return await original(key, tokens)

    bucket.take = counted  # type: ignore[method-assign]
    # Eight at once on one process: one lease of 4 serves four, a second lease the rest.
    decisions = await asyncio.gather(*(first.take("k") for _ in range(8)))
    assert all(d.allowed for d in decisions)
    assert takes == 2
    # Through both processes: exactly the other 12 tokens are served, none lost or added
    # (a process may hold tokens the other cannot use, but spends them itself).
    served = [(await (first, second)[n % 2].take("k")).allowed for n in range(30)]
    assert sum(served) == 12
    assert not (await first.take("k")).allowed
    assert not (await second.take("k")).allowed
    # A refusal is remembered until the bucket could pass: no round trip for it.
    before = takes
    refused = await first.take("k")
    assert not refused.allowed and refused.retry_after > 100
    assert takes == before


async def test_near_the_limit_a_lease_shrinks_to_one_token(cache: Cache, namespace: str) -> None:
    bucket = TokenBucket(cache, namespace, capacity=5, refill_per_second=0.001)
    leased = LeasedBuckets(bucket, lease=4)
    assert (await bucket.take("k", tokens=3)).allowed  # 2 left: a lease of 4 cannot pass
    assert (await leased.take("k")).allowed
    assert (await leased.take("k")).allowed
    assert not (await leased.take("k")).allowed
    with pytest.raises(ValueError, match="lease"):
        LeasedBuckets(bucket, lease=6)
