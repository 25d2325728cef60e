"""Small statistics for the platform metrics (no Django, no numpy: exact and easy to check by
hand)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def ratio(part: float, whole: float) -> float | None:
    """part / whole; None when nothing was counted (never "100 % good" for no data)."""
    return part / whole if whole else None


def mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return math.fsum(values) / len(values) if values else None


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-quantile (0 ≤ q ≤ 1) by linear interpolation between the closest ranks — the
    `linear` method of numpy and PERCENTILE.INC of spreadsheets: with the n values sorted,
    position h = (n − 1)·q, and the result is x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])."""
    if not 0 <= q <= 1:
        raise ValueError("q is a share between 0 and 1")
    ordered: Sequence[float] = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def median(values: Iterable[float]) -> float | None:
    return percentile(values, 0.5)


PROMOTERS = range(9, 11)  # answers 9 and 10
PASSIVES = range(7, 9)  # 7 and 8; 0 to 6 are detractors


def nps(scores: Iterable[int]) -> dict[str, float | int | None]:
    """The Net Promoter Score of answers on the 0–10 scale: promoters answer 9 or 10, passives
    7 or 8, detractors 0 to 6; NPS = (promoters − detractors) / answers × 100, from −100 to
    100 (None without answers)."""
    scores = list(scores)
    promoters = sum(1 for s in scores if s in PROMOTERS)
    passives = sum(1 for s in scores if s in PASSIVES)
    detractors = len(scores) - promoters - passives
    score = (promoters - detractors) / len(scores) * 100 if scores else None
    return {
        "nps": score,
        "promoters": promoters,
        "passives": passives,
        "detractors": detractors,
        "responses": len(scores),
    }
