"""Severity SEV0-SEV3 from impact factors: a pure, documented, monotone function.

SEV0 is the most severe (all hands, executive and regulator attention); SEV3 the least.

The score adds points for each factor; each factor's points only grow as the factor grows,
so the function is monotone: more reach, more velocity, minors involved, more regions, more
regulatory exposure or more press never lowers severity.

==========================  =========================================================  ======
factor                      bands                                                      points
==========================  =========================================================  ======
harm type gravity           taxonomy gravity 1..4 (terrorism, CSE = 4)                 1..4
reach (views so far)        <10k, 10k, 100k, 1M, >=10M                                 0..4
velocity (views per hour)   <1k, 1k, 10k, 100k, >=1M                                   0..4
minors involved             yes                                                        2
regions affected            1, 2-4, 5-14, >=15                                         0..3
regulatory exposure         none, possible, legal deadline running                     0..2
press attention             none, inquiries, coverage, major/global coverage           0..3
==========================  =========================================================  ======

Score to level: >= 13 SEV0, >= 9 SEV1, >= 6 SEV2, else SEV3. Floors: a gravity-4 harm is at
least SEV1 (a single terrorist video or CSAM item is a crime with victims); a gravity-3 harm
involving minors is at least SEV2. The thresholds make, for example, a live-streamed attack
with over 1M views, re-uploaded at 100k views/hour in five countries with press inquiries, a
SEV0 (the same at 100k-1M views is a SEV1), and a regional bullying raid with 50k views a SEV3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from rapidresponse.incidents.taxonomy import HarmType, harm_type_info


class Severity(StrEnum):
    SEV0 = "SEV0"
    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"

    @property
    def rank(self) -> int:
        """0 for SEV0 (most severe) .. 3 for SEV3."""
        return int(self.value[-1])


class RegulatoryExposure(StrEnum):
    NONE = "none"
    POSSIBLE = "possible"
    DEADLINE = "deadline"  # a legal clock is running (removal order, mandatory report)


class PressAttention(StrEnum):
    NONE = "none"
    INQUIRIES = "inquiries"
    COVERAGE = "coverage"
    MAJOR = "major"


_REGULATORY_POINTS = {
    RegulatoryExposure.NONE: 0,
    RegulatoryExposure.POSSIBLE: 1,
    RegulatoryExposure.DEADLINE: 2,
}
_PRESS_POINTS = {
    PressAttention.NONE: 0,
    PressAttention.INQUIRIES: 1,
    PressAttention.COVERAGE: 2,
    PressAttention.MAJOR: 3,
}
SEV0_SCORE = 13
SEV1_SCORE = 9
SEV2_SCORE = 6


@dataclass(frozen=True)
class ImpactFactors:
    harm_type: HarmType
    views: int = 0
    views_per_hour: int = 0
    minors_involved: bool = False
    region_count: int = 1
    regulatory_exposure: RegulatoryExposure = RegulatoryExposure.NONE
    press_attention: PressAttention = PressAttention.NONE


@dataclass(frozen=True)
class SeverityAssessment:
    severity: Severity
    score: int
    points: dict[str, int] = field(default_factory=dict)
    floor: Severity | None = None
    explanation: str = ""


def _decade_band(value: int, first: int, top: int) -> int:
    """0 below ``first``; then one point per factor of ten, capped at ``top``."""
    if value < first:
        return 0
    return min(top, 1 + math.floor(math.log10(value / first) + 1e-9))


def _region_points(count: int) -> int:
    if count >= 15:
        return 3
    if count >= 5:
        return 2
    if count >= 2:
        return 1
    return 0


def _level(score: int) -> Severity:
    if score >= SEV0_SCORE:
        return Severity.SEV0
    if score >= SEV1_SCORE:
        return Severity.SEV1
    if score >= SEV2_SCORE:
        return Severity.SEV2
    return Severity.SEV3


def assess(factors: ImpactFactors) -> SeverityAssessment:
    """Compute severity with the points of each factor, for people to check the reasoning."""
    if factors.views < 0 or factors.views_per_hour < 0 or factors.region_count < 0:
        raise ValueError("views, views_per_hour and region_count cannot be negative")
    gravity = harm_type_info(factors.harm_type).gravity
    points = {
        "harm_type_gravity": gravity,
        "reach": _decade_band(factors.views, 10_000, 4),
        "velocity": _decade_band(factors.views_per_hour, 1_000, 4),
        "minors_involved": 2 if factors.minors_involved else 0,
        "regions": _region_points(factors.region_count),
        "regulatory_exposure": _REGULATORY_POINTS[RegulatoryExposure(factors.regulatory_exposure)],
        "press_attention": _PRESS_POINTS[PressAttention(factors.press_attention)],
    }
    score = sum(points.values())
    level = _level(score)
    floor: Severity | None = None
    if gravity >= 4:
        floor = Severity.SEV1
    elif gravity >= 3 and factors.minors_involved:
        floor = Severity.SEV2
    if floor is not None and floor.rank < level.rank:
        level = floor
    else:
        floor = None
    parts = ", ".join(f"{name} +{value}" for name, value in points.items() if value)
    explanation = f"score {score} ({parts or 'no impact factors'}) -> {_level(score).value}"
    if floor is not None:
        explanation += f"; raised to {floor.value} by the floor for this harm type"
    return SeverityAssessment(level, score, points, floor, explanation)
