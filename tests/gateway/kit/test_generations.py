"""Cache per data generation (gateway.kit.generations), on both cache backends."""

from __future__ import annotations

import asyncio

from gateway.cache import Cache
from gateway.kit.generations import Generations


class Counted:
    """A compute function that counts its calls."""

    def __init__(self, value: object) -> None:
        self.value = value
        self.calls = 0

    async def __call__(self) -> object:
        self.calls += 1
        return self.value


async def test_generation_starts_at_zero_and_bumps(cache: Cache, namespace: str) -> None:
    generations = Generations(cache, namespace)
    assert await generations.current() == 0
    assert await generations.bump() == 1
    assert await generations.bump() == 2
    assert await generations.current() == 2


async def test_cached_computes_once_per_generation(cache: Cache, namespace: str) -> None:
    generations = Generations(cache, namespace)
    compute = Counted({"count": 3})
    assert await generations.cached("stats", compute, ttl=60) == {"count": 3}
    assert await generations.cached("stats", compute, ttl=60) == {"count": 3}
    assert compute.calls == 1
    await generations.bump()
    compute.value = {"count": 4}
    assert await generations.cached("stats", compute, ttl=60) == {"count": 4}
    assert compute.calls == 2


async def test_values_round_trip_through_json_on_a_miss_too(cache: Cache, namespace: str) -> None:
    generations = Generations(cache, namespace)
    first = await generations.cached("pairs", Counted({1: ("a", "区")}), ttl=60)
    again = await generations.cached("pairs", Counted(None), ttl=60)
    assert first == again == {"1": ["a", "区"]}


async def test_namespaces_and_keys_are_independent(cache: Cache, namespace: str) -> None:
    a, b = Generations(cache, f"{namespace}:a"), Generations(cache, f"{namespace}:b")
    await a.bump()
    assert await b.current() == 0
    assert await a.cached("x", Counted(1), 60) == 1
    assert await a.cached("y", Counted(2), 60) == 2
    assert await b.cached("x", Counted(3), 60) == 3


async def test_two_replicas_share_the_generation(cache: Cache, namespace: str) -> None:
    # Two objects over one shared cache behave like two gateway processes over one Redis.
    writer, reader = Generations(cache, namespace), Generations(cache, namespace)
    assert await reader.cached("count", Counted(10), 60) == 10
    await writer.bump()
    assert await reader.cached("count", Counted(11), 60) == 11


async def test_a_value_computed_during_a_write_is_not_served_after_it(
    cache: Cache, namespace: str
) -> None:
    generations = Generations(cache, namespace)
    started, release = asyncio.Event(), asyncio.Event()

    async def slow() -> int:
        started.set()
        await release.wait()
        return 1  # computed from the data before the write

    reading = asyncio.create_task(generations.cached("count", slow, 60))
    await started.wait()
    await generations.bump()  # the write lands while the read computes
    release.set()
    assert await reading == 1
    assert await generations.cached("count", Counted(2), 60) == 2


async def test_counter_key_override(cache: Cache, namespace: str) -> None:
    generations = Generations(cache, namespace, counter_key=f"{namespace}-legacy-generation")
    await generations.bump()
    assert await cache.get(f"{namespace}-legacy-generation") == b"1"
    assert await Generations(cache, namespace).current() == 0
