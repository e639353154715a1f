"""Distances between points on the earth, for "nearest first" lists of places.

Any module listing places (service halls, clinics, bank branches) orders them from a
citizen's position with :func:`distance_meters`; a few hundred places are ordered in
memory faster than a database round trip.
"""

from __future__ import annotations

import math

__all__ = ["distance_meters"]

EARTH_RADIUS_M = 6_371_008.8


def distance_meters(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle (haversine) distance; metres-accurate at city scale."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lng2 - lng1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))
