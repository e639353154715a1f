"""`affairsCatalogStats` equals what the seed files contain."""

from __future__ import annotations

from harness import GatewayProcess

STATS = """{ affairsCatalogStats {
  totalItems activeItems suspendedItems cancelledItems
  online { count ratio } zeroVisit { count ratio } maxOneVisit { count ratio }
  instant { count ratio } instantApproval { count } districtWide { count }
  noMeeting { count } toleratesMissing { count } noPhotocopy { count }
  averageLegalLimitDays averagePromisedLimitDays limitCompression licensingLimitCompression
  byType { type name count } byDepartment { value label count } } }"""


def test_stats_match_the_seed_data(gateway: GatewayProcess, seed_items) -> None:
    stats = gateway.data(STATS)["affairsCatalogStats"]
    active = [i for i in seed_items if i["status"] == "active"]
    assert stats["totalItems"] == len(seed_items) == 1202
    assert stats["activeItems"] == len(active)
    assert stats["suspendedItems"] == sum(1 for i in seed_items if i["status"] == "suspended")
    assert stats["cancelledItems"] == sum(1 for i in seed_items if i["status"] == "cancelled")

    def count(predicate) -> int:
        return sum(1 for i in active if predicate(i))

    expectations = {
        "online": count(lambda i: i["online_depth"] >= 3),
        "zeroVisit": count(lambda i: i["visits"] == 0),
        "maxOneVisit": count(lambda i: i["visits"] <= 1),
        "instant": count(lambda i: i["handling_type"] == "instant"),
        "instantApproval": count(lambda i: i["instant_approval"]),
        "districtWide": count(lambda i: i["handling_scope"] != "none"),
        "noMeeting": count(lambda i: i["no_meeting"]),
        "toleratesMissing": count(
            lambda i: any(m["necessity"] == "tolerated" for m in i["materials"])
        ),
        "noPhotocopy": count(lambda i: i["no_photocopy"]),
    }
    for field, expected in expectations.items():
        assert stats[field]["count"] == expected, field
    assert stats["online"]["ratio"] == round(expectations["online"] / len(active), 4)

    promised = [i for i in active if i["handling_type"] == "promised" and i["legal_limit_days"] > 0]
    compression = 1 - sum(i["promised_limit_days"] for i in promised) / sum(
        i["legal_limit_days"] for i in promised
    )
    assert stats["limitCompression"] == round(compression, 4)
    assert stats["limitCompression"] > 0.5  # the published "cut by more than 50%"
    licensing = [i for i in promised if i["type_code"] == "01"]
    assert stats["licensingLimitCompression"] == round(
        1
        - sum(i["promised_limit_days"] for i in licensing)
        / sum(i["legal_limit_days"] for i in licensing),
        4,
    )
    assert sum(t["count"] for t in stats["byType"]) == len(active)
    assert sum(d["count"] for d in stats["byDepartment"]) == len(active)


def test_published_ratios_are_close_to_luohu(gateway: GatewayProcess) -> None:
    stats = gateway.data(STATS)["affairsCatalogStats"]
    assert 0.95 <= stats["online"]["ratio"] <= 0.975
    assert stats["zeroVisit"]["ratio"] >= 0.70
    assert stats["maxOneVisit"]["ratio"] == 1.0
    assert 0.31 <= stats["instant"]["ratio"] <= 0.35
    assert 190 <= stats["districtWide"]["count"] <= 210
