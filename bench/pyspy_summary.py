"""Summarise a py-spy ``--format raw`` profile: where the gateway's CPU time goes.

py-spy's raw format is one line per distinct stack, root first, with its sample count::

    main (gateway/cli.py:215);run (uvicorn/main.py:577);…;validate (graphql/…/validate.py:28) 41

*Self* time of a function is the samples in which it is the innermost frame (its own
code, and C code it calls: ``json.dumps`` shows under ``json/encoder.py``); *inclusive*
time is the samples in which it is anywhere on the stack. Self time is also grouped by
component (strawberry/graphql-core, our middleware, our extensions, …) by file: a
sample counts for the innermost frame that belongs to a component, so that a standard
library helper (``contextlib``, ``inspect``, a dataclass ``__init__``) counts for the
code that called it. That is how docs/PERFORMANCE.md reads a profile.

    python bench/pyspy_summary.py profile.txt [--top 15]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["COMPONENTS", "Profile", "component_of", "read_profile", "render"]

# First match wins, on the frame's file (py-spy shortens paths to the package part).
COMPONENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("our middleware", ("gateway/middleware.py",)),
    ("our extensions", ("gateway/extensions/", "gateway/input_strings.py")),
    ("our GraphQL view", ("gateway/graphql_view.py", "gateway/http_body.py")),
    ("logging/metrics", ("logging/", "prometheus_client/", "gateway/observability.py")),
    ("JSON", ("json/",)),
    ("PyMongo", ("pymongo/", "bson/")),
    ("auth (JWT)", ("jwt/", "cryptography/", "gateway/auth.py")),
    ("strawberry/graphql-core", ("strawberry/", "graphql/", "cross_web/")),
    ("module code", ("modules/", "gateway/kit/", "numpy/", "jieba/", "pypinyin/")),
    ("gateway (other)", ("gateway/",)),
    (
        "server: uvicorn/starlette/asyncio",
        ("uvicorn/", "starlette/", "asyncio/", "httptools/", "anyio/", "h11/", "uvloop/"),
    ),
)
_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


@dataclass(frozen=True)
class Frame:
    function: str
    file: str

    @property
    def label(self) -> str:
        return f"{self.function} ({self.file})"


def parse_frame(text: str) -> Frame:
    match = _FRAME.match(text)
    if match is None:
        return Frame(text, "")
    return Frame(match["function"], match["file"])


OTHER = "other"
SERVER = COMPONENTS[-1][0]
# Frames on (nearly) every stack are the process's entry points: no news in a top list.
ROOT_SHARE = 95.0


def component_of(frame: Frame) -> str:
    where = "/" + frame.file
    for component, fragments in COMPONENTS:
        if any("/" + fragment in where for fragment in fragments):
            return component
    return OTHER


def stack_component(frames: Sequence[Frame]) -> str:
    """The component of the innermost frame that belongs to one."""
    for frame in reversed(frames):
        if (component := component_of(frame)) != OTHER:
            return component
    return OTHER


@dataclass
class Profile:
    """Samples by innermost frame (self), by frame anywhere (inclusive), by component."""

    samples: int
    self_time: Counter[Frame]
    inclusive: Counter[Frame]
    by_component: Counter[str]

    def components(self) -> Counter[str]:
        return self.by_component

    def top_inclusive(self, top: int) -> list[tuple[Frame, int]]:
        """The widest frames below the entry points, in the components worth reading."""
        return [
            (frame, count)
            for frame, count in self.inclusive.most_common()
            if self.share(count) < ROOT_SHARE and component_of(frame) not in (OTHER, SERVER)
        ][:top]

    def share(self, count: int) -> float:
        return round(100 * count / self.samples, 1) if self.samples else 0.0

    def to_json(self, top: int) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "components_self_pct": {c: self.share(n) for c, n in self.components().most_common()},
            "top_self_pct": {f.label: self.share(n) for f, n in self.self_time.most_common(top)},
            "top_inclusive_pct": {f.label: self.share(n) for f, n in self.top_inclusive(top)},
        }


def read_profile(lines: Iterable[str]) -> Profile:
    self_time: Counter[Frame] = Counter()
    inclusive: Counter[Frame] = Counter()
    by_component: Counter[str] = Counter()
    samples = 0
    for line in lines:
        stack, _, count_text = line.rstrip("\n").rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [parse_frame(f) for f in stack.split(";")]
        samples += count
        self_time[frames[-1]] += count
        by_component[stack_component(frames)] += count
        for frame in set(frames):  # once per stack, however deep the recursion
            inclusive[frame] += count
    return Profile(samples, self_time, inclusive, by_component)


def render(profile: Profile, top: int = 15) -> str:
    """Markdown: self time by component, then the top frames by self and inclusive time."""
    out = [f"{profile.samples} samples (active CPU; idle waiting excluded)", ""]
    out += ["| component | self % |", "|---|---|"]
    out += [f"| {c} | {profile.share(n)} |" for c, n in profile.components().most_common()]
    out += ["", "| top self-time frames | self % |", "|---|---|"]
    out += [f"| `{f.label}` | {profile.share(n)} |" for f, n in profile.self_time.most_common(top)]
    out += ["", "| widest frames (inclusive) | inclusive % |", "|---|---|"]
    out += [f"| `{f.label}` | {profile.share(n)} |" for f, n in profile.top_inclusive(top)]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description="Summarise a py-spy --format raw profile.")
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    with args.profile.open(encoding="utf-8", errors="replace") as lines:
        print(render(read_profile(lines), args.top))


if __name__ == "__main__":
    main()
