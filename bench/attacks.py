"""Refusal times of the adversarial review's documents, against a running gateway.

Usage: python bench/attacks.py [URL]   (default http://127.0.0.1:8000)

For each attack document: the median and worst of 10 requests (each made unique
with a comment, so no cache helps), the code it got,
and /healthz latency measured from a second thread while the attacks run.
Not a test: numbers go into the issue note and docs.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time

import httpx

FRAGMENT_BOMB = (
    "fragment F0 on Query { __typename }\n"
    + "".join(f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}\n" for i in range(1, 40))
    + "query { ...F39 }"
)
ATTACKS = {
    "fan-out (first: 1)": "{ affairItems(first: 1) { edges { node { faq { items { faq { items "
    "{ faq { items { code } } } } } } } } } }",
    "fan-out (first: 10)": "{ affairItems(first: 10) { edges { node { faq { items { faq { items "
    "{ faq { items { code } } } } } } } } } }",
    "fragment bomb (40 × 2)": FRAGMENT_BOMB,
    "30 × faq(search)": "{"
    + " ".join(f'a{i}: faq(search: "营业执照") {{ entries {{ question }} }}' for i in range(30))
    + "}",
    "30 × affairItems(first: 100)": "{"
    + " ".join(
        f"a{i}: affairItems(first: 100) {{ edges {{ node {{ code }} }} }}" for i in range(30)
    )
    + "}",
    "5,000 duplicated fields": "{" + " __typename" * 5000 + "}",
    "790 duplicated selections": "{" + " me { id }" * 790 + "}",
    "10,000 aliases": "{" + " ".join(f"a{i}: __typename" for i in range(10_000)) + "}",
    "1 MB of tokens": "{" + " __typename" * 95_000 + "}",
    "depth 100": "{"
    + " affairItems(first: 1) { edges { node { faq { items {" * 20
    + " code"
    + " } } } } }" * 20
    + "}",
    "10,000 repeated directives": "{ __typename" + " @skip(if: false)" * 10_000 + " }",
    "500 repeated directives": "{ __typename" + " @skip(if: false)" * 500 + " }",
}


def timed(client: httpx.Client, query: str) -> tuple[float, str]:
    started = time.perf_counter()
    response = client.post("/graphql", json={"query": query})
    elapsed = (time.perf_counter() - started) * 1000
    payload = response.json()
    errors = payload.get("errors") or []
    code = errors[0]["extensions"].get("code", "?") if errors else f"ok {len(response.content)} B"
    return elapsed, f"{response.status_code} {code}"


def main(url: str) -> None:
    probes: list[float] = []
    stop = threading.Event()

    def probe() -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            while not stop.is_set():
                started = time.perf_counter()
                client.get("/healthz")
                probes.append((time.perf_counter() - started) * 1000)
                time.sleep(0.01)

    prober = threading.Thread(target=probe)
    prober.start()
    print(f"{'document':32} {'bytes':>9} {'p50 ms':>8} {'max ms':>8}  result")
    with httpx.Client(base_url=url, timeout=120) as client:
        for name, query in ATTACKS.items():
            # A comment makes every request a new text: no cache helps the server.
            runs = [timed(client, f"{query}\n# {name} {k}") for k in range(10)]
            times = [t for t, _ in runs]
            print(
                f"{name:32} {len(query.encode()):>9,} {statistics.median(times):>8.1f} "
                f"{max(times):>8.1f}  {runs[0][1]}"
            )
    stop.set()
    prober.join()
    print(
        f"/healthz during the attacks: {len(probes)} probes, "
        f"p50 {statistics.median(probes):.1f} ms, max {max(probes):.1f} ms"
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
