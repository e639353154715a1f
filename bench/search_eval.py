"""Search quality: run the citizen query set against the catalog search, per kind.

Not a latency benchmark: for each query of ``tests/modules/affairs/search_eval.json``
it asks ``affairItems(search:)`` over HTTP and checks whether the first hit is one
of the acceptable items. Prints the first-hit rate per kind (official names, short
keywords, colloquial requests, typos/traditional/pinyin), overall, and the queries
that return nothing.

    .venv/bin/python bench/search_eval.py                 # starts its own gateway
    .venv/bin/python bench/search_eval.py --url http://127.0.0.1:8000 [--verbose]
    .venv/bin/python bench/search_eval.py --set blind3    # another set (EVAL_SETS)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EVAL_DIR = ROOT / "tests" / "modules" / "affairs"
EVAL_SET = EVAL_DIR / "search_eval.json"
# The committed sets: the main one, and three written blind by others (each file's
# "about" says how it was used; blind3 was never tuned on).
EVAL_SETS = {
    "main": EVAL_SET,
    **{name: EVAL_DIR / f"search_eval_{name}.json" for name in ("blind1", "blind2", "blind3")},
}
KINDS = ("official", "keyword", "colloquial", "typo")

SEARCH = """query S($q: String!) { affairItems(search: $q, first: 5) {
  totalCount edges { node { code name } } } }"""

Search = Callable[[str], dict[str, Any]]


def load_queries(path: Path = EVAL_SET) -> list[dict[str, Any]]:
    queries: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["queries"]
    return queries


def evaluate(search: Search, queries: list[dict[str, Any]]) -> dict[str, Any]:
    """First-hit rate per kind; ``search(q)`` returns the ``affairItems`` object."""
    per_kind: dict[str, list[int]] = {kind: [0, 0] for kind in KINDS}
    misses: list[dict[str, Any]] = []
    empty: list[str] = []
    for entry in queries:
        result = search(entry["query"])
        names = [edge["node"]["name"] for edge in result["edges"]]
        hit = bool(names) and names[0] in entry["accept"]
        per_kind[entry["kind"]][0] += hit
        per_kind[entry["kind"]][1] += 1
        if not names:
            empty.append(entry["query"])
        if not hit:
            misses.append({"kind": entry["kind"], "query": entry["query"], "got": names[:3]})
    rates = {kind: hits / total for kind, (hits, total) in per_kind.items() if total}
    hits = sum(h for h, _ in per_kind.values())
    total = sum(t for _, t in per_kind.values())
    return {
        "rates": rates,
        "overall": hits / total if total else 0.0,
        "total": total,
        "empty": empty,
        "misses": misses,
    }


def report(result: dict[str, Any], *, verbose: bool = False) -> str:
    lines = [f"{kind:<11} {rate:6.1%}" for kind, rate in result["rates"].items()]
    lines.append(f"{'overall':<11} {result['overall']:6.1%}  ({result['total']} queries)")
    lines.append(f"no results: {len(result['empty'])} {result['empty']}")
    if verbose:
        lines.extend(f"  miss [{m['kind']}] {m['query']} → {m['got']}" for m in result["misses"])
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running gateway (default: start one)")
    parser.add_argument("--verbose", action="store_true", help="list the misses")
    parser.add_argument("--set", choices=sorted(EVAL_SETS), default="main", help="query set")
    args = parser.parse_args()
    queries = load_queries(EVAL_SETS[args.set])
    if args.url:
        import httpx

        client = httpx.Client(base_url=args.url, timeout=30)

        def search(q: str) -> dict[str, Any]:
            body = {"query": SEARCH, "variables": {"q": q}}
            payload = client.post("/graphql", json=body).json()
            result: dict[str, Any] = payload["data"]["affairItems"]
            return result

        print(report(evaluate(search, queries), verbose=args.verbose))
        return
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    from harness import GatewayProcess

    from gateway.embedded import EmbeddedMongo

    with tempfile.TemporaryDirectory() as tmp, EmbeddedMongo(Path(tmp) / "db") as database:
        gateway = GatewayProcess(
            Path(tmp) / "gw",
            {"ONESTOP_MONGODB_URL": database.url, "ONESTOP_LOG_LEVEL": "WARNING"},
            startup_timeout=300,
        )
        try:

            def search_local(q: str) -> dict[str, Any]:
                result: dict[str, Any] = gateway.data(SEARCH, {"q": q})["affairItems"]
                return result

            print(report(evaluate(search_local, queries), verbose=args.verbose))
        finally:
            gateway.stop()


if __name__ == "__main__":
    main()
