"""Distances and opening hours for the service network (China Standard Time, no DST)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any

__all__ = ["CST", "OpeningState", "distance_meters", "opening_state"]

CST = timezone(timedelta(hours=8), "CST")
EARTH_RADIUS_M = 6_371_008.8
WEEKDAYS = "一二三四五六日"


def distance_meters(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle (haversine) distance; metres-accurate at city scale."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lng2 - lng1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


@dataclass(frozen=True)
class OpeningState:
    is_open: bool
    label: str  # 营业中 / 休息中 / 24小时
    closes_at: str | None
    opens_at: str | None  # next opening, e.g. "周一 09:00"


def _parse(clock: str) -> time:
    if clock == "24:00":
        return time(23, 59, 59)
    hours, minutes = clock.split(":")
    return time(int(hours), int(minutes))


def opening_state(
    hours: Sequence[Mapping[str, Any]], always_open: bool, now: datetime | None = None
) -> OpeningState:
    """Whether a place is open at ``now`` (default: the current time in China)."""
    if always_open:
        return OpeningState(True, "24小时", None, None)
    now = (now or datetime.now(CST)).astimezone(CST)
    today = now.isoweekday()
    clock = now.time()
    for period in hours:
        if today in period["days"] and _parse(period["open"]) <= clock < _parse(period["close"]):
            return OpeningState(True, "营业中", period["close"], None)
    for offset in range(0, 8):
        day = (today - 1 + offset) % 7 + 1
        starts = sorted(
            _parse(p["open"])
            for p in hours
            if day in p["days"]
            if offset > 0 or _parse(p["open"]) > clock
        )
        if starts:
            when = starts[0].strftime("%H:%M")
            prefix = "今天" if offset == 0 else "明天" if offset == 1 else f"周{WEEKDAYS[day - 1]}"
            return OpeningState(False, "休息中", None, f"{prefix} {when}")
    return OpeningState(False, "休息中", None, None)


def describe_hours(hours: Sequence[Mapping[str, Any]], always_open: bool) -> str:
    """Human text like 周一至周五 09:00-12:00, 14:00-18:00；周六 09:00-12:00."""
    if always_open:
        return "24小时开放"
    by_days: dict[tuple[int, ...], list[str]] = {}
    for period in hours:
        by_days.setdefault(tuple(period["days"]), []).append(f"{period['open']}-{period['close']}")
    parts = []
    for days, spans in by_days.items():
        if len(days) > 1 and list(days) == list(range(days[0], days[-1] + 1)):
            label = f"周{WEEKDAYS[days[0] - 1]}至周{WEEKDAYS[days[-1] - 1]}"
        else:
            label = "、".join(f"周{WEEKDAYS[d - 1]}" for d in days)
        parts.append(f"{label} {', '.join(spans)}")
    return "；".join(parts)
