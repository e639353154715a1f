"""The convenience flags (便民标识) of a service item: the one definition.

Every representation is generated from ``FLAGS``: the stored top-level booleans, the
``AffairItemFlags`` output type, the ``AffairFlag`` enum, the boolean filters of
``AffairItemFilter``, the settable fields of the editing inputs, the facet counts, the
ratios of ``affairsCatalogStats`` and the derivation rules. Adding a flag is one entry
here (plus seed data), never an edit in eight places.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DERIVED_FLAGS",
    "FLAGS",
    "FLAG_FIELDS",
    "FLAG_LABELS",
    "SETTABLE_FLAGS",
    "Flag",
    "derive_flags",
]

Item = Mapping[str, Any]


@dataclass(frozen=True)
class Flag:
    """One convenience flag.

    Attributes:
        name: the stored field (snake case; camelCase in GraphQL).
        label: the Chinese label shown in the app.
        description: what it means, for the schema.
        derive: computes the flag from the item's other fields; ``None`` when staff
            set it (then it is an input field of the editing mutations).
        default: the value a new item gets when staff do not set it.
    """

    name: str
    label: str
    description: str
    derive: Callable[[Item], bool] | None = None
    default: bool = False

    @property
    def derived(self) -> bool:
        return self.derive is not None


def _materials_tolerated(item: Item) -> bool:
    return any(m.get("necessity") == "tolerated" for m in item.get("materials") or [])


# Display order: what citizens look for first.
FLAGS: tuple[Flag, ...] = (
    Flag(
        "online",
        "可网办",
        "可网办: online depth ≥ 3 (pre-check or acceptance online).",
        lambda item: int(item.get("online_depth", 1)) >= 3,
    ),
    Flag(
        "zero_visit", "零跑动", "零跑动: no visit needed.", lambda i: int(i.get("visits", 0)) == 0
    ),
    Flag(
        "max_one_visit",
        "最多跑一次",
        "最多跑一次: at most one visit.",
        lambda item: int(item.get("visits", 0)) <= 1,
    ),
    Flag(
        "instant",
        "即办件",
        "即办件 (即来即办): done on the spot.",
        lambda item: item.get("handling_type") == "instant",
    ),
    Flag("instant_approval", "秒批", "秒批: automatic approval by rules against held data."),
    Flag(
        "tolerates_missing",
        "容缺受理",
        "容缺受理: secondary materials may follow under a signed promise.",
        _materials_tolerated,
    ),
    Flag("no_meeting", "不见面审批", "不见面审批: approved without meeting the applicant."),
    Flag(
        "district_wide",
        "区内通办",
        "区内通办 or wider: can be handled at any hall in the district.",
        lambda item: item.get("handling_scope", "none") != "none",
    ),
    Flag("appointment", "支持预约", "支持预约: visits can be booked."),
    Flag("mail_delivery", "支持快递", "支持物流快递: results can be mailed."),
    Flag("self_service", "自助终端可办", "自助终端可办: 24-hour self-service terminals handle it."),
    Flag("charged", "收费", "收费: fees are charged (see `fees`)."),
    Flag("in_hall", "进驻大厅", "进驻大厅: handled in the district hall.", default=True),
    Flag("no_photocopy", "免复印", "免复印: no photocopies needed."),
)

FLAG_FIELDS: tuple[str, ...] = tuple(flag.name for flag in FLAGS)
FLAG_LABELS: dict[str, str] = {flag.name: flag.label for flag in FLAGS}
DERIVED_FLAGS: tuple[Flag, ...] = tuple(flag for flag in FLAGS if flag.derived)
SETTABLE_FLAGS: tuple[Flag, ...] = tuple(flag for flag in FLAGS if not flag.derived)


def derive_flags(item: dict[str, Any]) -> dict[str, Any]:
    """Recompute the derived flags in place and return the item."""
    for flag in DERIVED_FLAGS:
        assert flag.derive is not None
        item[flag.name] = flag.derive(item)
    return item
