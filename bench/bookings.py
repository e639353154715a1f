"""Booking throughput (issue 10): 200 concurrent clients on one slot, and on many slots.

Not a test: it measures. A real `onestop serve` on its own embedded nx-27017 (in-process
cache, rate limits off), 200 real-name citizens, each request over HTTP from an asyncio
client with 200 connections.

* one slot — 200 bookings of the same 10-place slot at once: exactly 10 must be booked and
  190 refused `SLOT_FULL` (checked every round), and how long the burst takes;
* many slots — 200 bookings of 200 different (item, day, slot) places at once: bookings per
  second when nothing contends.

    .venv/bin/python bench/bookings.py [--rounds 5]

Writes bench/results/bookings.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "modules" / "cases")]

from cases_client import hall_taking_bookings  # noqa: E402
from harness import GatewayProcess  # noqa: E402

from gateway.embedded import EmbeddedMongo  # noqa: E402

CLIENTS = 200
DATES = "query($i: String!, $l: String!) { appointmentDates(itemCode: $i, locationCode: $l) }"
SLOTS = """query($i: String!, $l: String!, $d: Date!) {
  appointmentSlots(itemCode: $i, locationCode: $l, date: $d) { start capacity } }"""
BOOK = """mutation($i: String!, $l: String!, $d: Date!, $s: String!) {
  bookAppointment(input: {itemCode: $i, locationCode: $l, date: $d, start: $s}) { number } }"""


async def burst(url: str, bookings: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """All bookings at once; outcomes, wall time and per-request latency."""
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:

        async def one(token: str, variables: dict[str, Any]) -> tuple[str, float]:
            started = time.perf_counter()
            response = await client.post(
                "/graphql",
                json={"query": BOOK, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )
            payload = response.json()
            outcome = (
                "booked" if payload.get("data") else payload["errors"][0]["extensions"]["code"]
            )
            return outcome, (time.perf_counter() - started) * 1000

        started = time.perf_counter()
        results = await asyncio.gather(*(one(t, v) for t, v in bookings))
        wall = time.perf_counter() - started
    latencies = sorted(ms for _, ms in results)
    outcomes: dict[str, int] = {}
    for outcome, _ in results:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return {
        "wall_s": round(wall, 3),
        "requests_per_s": round(len(results) / wall, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 1),
        "outcomes": outcomes,
    }


def run(rounds: int, workdir: Path) -> dict[str, Any]:
    place = hall_taking_bookings()
    location, items = place["location"], place["items"]
    with EmbeddedMongo(workdir / "db") as database:
        gateway = GatewayProcess(
            workdir / "gw",
            {
                "ONESTOP_MONGODB_URL": database.url,
                "ONESTOP_LOG_LEVEL": "WARNING",
                "ONESTOP_RATE_LIMIT": "false",
            },
            startup_timeout=600,
        )
        try:
            places = []  # (item, day, start) of every slot, for the many-slots rounds
            for item in items:
                for day in gateway.data(DATES, {"i": item, "l": location})["appointmentDates"]:
                    for slot in gateway.data(SLOTS, {"i": item, "l": location, "d": day})[
                        "appointmentSlots"
                    ]:
                        places.append((item, day, slot["start"]))
            tokens = [
                gateway.token(f"bench-{uuid.uuid4().hex}", identity_level=2)
                for _ in range(CLIENTS * (2 * rounds + 1))
            ]
            spent = iter(tokens)
            one_slot, many_slots = [], []
            for n in range(rounds):
                item, day, start = places[n]
                variables = {"i": item, "l": location, "d": day, "s": start}
                one_slot.append(
                    asyncio.run(
                        burst(gateway.url, [(next(spent), variables) for _ in range(CLIENTS)])
                    )
                )
                assert one_slot[-1]["outcomes"] == {"booked": 10, "SLOT_FULL": 190}, one_slot[-1]
                chosen = places[rounds + n * CLIENTS : rounds + (n + 1) * CLIENTS]
                assert len(chosen) == CLIENTS, "not enough distinct slots"
                many_slots.append(
                    asyncio.run(
                        burst(
                            gateway.url,
                            [
                                (next(spent), {"i": i, "l": location, "d": d, "s": s})
                                for i, d, s in chosen
                            ],
                        )
                    )
                )
                print(
                    f"round {n + 1}: one slot {one_slot[-1]}  many slots {many_slots[-1]}",
                    flush=True,
                )
            return {"location": location, "one_slot": one_slot, "many_slots": many_slots}
        finally:
            gateway.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="onestop-bookings-"))
    try:
        result = run(args.rounds, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    meta = {
        "machine": f"{os.cpu_count()} cores",
        "python": sys.version.split()[0],
        "date": time.strftime("%Y-%m-%d"),
        "clients": CLIENTS,
    }
    out = ROOT / "bench" / "results" / "bookings.json"
    out.write_text(json.dumps({"meta": meta, **result}, ensure_ascii=False, indent=1))
    print("\n| burst of 200 | wall s (median) | requests/s (median) | p50 ms | p95 ms |")
    print("|---|---|---|---|---|")
    for label in ("one_slot", "many_slots"):
        rows = result[label]
        medians = [
            statistics.median(r[key] for r in rows)
            for key in ("wall_s", "requests_per_s", "p50_ms", "p95_ms")
        ]
        print(f"| {label.replace('_', ' ')} | " + " | ".join(str(m) for m in medians) + " |")


if __name__ == "__main__":
    main()
