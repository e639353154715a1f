"""Development secrets under ``<data dir>/keys``, made once for every process.

Several workers (or a restart) on one data dir must sign alike: the first process to start
writes the file, every other one reads that file. Each writer links its own temporary file
into place (``os.link`` fails when the name exists), so of processes starting at once
exactly one wins and the others read the winner's bytes — never a key of their own that
nobody else has (``replace`` would let the last writer win while earlier ones already
signed with theirs).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

__all__ = ["read_or_create"]


def read_or_create(path: Path, make: Callable[[], bytes]) -> bytes:
    """The bytes at ``path``; created from ``make()`` (mode 0600) if absent."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        tmp.write_bytes(make())
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process was first: use its file
        finally:
            tmp.unlink()
    return path.read_bytes()
