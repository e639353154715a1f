"""Gateway throughput: OneStop against a hand-written endpoint and stock strawberry.

Not a test: it measures and prints, it never asserts a timing. In one run, on one
embedded nx-27017 database seeded by OneStop as ``make run`` seeds it, three servers
answer the same requests (see bench/gateway_reference.py for the two references):

* **OneStop** — ``python -m gateway.cli serve`` as in production (limits, metrics, the
  INFO access log) in three variants: response cache off (the comparisons with the
  references), response cache on, and limits, metrics and logging off
  (bench/gateway_bare.py: what those three cost);
* **hand-written** — Starlette, the same MongoDB commands, the same JSON bytes;
* **stock strawberry** — ``strawberry.asgi.GraphQL`` on the same types and resolvers.

For each operation it first checks the answers — byte-identical for the hand-written
endpoint and the variants (else no ratio, and the first difference is printed), the
same JSON for stock strawberry — then loads the servers with ``wrk`` in alternating
rounds (A B C A B C …; the first round warms up and is not counted) and reports
requests/s (median of the rounds, and their range), latency p50/p95/p99 (median of the
rounds) and the ratios of ``RATIOS``, each against the issue's target where it applies.
``--profile`` then records
OneStop under load with py-spy and summarises where its CPU time goes.

    .venv/bin/python bench/gateway.py [--quick] [--operations typename,item,list,search,me]
                                      [--redis] [--profile typename,item]

Prints Markdown tables and writes bench/results/gateway.json (``--quick``:
gateway-quick.json). How to read and reproduce it: docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
# The checkout first (before this folder, whose gateway.py is this file), then the
# test harness, then this folder for the sibling modules.
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(BENCH)]

from gateway_reference import OPERATIONS, Operation, check_checkout  # noqa: E402
from harness import GatewayProcess, RedisServer  # noqa: E402
from pyspy_summary import Profile, read_profile, render  # noqa: E402

from gateway.embedded import EmbeddedMongo  # noqa: E402

RESULTS = BENCH / "results"
PROFILES = RESULTS / "profiles"
SEARCH_TEXT = "营业执照"
PHONE = "13800138000"  # the benchmark's citizen (dev login: the code comes back in the payload)
TOKEN_TTL = 6 * 3600  # outlives any run
REQUEST_CODE = "mutation($p: String!) { requestLoginCode(phone: $p) { devCode } }"
LOGIN = "mutation($p: String!, $c: String!) { login(phone: $p, code: $c) { viewer { subjectId } } }"


@dataclass(frozen=True)
class Server:
    key: str  # onestop, hand, stock
    title: str
    process: GatewayProcess


@dataclass(frozen=True)
class Load:
    """How hard and how long wrk pushes, per round."""

    threads: int
    connections: int
    seconds: int
    rounds: int  # measured rounds per server, after one warm-up round


@dataclass(frozen=True)
class Prepared:
    """An operation as an HTTP request: the very bytes every server receives."""

    operation: Operation
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Round:
    """What wrk's ``done()`` hook reported for one round."""

    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: int  # connect, read, write, timeout and non-2xx responses
    cpu_s: float  # the server process's CPU time (user + system) during the round

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_us(self) -> float:
        """CPU per request: on two cores the servers, the database and wrk compete, so
        a profile's wall-clock samples swell with descheduled time; this does not."""
        return self.cpu_s / self.requests * 1e6 if self.requests else 0.0


# -- servers -----------------------------------------------------------------------------


# OneStop as the benchmark runs it: key, title, settings, command (None: ``onestop serve``).
# The first is the one every other server is compared with; all share its data directory
# (its seeds, its development signing key).
ONESTOP_VARIANTS: tuple[tuple[str, str, dict[str, str], tuple[str, ...] | None], ...] = (
    # As in production (limits, metrics, the INFO access log), the response cache off.
    ("onestop", "OneStop", {"ONESTOP_RESPONSE_CACHE": "false"}, None),
    # The same with the response cache (in-process, or Redis with --redis).
    ("cached", "OneStop + response cache", {}, None),
    # Limits (the rate limit too), metrics and logging off (bench/gateway_bare.py): the
    # overhead ratio's base.
    (
        "bare",
        "OneStop − limits, metrics, logging",
        {
            "ONESTOP_RESPONSE_CACHE": "false",
            "ONESTOP_LOG_LEVEL": "WARNING",
            "ONESTOP_RATE_LIMIT": "false",
        },
        (str(BENCH / "gateway_bare.py"), "serve"),
    ),
)
REFERENCES = (("hand", "hand-written"), ("stock", "stock strawberry"))
TITLES = {key: title for key, title, *_ in ONESTOP_VARIANTS} | dict(REFERENCES)


@contextmanager
def running_servers(workdir: Path, redis: bool) -> Iterator[list[Server]]:
    """nx-27017 (and Redis with ``--redis``), then OneStop, which seeds, its variants, then
    the references.

    The others read the first OneStop's data directory, so that they verify tokens with
    the same (development) signing key.
    """
    with ExitStack() as stack:
        database = stack.enter_context(EmbeddedMongo(workdir / "db"))
        env = {"ONESTOP_MONGODB_URL": database.url, "ONESTOP_LOG_LEVEL": "INFO"}
        if redis:
            redis_server = RedisServer(workdir / "redis")
            stack.callback(redis_server.stop)
            env["ONESTOP_REDIS_URL"] = redis_server.url
        servers: list[Server] = []
        shared = dict(env)
        for key, title, settings, command in ONESTOP_VARIANTS:
            process = GatewayProcess(
                workdir / key,
                {**shared, **settings},
                startup_timeout=600,
                **({"command": command} if command else {}),
            )
            servers.append(Server(key, title, _started(stack, process)))
            shared["ONESTOP_DATA_DIR"] = str(servers[0].process.data_dir)
        script = str(BENCH / "gateway_reference.py")
        for key, title in REFERENCES:
            process = GatewayProcess(workdir / key, shared, 120, command=(script, key))
            servers.append(Server(key, title, _started(stack, process)))
        yield servers


def _started(stack: ExitStack, process: GatewayProcess) -> GatewayProcess:
    stack.callback(process.stop)
    return process


# -- requests and their answers ----------------------------------------------------------


def prepare(onestop: GatewayProcess, operations: Sequence[Operation]) -> list[Prepared]:
    """Each operation's request, with a real item code and a signed-in citizen's token."""
    first = onestop.data("{ affairItems(first: 1) { edges { node { code } } } }")
    variables: dict[str, dict[str, Any]] = {
        "item": {"code": first["affairItems"]["edges"][0]["node"]["code"]},
        "search": {"q": SEARCH_TEXT},
    }
    token = citizen_token(onestop) if any(op.signed_in for op in operations) else ""
    prepared = []
    for op in operations:
        payload: dict[str, Any] = {"query": op.document}
        if op.name in variables:
            payload["variables"] = variables[op.name]
        headers = {"content-type": "application/json"}
        if op.signed_in:
            headers["authorization"] = f"Bearer {token}"
        body = json.dumps(payload, ensure_ascii=False).encode()
        prepared.append(Prepared(op, body, headers))
    return prepared


def citizen_token(onestop: GatewayProcess) -> str:
    """A citizen who has signed in (so ``me`` reads a real account), and a token for the run.

    The token is minted like ``onestop token`` (the harness's helper) so that it
    outlives the run; such a token has no session family, so no server looks up a
    revocation for it.
    """
    code = onestop.data(REQUEST_CODE, {"p": PHONE})["requestLoginCode"]["devCode"]
    viewer = onestop.data(LOGIN, {"p": PHONE, "c": code})["login"]["viewer"]
    return str(onestop.token(viewer["subjectId"], identity_level=1, ttl=TOKEN_TTL))


def answer(server: Server, request: Prepared) -> tuple[int, bytes]:
    response = server.process.client.post("/graphql", content=request.body, headers=request.headers)
    return response.status_code, response.content


def first_difference(expected: bytes, actual: bytes) -> str:
    """Where two answers part, with some context on each side."""
    at = next(
        (i for i, (a, b) in enumerate(zip(expected, actual, strict=False)) if a != b),
        min(len(expected), len(actual)),
    )
    start = max(0, at - 60)

    def around(text: bytes) -> str:
        return text[start : at + 60].decode("utf-8", "replace")

    return (
        f"first difference at byte {at} (lengths {len(expected)} / {len(actual)}):\n"
        f"    OneStop: …{around(expected)}…\n    other:   …{around(actual)}…"
    )


def compare(servers: Sequence[Server], request: Prepared) -> dict[str, str | None]:
    """Which servers may be compared with OneStop on this operation (None) and why not.

    The hand-written endpoint and OneStop's variants must return OneStop's bytes exactly
    (the cached variant is asked twice, so its kept answer is checked). Stock strawberry must
    return the same JSON; its bytes differ only because its encoder escapes non-ASCII
    (``\\u8425`` for 营), which is strawberry's default and part of what is measured.
    """
    status, expected = answer(servers[0], request)
    body = json.loads(expected)
    if status != 200 or "errors" in body or "data" not in body:
        raise SystemExit(f"OneStop cannot answer {request.operation.name}: {status} {body}")
    verdicts: dict[str, str | None] = {}
    for server in servers[1:]:
        status, actual = answer(server, request)
        if server.key == "cached":
            status, actual = answer(server, request)
        if status != 200:
            verdicts[server.key] = f"HTTP {status}: {actual[:300]!r}"
        elif server.key != "stock":
            same = actual == expected
            verdicts[server.key] = None if same else first_difference(expected, actual)
        else:
            same = json.loads(actual) == body
            verdicts[server.key] = None if same else first_difference(expected, actual)
    return verdicts


def db_commands(servers: Sequence[Server], request: Prepared) -> dict[str, int | None]:
    """MongoDB commands one request costs on OneStop and on the hand-written endpoint."""
    debug = {**request.headers, "x-onestop-debug": "db-commands"}
    onestop = servers[0].process.client.post("/graphql", content=request.body, headers=debug)
    counts: dict[str, int | None] = {
        "onestop": (onestop.json().get("extensions") or {}).get("dbCommands")
    }
    hand = next((s for s in servers if s.key == "hand"), None)
    if hand is not None:
        response = hand.process.client.post(
            "/graphql/db-commands", content=request.body, headers=request.headers
        )
        counts["hand"] = int(response.headers.get("x-db-commands", -1))
    return counts


# -- load --------------------------------------------------------------------------------

# wrk's Lua: POST the prepared body; done() prints one line the benchmark parses
# (wrk's --latency table has no p95).
WRK_SCRIPT = """-- written by bench/gateway.py
wrk.method = "POST"
local file = assert(io.open({body}, "rb"))
wrk.body = file:read("*a")
file:close()
{headers}
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def _lua_string(text: str) -> str:
    if not text.isascii():
        raise ValueError(f"not ASCII: {text!r}")
    return json.dumps(text)  # an ASCII JSON string is also a valid Lua string literal


def wrk_script(directory: Path, request: Prepared) -> Path:
    body = directory / f"{request.operation.name}.json"
    body.write_bytes(request.body)
    headers = "\n".join(
        f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in request.headers.items()
    )
    script = directory / f"{request.operation.name}.lua"
    script.write_text(WRK_SCRIPT.format(body=_lua_string(str(body)), headers=headers))
    return script


def wrk_command(server: Server, script: Path, load: Load, seconds: int) -> list[str]:
    return [
        "wrk",
        f"-t{load.threads}",
        f"-c{load.connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(script),
        f"{server.process.url}/graphql",
    ]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(server: Server, script: Path, load: Load) -> Round:
    command = wrk_command(server, script, load, load.seconds)
    pid = server.process.process.pid
    cpu_before = cpu_seconds(pid)
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=load.seconds + 60, check=True
    )
    cpu = cpu_seconds(pid) - cpu_before
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{done.stdout}\n{done.stderr}")
    requests, micros, p50, p95, p99, worst, errors = (int(v) for v in line.split()[1:])
    return Round(requests, micros / 1e6, p50 / 1e3, p95 / 1e3, p99 / 1e3, worst / 1e3, errors, cpu)


def measure(
    plan: Sequence[tuple[Prepared, Sequence[Server]]], scripts: dict[str, Path], load: Load
) -> dict[str, dict[str, list[Round]]]:
    """Alternate the servers round by round, operation by operation; round 0 warms up."""
    rounds: dict[str, dict[str, list[Round]]] = {}
    for request, servers in plan:
        name = request.operation.name
        rounds[name] = {s.key: [] for s in servers}
        for number in range(load.rounds + 1):
            for server in servers:
                result = run_wrk(server, scripts[name], load)
                label = "warm-up" if number == 0 else f"round {number}"
                print(
                    f"  {name:<9} {label:<8} {server.title:<17} {result.rps:8.0f} req/s"
                    f"  p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms"
                    f"  CPU {result.cpu_us:6.0f} µs/req"
                    + (f"  ERRORS {result.errors}" if result.errors else ""),
                    flush=True,
                )
                if number:
                    rounds[name][server.key].append(result)
    return rounds


# -- profile -----------------------------------------------------------------------------


def py_spy() -> str:
    found = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if found is None:
        raise SystemExit("py-spy not found (it is in the dev virtualenv)")
    return found


def profile_onestop(
    onestop: Server, script: Path, load: Load, seconds: int, out: Path
) -> Profile | None:
    """py-spy on OneStop while wrk loads it (started first, stopped after py-spy).

    None when py-spy cannot attach (it needs ptrace: root or CAP_SYS_PTRACE): the
    measurements are still written.
    """
    wrk = subprocess.Popen(
        wrk_command(onestop, script, load, seconds + 4),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(2)  # connections open, the rate steady
        pid = str(onestop.process.process.pid)
        record = [py_spy(), "record", "-p", pid, "-d", str(seconds), "--function"]
        done = subprocess.run(
            [*record, "--format", "raw", "-o", str(out)],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        )
    finally:
        wrk.wait(seconds + 60)
    if done.returncode != 0:
        print(f"py-spy failed ({done.returncode}), no profile:\n{done.stderr[-2000:]}")
        return None
    with out.open(encoding="utf-8", errors="replace") as lines:
        return read_profile(lines)


# -- report ------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


def summarize(rounds: list[Round]) -> dict[str, Any]:
    rates = [r.rps for r in rounds]
    return {
        "rps": round(median(rates), 1),
        "rps_min": round(min(rates), 1),
        "rps_max": round(max(rates), 1),
        "p50_ms": round(median([r.p50_ms for r in rounds]), 2),
        "p95_ms": round(median([r.p95_ms for r in rounds]), 2),
        "p99_ms": round(median([r.p99_ms for r in rounds]), 2),
        "cpu_us": round(median([r.cpu_us for r in rounds])),
        "errors": sum(r.errors for r in rounds),
        "rounds": [{**asdict(r), "rps": round(r.rps, 1)} for r in rounds],
    }


@dataclass(frozen=True)
class Ratio:
    """One column of the ratio table: ``mine``'s req/s over ``theirs``', and the issue's
    target for it on the operations it applies to."""

    mine: str
    theirs: str
    title: str
    target: float
    applies_to: frozenset[str]

    @property
    def key(self) -> str:
        return f"{self.mine}/{self.theirs}"


CATALOG = frozenset({"item", "list", "search"})  # the public catalog operations
ALL = frozenset(OPERATIONS)
RATIOS = (
    Ratio("onestop", "hand", "OneStop / hand-written", 0.9, CATALOG),
    Ratio("onestop", "stock", "OneStop / stock strawberry", 1.0, frozenset({"typename"})),
    Ratio("cached", "hand", "OneStop + response cache / hand-written", 1.5, CATALOG),
    # Limits, metrics and logging together cost at most 10%.
    Ratio("onestop", "bare", "OneStop / without limits, metrics, logging", 0.9, ALL),
)


def ratio(results: dict[str, Any], mine: str, theirs: str) -> float | None:
    a, b = results.get(mine), results.get(theirs)
    if not a or not b or not b["rps"]:
        return None
    return round(float(a["rps"]) / float(b["rps"]), 3)


def fmt_ratio(value: float | None, target: float | None = None) -> str:
    if value is None:
        return "—"
    if target is None:
        return f"{value:.2f}×"
    return f"{value:.2f}× {'✓' if value >= target else '✗'} (≥ {target})"


def tables(report: dict[str, Any], titles: dict[str, str]) -> str:
    """The Markdown of docs/PERFORMANCE.md: ratios first (✓/✗ against the issue's target
    where one applies), then each server's numbers."""
    out = [
        "| operation | DB commands (OneStop / hand) | "
        + " | ".join(r.title for r in RATIOS)
        + " |",
        "|---|---|" + "---|" * len(RATIOS),
    ]
    for name, op in report.items():
        commands = op["db_commands"]
        cells = [
            fmt_ratio(op["ratios"].get(r.key), r.target if name in r.applies_to else None)
            for r in RATIOS
        ]
        out.append(
            f"| {op['title']} | {commands.get('onestop')} / {commands.get('hand', '—')} | "
            + " | ".join(cells)
            + " |"
        )
    out += [
        "",
        "| operation | server | req/s median (range) | p50 ms | p95 ms | p99 ms | CPU µs/request |",
        "|---|---|---|---|---|---|---|",
    ]
    for op in report.values():
        for key, numbers in op["servers"].items():
            errors = f" ({numbers['errors']} errors)" if numbers["errors"] else ""
            out.append(
                f"| {op['title']} | {titles[key]} | {numbers['rps']:,.0f} "
                f"({numbers['rps_min']:,.0f}–{numbers['rps_max']:,.0f}){errors} "
                f"| {numbers['p50_ms']} | {numbers['p95_ms']} | {numbers['p99_ms']} "
                f"| {numbers['cpu_us']:,} |"
            )
    return "\n".join(out)


def machine(load_before: tuple[float, ...]) -> dict[str, Any]:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        model = next(
            (
                ln.split(":", 1)[1].strip()
                for ln in cpuinfo.read_text().splitlines()
                if ln.startswith("model name")
            ),
            "",
        )
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "cores": os.cpu_count(),
        "cpu": model or platform.processor(),
        "python": sys.version.split()[0],
        "strawberry-graphql": version("strawberry-graphql"),
        "graphql-core": version("graphql-core"),
        "commit": commit,
        "load_average_before": [round(v, 2) for v in load_before],
    }


# -- main --------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="3-second rounds, 2 measured")
    parser.add_argument("--operations", default=",".join(OPERATIONS), help="comma-separated")
    parser.add_argument("--seconds", type=int, help="per round (default 10, --quick 3)")
    parser.add_argument("--rounds", type=int, help="measured rounds (default 3, --quick 2)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--redis", action="store_true", help="all servers on a real Redis")
    parser.add_argument("--profile", default="", help="operations to profile OneStop under")
    parser.add_argument("--profile-seconds", type=int, default=20)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    unknown = set(args.operations.split(",")) - set(OPERATIONS)
    if unknown:
        parser.error(f"unknown operations {sorted(unknown)}; choose from {', '.join(OPERATIONS)}")
    if not_measured := set(filter(None, args.profile.split(","))) - set(args.operations.split(",")):
        parser.error(f"--profile {sorted(not_measured)}: not among --operations")
    return args


def main() -> None:
    args = parse_args()
    check_checkout()
    load = Load(
        threads=args.threads,
        connections=args.connections,
        seconds=args.seconds or (3 if args.quick else 10),
        rounds=args.rounds or (2 if args.quick else 3),
    )
    operations = [OPERATIONS[name] for name in args.operations.split(",")]
    output = args.output or RESULTS / ("gateway-quick.json" if args.quick else "gateway.json")
    load_before = os.getloadavg()
    if load_before[0] > 0.5:
        print(f"warning: load average {load_before[0]:.2f}: the numbers will be noisy")
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="onestop-gateway-bench-"))
    try:
        with running_servers(workdir, args.redis) as servers:
            report, profiles = run(servers, operations, load, args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    meta = {
        **machine(load_before),
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
        "wrk": asdict(load),
        "redis": args.redis,
        "quick": args.quick,
        "elapsed_s": round(time.monotonic() - started),
    }
    print("\n" + tables(report, TITLES))
    for name, profile in profiles.items():
        print(f"\nOneStop under `{OPERATIONS[name].title}`: " + render(profile))
    output.parent.mkdir(exist_ok=True)
    document = {
        "meta": meta,
        "operations": report,
        "profiles": {name: p.to_json(15) for name, p in profiles.items()},
    }
    output.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    print(
        f"\nwrote {output}; {meta['elapsed_s']} s; load average before "
        f"{meta['load_average_before']}, after {meta['load_average_after']}"
    )


def run(
    servers: list[Server],
    operations: Sequence[Operation],
    load: Load,
    args: argparse.Namespace,
    workdir: Path,
) -> tuple[dict[str, Any], dict[str, Profile]]:
    """Check every operation, measure the comparable servers, profile OneStop if asked."""
    prepared = prepare(servers[0].process, operations)
    scripts = {p.operation.name: wrk_script(workdir, p) for p in prepared}
    plan: list[tuple[Prepared, Sequence[Server]]] = []
    report: dict[str, Any] = {}
    for request in prepared:
        verdicts = compare(servers, request)
        for key, problem in verdicts.items():
            if problem is not None:
                print(f"{request.operation.name}: {key} differs from OneStop, no ratio; {problem}")
        plan.append((request, [s for s in servers if verdicts.get(s.key, None) is None]))
        report[request.operation.name] = {
            "title": request.operation.title,
            "document": request.operation.document,
            "db_commands": db_commands(servers, request),
            "comparable": {key: problem is None for key, problem in verdicts.items()},
        }
    print(f"measuring: {len(plan)} operations × {load.rounds + 1} rounds × {load.seconds} s")
    for name, by_server in measure(plan, scripts, load).items():
        results = {key: summarize(rounds) for key, rounds in by_server.items()}
        report[name]["servers"] = results
        report[name]["ratios"] = {r.key: ratio(results, r.mine, r.theirs) for r in RATIOS}
    profiles = {}
    for name in filter(None, args.profile.split(",")):
        PROFILES.mkdir(parents=True, exist_ok=True)
        out = PROFILES / f"gateway-{name}.txt"
        print(f"profiling OneStop under {name} for {args.profile_seconds} s → {out}")
        found = profile_onestop(servers[0], scripts[name], load, args.profile_seconds, out)
        if found is not None:
            profiles[name] = found
    return report, profiles


if __name__ == "__main__":
    main()
