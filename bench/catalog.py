"""Catalog latency benchmark: search and filtered lists at 1,202 and at 100,000 items.

Not a test: it measures, it does not assert. Each dataset gets its own embedded
nx-27017 database and a real `onestop serve` process; requests go over HTTP one at
a time (latency, not throughput), after warm-up.

    .venv/bin/python bench/catalog.py [--items 1202,100000] [--runs 40]

Writes bench/results/catalog.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from harness import GatewayProcess  # noqa: E402

from gateway.embedded import EmbeddedMongo  # noqa: E402

SEARCH = """query S($q: String!) { affairItems(search: $q, first: 20) {
  totalCount edges { node { code name department { shortName } } highlight { name } } } }"""
LIST = """query L($f: AffairItemFilter) { affairItems(filter: $f, first: 20) {
  totalCount edges { node { code name department { shortName } themes { name } } } } }"""
FACETS = """query F($f: AffairItemFilter) { affairItems(filter: $f, first: 20) {
  totalCount facets { departments { value count } flags { flag count } }
  edges { node { code } } } }"""
DETAIL = """query D($c: String!) { affairItem(code: $c) {
  name materials { name licenseType { name } } faq { question } locations { name }
  department { name } } }"""

CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("search 营业执照", SEARCH, {"q": "营业执照"}),
    ("search 开公司 (synonyms)", SEARCH, {"q": "开公司"}),
    ("search 身份证", SEARCH, {"q": "身份证"}),
    ("search 生孩子要办什么", SEARCH, {"q": "生孩子要办什么"}),
    ("search 食品经营许可证核发", SEARCH, {"q": "食品经营许可证核发"}),
    ("list zeroVisit + totalCount", LIST, {"f": {"zeroVisit": True}}),
    (
        "list department + LICENSING",
        LIST,
        {"f": {"departmentCodes": ["__DEPT__"], "types": ["LICENSING"]}},
    ),
    ("list with facets (online)", FACETS, {"f": {"online": True}}),
    ("item detail", DETAIL, {"c": "__CODE__"}),
]


def synthesize(seeds: Path, target: Path, count: int) -> None:
    """A seeds folder with ``count`` items: the real catalog plus numbered regional copies.

    Copies keep each item's words (so candidate sets grow like a real, larger catalog)
    and get unique codes and names.
    """
    target.mkdir(parents=True)
    for file in seeds.glob("*.json"):
        if file.name != "items.json":
            shutil.copy(file, target / file.name)
    base = json.loads((seeds / "items.json").read_text(encoding="utf-8"))
    items = []
    copy = 0
    while len(items) < count:
        for item in base:
            if len(items) >= count:
                break
            if copy == 0:
                items.append(item)
                continue
            clone = dict(item)
            clone["code"] = f"{item['code'][:-3]}{copy:06d}"
            clone["name"] = f"{item['name']}（片区{copy}）"
            items.append(clone)
        copy += 1
    (target / "items.json").write_text(
        "[\n" + ",\n".join(json.dumps(i, ensure_ascii=False) for i in items) + "\n]\n",
        encoding="utf-8",
    )


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def measure(
    gateway: GatewayProcess, query: str, variables: dict[str, Any], runs: int
) -> dict[str, Any]:
    started = time.perf_counter()
    gateway.graphql(query, variables)
    cold = (time.perf_counter() - started) * 1000  # first call: caches (facets, counts) empty
    for _ in range(2):
        gateway.graphql(query, variables)
    timings = []
    total = None
    for _ in range(runs):
        started = time.perf_counter()
        response = gateway.graphql(query, variables)
        timings.append((time.perf_counter() - started) * 1000)
        body = response.json()
        if "errors" in body:
            raise RuntimeError(body["errors"])
        total = (body["data"].get("affairItems") or {}).get("totalCount")
    return {
        "cold_ms": round(cold, 1),
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(percentile(timings, 95), 1),
        "max_ms": round(max(timings), 1),
        "total_count": total,
    }


def run_dataset(count: int, runs: int, workdir: Path) -> dict[str, Any]:
    seeds = workdir / f"seeds-{count}"
    synthesize(ROOT / "seeds" / "affairs", seeds / "affairs", count)
    with EmbeddedMongo(workdir / f"db-{count}") as database:
        started = time.perf_counter()
        gateway = GatewayProcess(
            workdir / f"gw-{count}",
            {
                "ONESTOP_MONGODB_URL": database.url,
                "ONESTOP_SEEDS_DIR": str(seeds),
                "ONESTOP_LOG_LEVEL": "WARNING",
            },
            startup_timeout=3600,
        )
        startup = time.perf_counter() - started
        try:
            sample = gateway.data(LIST, {"f": {"types": ["LICENSING"]}})["affairItems"]["edges"][0]
            department = gateway.data("{ departments { code itemCount } }")["departments"]
            busiest = max(department, key=lambda d: d["itemCount"])["code"]
            results = {}
            for label, query, variables in CASES:
                text = (
                    json.dumps(variables)
                    .replace("__DEPT__", busiest)
                    .replace("__CODE__", sample["node"]["code"])
                )
                results[label] = measure(gateway, query, json.loads(text), runs)
                print(f"  {count:>7} items  {label:<32} {results[label]}", flush=True)
            return {"items": count, "startup_and_seed_s": round(startup, 1), "cases": results}
        finally:
            gateway.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", default="1202,100000")
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="onestop-bench-"))
    try:
        datasets = [run_dataset(int(n), args.runs, workdir) for n in args.items.split(",")]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    out = ROOT / "bench" / "results" / "catalog.json"
    out.parent.mkdir(exist_ok=True)
    meta = {
        "machine": f"{os.cpu_count()} cores",
        "python": sys.version.split()[0],
        "date": time.strftime("%Y-%m-%d"),
        "runs_per_case": args.runs,
    }
    out.write_text(json.dumps({"meta": meta, "datasets": datasets}, ensure_ascii=False, indent=1))
    labels = [label for label, _, _ in CASES]
    header = (
        "| case | "
        + " | ".join(f"{d['items']:,} items: p50 / p95 (first call), ms" for d in datasets)
        + " |"
    )
    print("\n" + header)
    print("|---" * (len(datasets) + 1) + "|")
    for label in labels:
        cells = ["{p50_ms} / {p95_ms} ({cold_ms})".format(**d["cases"][label]) for d in datasets]
        print(f"| {label} | " + " | ".join(cells) + " |")
    print(
        "| start-up incl. seeding (s) | "
        + " | ".join(str(d["startup_and_seed_s"]) for d in datasets)
        + " |"
    )


if __name__ == "__main__":
    main()
