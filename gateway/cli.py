"""The ``onestop`` command: serve, seed, schema export/check, token, modules.

Each command imports the heavy parts it needs (the app, uvicorn, the database
drivers) when it runs, so that quick commands such as ``onestop token`` start fast;
none of these imports works around an import cycle.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import json
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from gateway.config import ConfigError, Settings, load_settings
from gateway.registry import Composition, CompositionError, discover

__all__ = ["main"]

DEFAULT_SCHEMA_PATH = Path("schema.graphql")
COMMANDS_GROUP = "onestop.commands"


def _composition(settings: Settings) -> Composition:
    from gateway.schema import compose_with_core

    return compose_with_core(discover(settings.modules))


def _sdl(settings: Settings) -> str:
    from gateway.schema import build_schema, schema_sdl

    # The committed schema documents the production surface; dev-only switches
    # (introspection, GraphiQL) do not change the SDL.
    return schema_sdl(build_schema(_composition(settings), settings))


def cmd_serve(args: argparse.Namespace) -> int:
    from gateway.metrics_server import prepare_directory

    overrides: dict[str, Any] = {}
    if args.host:
        overrides["host"] = args.host
    if args.port:
        overrides["port"] = args.port
    if args.workers:
        overrides["workers"] = args.workers
    settings = load_settings(**overrides)
    # Before anything imports prometheus-client (it picks its storage at import): every
    # worker writes to this directory, and the one listener below reads them all.
    metrics_dir = prepare_directory() if settings.metrics_port else None

    import uvicorn

    from gateway.app import create_app
    from gateway.metrics_server import MetricsServer
    from gateway.observability import configure_logging

    configure_logging(settings.log_level)
    if metrics_dir is not None:
        try:
            metrics = MetricsServer(
                settings.metrics_host, settings.metrics_port, metrics_dir, settings.metrics_token
            )
        except OSError as exc:
            raise ConfigError(
                f"ONESTOP_METRICS_PORT: cannot listen on {settings.metrics_host}:"
                f"{settings.metrics_port} ({exc.strerror}); choose another port, or 0 for none"
            ) from None
        metrics.start()
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "access_log": False,
        "proxy_headers": True,
        "server_header": False,
        "timeout_graceful_shutdown": 10,
    }
    if settings.workers > 1:
        # Workers import the factory themselves and read the same environment.
        os.environ.update({f"ONESTOP_{k.upper()}": str(v) for k, v in overrides.items()})
        uvicorn.run("gateway.app:app_from_env", factory=True, workers=settings.workers, **common)
    else:
        uvicorn.run(create_app(settings), **common)
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from gateway.app import close_runtime, open_runtime
    from gateway.observability import Metrics, configure_logging
    from gateway.seeding import run_seeds

    settings = load_settings(seed_on_start=False)
    configure_logging(settings.log_level)

    async def seed() -> dict[str, int]:
        runtime = await open_runtime(settings, _composition(settings), Metrics())
        try:
            return await run_seeds(runtime, only_unseeded=False)
        finally:
            await close_runtime(runtime)

    written = asyncio.run(seed())
    for name, count in written.items():
        print(f"{name}: {count} documents")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    settings = load_settings()
    sdl = _sdl(settings)
    path: Path = args.path
    if args.action == "export":
        if args.output == "-":
            sys.stdout.write(sdl)
        else:
            path.write_text(sdl, encoding="utf-8")
            print(f"wrote {path}")
        return 0
    committed = path.read_text(encoding="utf-8") if path.exists() else ""
    if committed == sdl:
        print(f"{path} matches the running schema")
        return 0
    diff = difflib.unified_diff(
        committed.splitlines(keepends=True),
        sdl.splitlines(keepends=True),
        fromfile=str(path),
        tofile="running schema",
    )
    sys.stdout.writelines(diff)
    print(f"\n{path} differs from the running schema; run `onestop schema export`", file=sys.stderr)
    return 1


def cmd_token(args: argparse.Namespace) -> int:
    from gateway.auth import Role, SigningKeys, TokenService
    from gateway.cache import MemoryCache

    settings = load_settings()
    for role in args.role:
        if role not in Role._value2member_map_:
            raise SystemExit(f"unknown role {role!r}; one of {', '.join(r.value for r in Role)}")
    tokens = TokenService(SigningKeys.from_settings(settings), settings, MemoryCache())
    print(
        tokens.issue_access_token(
            args.sub,
            roles=args.role or ["citizen"],
            department=args.department,
            identity_level=args.identity_level,
            scopes=args.scope or None,
            ttl=args.ttl,
        )
    )
    return 0


def cmd_modules(args: argparse.Namespace) -> int:
    composition = _composition(load_settings())
    rows = [
        {
            "name": info.module.name,
            "version": info.module.version,
            "description": info.module.description,
            "query": list(info.query_fields),
            "mutation": list(info.mutation_fields),
            "subscription": list(info.subscription_fields),
            "collections": list(info.collections),
        }
        for info in composition.modules
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for row in rows:
        print(f"{row['name']} {row['version']} — {row['description']}")
        for kind in ("query", "mutation", "subscription"):
            if row[kind]:
                print(f"  {kind}: {', '.join(row[kind])}")
        if row["collections"]:
            print(f"  collections: {', '.join(row['collections'])}")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="onestop", description="OneStop GraphQL gateway")
    sub = root.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the API (embedded database when no URL is set)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.set_defaults(func=cmd_serve)

    seed = sub.add_parser("seed", help="load every module's seed data (idempotent upserts)")
    seed.set_defaults(func=cmd_seed)

    schema = sub.add_parser("schema", help="export or check schema.graphql")
    schema.add_argument("action", choices=["export", "check"])
    schema.add_argument("--path", type=Path, default=DEFAULT_SCHEMA_PATH)
    schema.add_argument("--output", help="export to '-' (stdout) instead of --path")
    schema.set_defaults(func=cmd_schema)

    token = sub.add_parser("token", help="mint an access token (tests and ops)")
    token.add_argument("--sub", required=True, help="subject id")
    token.add_argument("--role", action="append", default=[], help="repeatable")
    token.add_argument("--department", help="department code (staff)")
    token.add_argument("--identity-level", type=int, default=1, choices=[0, 1, 2, 3])
    token.add_argument("--scope", action="append", default=[], help="narrow to these permissions")
    token.add_argument("--ttl", type=int, help="lifetime in seconds")
    token.set_defaults(func=cmd_token)

    modules = sub.add_parser("modules", help="list the modules that would be loaded")
    modules.add_argument("--json", action="store_true")
    modules.set_defaults(func=cmd_modules)

    # Installed packages add their own subcommands through the `onestop.commands` entry
    # points: ``register(subparsers)`` adds parsers whose ``func`` returns the exit status.
    for point in entry_points(group=COMMANDS_GROUP):
        point.load()(sub)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        result: int = args.func(args)
        return result
    except (ConfigError, CompositionError) as exc:
        print(f"onestop: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
