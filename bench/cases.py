"""Staff views at scale (issue 10): the inbox, supervision and statistics at a month of cases
(the committed 20,000) and at a year (240,000 from the same generator).

Not a test: it measures. A real `onestop serve` on its own embedded nx-27017; the history is
written straight into its database (expanded exactly as the seed loader does, then the
statistics' roll-up rebuilt), then each query is sent over HTTP one at a time, as a member
of staff of the busiest department (or an admin for the district) would.

    .venv/bin/python bench/cases.py [--rounds 30] [--sizes 20000,240000]

Writes bench/results/cases.json and prints a Markdown table (p50/p95 ms; errors counted).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from harness import GatewayProcess  # noqa: E402
from pymongo import AsyncMongoClient  # noqa: E402

from gateway.embedded import EmbeddedMongo  # noqa: E402
from modules.cases import history as history_loader  # noqa: E402
from scripts.seedgen.cases_history import OUT, generate  # noqa: E402

INBOX = """query($s: CaseStatus, $o: InboxOrder!, $d: Date) {
  departmentCases(status: $s, order: $o, dueBy: $d, first: 20) {
    totalCount edges { node { id itemName status dueDate light } } } }"""
SUPERVISION = "{ caseSupervision { open white yellow red } }"
STATS = """query($f: Date!, $t: Date!) { caseStatistics(from: $f, to: $t) {
  submitted finishRate instantRate onlineRate zeroVisitRate averageWorkingDays ratings } }"""
BY_DEPARTMENT = """query($f: Date!, $t: Date!) { caseStatisticsByDepartment(from: $f, to: $t) {
  departmentCode submitted finishRate } }"""


def sample(size: int) -> dict[str, Any]:
    """The committed month, or a year generated with the same model."""
    if size == 20_000:
        loaded: dict[str, Any] = json.loads(OUT.read_text(encoding="utf-8"))
        return loaded
    return generate(size, date(2025, 12, 1), 365, seed=20251201)


async def load(url: str, db_name: str, history: dict[str, Any]) -> str:
    """Write the history into the gateway's database; returns the busiest department."""
    client: AsyncMongoClient[Any] = AsyncMongoClient(url, tz_aware=True)
    try:
        await history_loader.load(client[db_name], history)
    finally:
        await client.close()
    items, at = history["items"], history["fields"].index("item")
    departments = collections.Counter(items[row[at]]["department_code"] for row in history["cases"])
    return departments.most_common(1)[0][0]


def measure(
    gateway: GatewayProcess, query: str, variables: dict[str, Any], token: str, rounds: int
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: collections.Counter[str] = collections.Counter()
    for n in range(rounds + 2):
        started = time.perf_counter()
        payload = gateway.graphql(query, variables, token=token).json()
        elapsed = (time.perf_counter() - started) * 1000
        if n < 2:
            continue  # warm-up
        latencies.append(elapsed)
        for error in payload.get("errors") or []:
            errors[error.get("extensions", {}).get("code", "?")] += 1
    latencies.sort()
    return {
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(latencies[max(0, int(len(latencies) * 0.95) - 1)], 1),
        "errors": dict(errors),
    }


def run(size: int, rounds: int, workdir: Path) -> dict[str, Any]:
    history = sample(size)
    first = date.fromisoformat(history["start"])
    last = first + timedelta(days=history["days"] - 1)
    month = {"f": (last - timedelta(days=29)).isoformat(), "t": last.isoformat()}
    whole = {"f": first.isoformat(), "t": last.isoformat()}
    with EmbeddedMongo(workdir / "db") as database:
        gateway = GatewayProcess(
            workdir / "gw",
            {
                "ONESTOP_MONGODB_URL": database.url,
                "ONESTOP_MONGODB_DB": "bench",
                "ONESTOP_LOG_LEVEL": "WARNING",
                "ONESTOP_RATE_LIMIT": "false",
                "ONESTOP_SEED_HISTORY": "false",
                "ONESTOP_RESPONSE_CACHE": "false",
            },
            startup_timeout=600,
        )
        try:
            started = time.perf_counter()
            busiest = asyncio.run(load(database.url, "bench", history))
            loaded_s = round(time.perf_counter() - started, 1)
            staff = gateway.token("bench-staff", ("staff",), department=busiest)
            admin = gateway.token("bench-admin", ("admin",))
            today = date.today().isoformat()
            cases = {
                "inbox, newest first": (INBOX, {"o": "NEWEST"}, staff),
                "inbox, in review": (INBOX, {"o": "NEWEST", "s": "IN_REVIEW"}, staff),
                "inbox, by deadline": (INBOX, {"o": "DUE_SOONEST"}, staff),
                "inbox, due by today": (INBOX, {"o": "DUE_SOONEST", "d": today}, staff),
                "supervision (department)": (SUPERVISION, {}, staff),
                "statistics, department, 30 days": (STATS, month, staff),
                "statistics, department, whole period": (STATS, whole, staff),
                "statistics, district, whole period": (STATS, whole, admin),
                "statistics by department, whole period": (BY_DEPARTMENT, whole, admin),
            }
            results = {
                label: measure(gateway, query, variables, token, rounds)
                for label, (query, variables, token) in cases.items()
            }
            for label, result in results.items():
                print(f"{size}: {label}: {result}", flush=True)
            return {"cases": size, "department": busiest, "load_s": loaded_s, "queries": results}
        finally:
            gateway.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--sizes", default="20000,240000")
    args = parser.parse_args()
    runs = []
    for size in (int(s) for s in args.sizes.split(",")):
        workdir = Path(tempfile.mkdtemp(prefix="onestop-cases-"))
        try:
            runs.append(run(size, args.rounds, workdir))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    meta = {
        "machine": f"{os.cpu_count()} cores",
        "python": sys.version.split()[0],
        "date": time.strftime("%Y-%m-%d"),
        "rounds": args.rounds,
        "database": "embedded nx-27017",
    }
    out = ROOT / "bench" / "results" / "cases.json"
    out.write_text(json.dumps({"meta": meta, "runs": runs}, ensure_ascii=False, indent=1))
    sizes = [r["cases"] for r in runs]
    print("\n| query | " + " | ".join(f"{s:,} cases p50 / p95 ms" for s in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for label in runs[0]["queries"]:
        cells = []
        for r in runs:
            q = r["queries"][label]
            errors = f" ({sum(q['errors'].values())} errors)" if q["errors"] else ""
            cells.append(f"{q['p50_ms']} / {q['p95_ms']}{errors}")
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
