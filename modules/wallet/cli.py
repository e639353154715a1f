"""``onestop wallet verify FILE --trust-list FILE``: check a license or a presentation offline.

Needs no server and no database: the trust list (``walletTrustList.document`` saved to a
file) carries every issuer's keys, signed by the trust anchor. Exit status 0: valid; 1: not
valid (the reason is printed); 2: the trust list or the arguments are unusable.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from modules.wallet.sdjwt import FormatError
from modules.wallet.trust import TrustList, verify_document

__all__ = ["register"]


def register(commands: Any) -> None:
    """Add ``wallet`` to the ``onestop`` command's subcommands (entry point onestop.commands)."""
    wallet = commands.add_parser("wallet", help="mobile key wallet tools (offline)")
    actions = wallet.add_subparsers(dest="wallet_command", required=True)
    verify = actions.add_parser(
        "verify", help="verify a license or presentation (SD-JWT) with a trust list, offline"
    )
    verify.add_argument("file", type=Path, help="the license or presentation (text)")
    verify.add_argument("--trust-list", type=Path, required=True, help="the signed trust list")
    verify.add_argument("--anchor", help="the trust anchor's thumbprint to insist on")
    verify.add_argument("--at", help="check as of this ISO time (default: now)")
    verify.add_argument("--json", action="store_true", help="print the result as JSON")
    verify.set_defaults(func=verify_command)


def verify_command(args: argparse.Namespace) -> int:
    try:
        trust = TrustList.load(args.trust_list.read_text(encoding="utf-8"), anchor=args.anchor)
        now = int(datetime.fromisoformat(args.at).timestamp()) if args.at else int(time.time())
        text = args.file.read_text(encoding="utf-8").strip()
    except (OSError, FormatError, ValueError) as exc:
        print(f"onestop wallet verify: {exc}", file=sys.stderr)
        return 2
    result = verify_document(text, trust, now)
    if args.json:
        print(
            json.dumps(
                {
                    "valid": result.valid,
                    "kind": result.kind,
                    "problem": result.problem,
                    "issuer": result.issuer_name,
                    "license": result.license,
                    "disclosed": result.disclosed,
                    "anchor": trust.anchor_thumbprint,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        verdict = "VALID" if result.valid else "INVALID"
        print(f"{verdict} {result.kind}" + (f": {result.problem}" if result.problem else ""))
        print(f"trust anchor {trust.anchor_thumbprint}" + ("" if args.anchor else " (not pinned)"))
        if result.valid:
            meta = result.license
            print(f"{meta.get('type_name')} {meta.get('identifier')}")
            print(
                f"issuer {result.issuer_name}; valid {meta.get('valid_from')} – "
                f"{meta.get('valid_until') or '长期'}"
            )
            for name, value in sorted(result.disclosed.items()):
                print(f"  {name}: {json.dumps(value, ensure_ascii=False)}")
    return 0 if result.valid else 1
