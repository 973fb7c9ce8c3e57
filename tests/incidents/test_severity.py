"""Properties and worked examples of the severity function `assess(ImpactFactors)`."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rapidresponse.incidents.severity import (
    ImpactFactors,
    PressAttention,
    RegulatoryExposure,
    Severity,
    SeverityAssessment,
    assess,
)
from rapidresponse.incidents.taxonomy import HARM_TYPES, HarmType

# The documented bands, as plain threshold lists: an oracle independent of the log10 arithmetic
# in the implementation (points = how many thresholds the value reaches).
REACH_THRESHOLDS = (10_000, 100_000, 1_000_000, 10_000_000)
VELOCITY_THRESHOLDS = (1_000, 10_000, 100_000, 1_000_000)
REGION_THRESHOLDS = (2, 5, 15)
REGULATORY_ORDER = (
    RegulatoryExposure.NONE,
    RegulatoryExposure.POSSIBLE,
    RegulatoryExposure.DEADLINE,
)
PRESS_ORDER = (
    PressAttention.NONE,
    PressAttention.INQUIRIES,
    PressAttention.COVERAGE,
    PressAttention.MAJOR,
)
POINT_NAMES = {
    "harm_type_gravity",
    "reach",
    "velocity",
    "minors_involved",
    "regions",
    "regulatory_exposure",
    "press_attention",
}
GRAVITY_4 = sorted(h for h, info in HARM_TYPES.items() if info.gravity == 4)
GRAVITY_3 = sorted(h for h, info in HARM_TYPES.items() if info.gravity == 3)


def _edges(thresholds: tuple[int, ...]) -> list[int]:
    return sorted({v for t in thresholds for v in (t - 1, t, t + 1)})


def _counts(edges: tuple[int, ...], top: int) -> st.SearchStrategy[int]:
    """Non-negative counts, with extra weight on the band edges, where off-by-ones live."""
    return st.one_of(st.sampled_from(_edges(edges)), st.integers(0, top), st.integers(0, 10**15))


views = _counts(REACH_THRESHOLDS, 20_000_000)
velocities = _counts(VELOCITY_THRESHOLDS, 2_000_000)
regions = _counts(REGION_THRESHOLDS, 30)

factors_st = st.builds(
    ImpactFactors,
    harm_type=st.sampled_from(HarmType),
    views=views,
    views_per_hour=velocities,
    minors_involved=st.booleans(),
    region_count=regions,
    regulatory_exposure=st.sampled_from(RegulatoryExposure),
    press_attention=st.sampled_from(PressAttention),
)


def expected_level(score: int) -> Severity:
    """Score to level as documented: >= 13 SEV0, >= 9 SEV1, >= 6 SEV2, else SEV3."""
    if score >= 13:
        return Severity.SEV0
    if score >= 9:
        return Severity.SEV1
    if score >= 6:
        return Severity.SEV2
    return Severity.SEV3


def band(value: int, thresholds: tuple[int, ...]) -> int:
    return sum(value >= t for t in thresholds)


def rank(factors: ImpactFactors) -> int:
    return assess(factors).severity.rank


# --- shape of the result --------------------------------------------------------------------


@settings(max_examples=300)
@given(factors_st)
def test_result_is_a_valid_severity_whose_score_is_the_sum_of_its_points(
    factors: ImpactFactors,
) -> None:
    result = assess(factors)
    assert isinstance(result, SeverityAssessment)
    assert result.severity in set(Severity)
    assert result.severity.rank in (0, 1, 2, 3)
    assert set(result.points) == POINT_NAMES
    assert result.score == sum(result.points.values())
    assert f"score {result.score} " in result.explanation


@settings(max_examples=300)
@given(factors_st)
def test_points_follow_the_documented_bands(factors: ImpactFactors) -> None:
    points = assess(factors).points
    assert points["harm_type_gravity"] == HARM_TYPES[factors.harm_type].gravity
    assert points["reach"] == band(factors.views, REACH_THRESHOLDS)
    assert points["velocity"] == band(factors.views_per_hour, VELOCITY_THRESHOLDS)
    assert points["minors_involved"] == (2 if factors.minors_involved else 0)
    assert points["regions"] == band(factors.region_count, REGION_THRESHOLDS)
    assert points["regulatory_exposure"] == REGULATORY_ORDER.index(factors.regulatory_exposure)
    assert points["press_attention"] == PRESS_ORDER.index(factors.press_attention)


@settings(max_examples=300)
@given(factors_st)
def test_level_is_the_score_level_unless_a_floor_raised_it(factors: ImpactFactors) -> None:
    result = assess(factors)
    by_score = expected_level(result.score)
    if result.floor is None:
        assert result.severity is by_score
        assert "floor" not in result.explanation
    else:
        # A floor is only reported when it actually made the result more severe.
        assert result.floor.rank < by_score.rank
        assert result.severity is result.floor
        assert "floor" in result.explanation
        assert f"raised to {result.floor.value}" in result.explanation
        assert f"-> {by_score.value}" in result.explanation


@settings(max_examples=100)
@given(factors_st)
def test_assess_is_deterministic(factors: ImpactFactors) -> None:
    first, second = assess(factors), assess(factors)
    assert first == second
    assert assess(dataclasses.replace(factors)) == first


@settings(max_examples=100)
@given(factors_st)
def test_string_values_give_the_same_result_as_enum_members(factors: ImpactFactors) -> None:
    as_strings = ImpactFactors(
        harm_type=factors.harm_type.value,  # type: ignore[arg-type]
        views=factors.views,
        views_per_hour=factors.views_per_hour,
        minors_involved=factors.minors_involved,
        region_count=factors.region_count,
        regulatory_exposure=factors.regulatory_exposure.value,  # type: ignore[arg-type]
        press_attention=factors.press_attention.value,  # type: ignore[arg-type]
    )
    assert assess(as_strings) == assess(factors)


# --- monotonicity ---------------------------------------------------------------------------


@st.composite
def single_factor_increase(draw: st.DrawFn) -> tuple[ImpactFactors, ImpactFactors, str]:
    """A base case and the same case with exactly one factor grown (or kept equal)."""
    base = draw(factors_st)
    name = draw(
        st.sampled_from(
            [
                "views",
                "views_per_hour",
                "minors_involved",
                "region_count",
                "regulatory_exposure",
                "press_attention",
            ]
        )
    )
    if name in ("views", "views_per_hour", "region_count"):
        # Small steps cross band edges from just below them; big steps jump several bands.
        step = draw(st.one_of(st.integers(0, 3), st.integers(0, 10**12)))
        grown = dataclasses.replace(base, **{name: getattr(base, name) + step})
    elif name == "minors_involved":
        grown = dataclasses.replace(base, minors_involved=True)
    else:
        order = REGULATORY_ORDER if name == "regulatory_exposure" else PRESS_ORDER
        start = order.index(getattr(base, name))
        grown = dataclasses.replace(base, **{name: draw(st.sampled_from(order[start:]))})
    return base, grown, name


@settings(max_examples=500)
@given(single_factor_increase())
def test_growing_any_single_factor_never_lowers_severity(
    case: tuple[ImpactFactors, ImpactFactors, str],
) -> None:
    base, grown, name = case
    before, after = assess(base), assess(grown)
    assert after.severity.rank <= before.severity.rank, (name, base, grown)
    assert after.score >= before.score, (name, base, grown)


@st.composite
def dominated_pair(draw: st.DrawFn) -> tuple[ImpactFactors, ImpactFactors]:
    """Two cases of the same harm type where the second is at least as bad in every factor."""
    low = draw(factors_st)
    high = ImpactFactors(
        harm_type=low.harm_type,
        views=low.views + draw(st.integers(0, 10**8)),
        views_per_hour=low.views_per_hour + draw(st.integers(0, 10**7)),
        minors_involved=low.minors_involved or draw(st.booleans()),
        region_count=low.region_count + draw(st.integers(0, 20)),
        regulatory_exposure=draw(
            st.sampled_from(REGULATORY_ORDER[REGULATORY_ORDER.index(low.regulatory_exposure) :])
        ),
        press_attention=draw(
            st.sampled_from(PRESS_ORDER[PRESS_ORDER.index(low.press_attention) :])
        ),
    )
    return low, high


@settings(max_examples=300)
@given(dominated_pair())
def test_worse_in_every_factor_is_never_less_severe(
    pair: tuple[ImpactFactors, ImpactFactors],
) -> None:
    low, high = pair
    assert rank(high) <= rank(low), (low, high)


def test_monotone_walk_through_every_band_of_every_factor() -> None:
    """Deterministic companion to the property: step each factor through all of its bands."""
    walks: dict[str, list[object]] = {
        "views": [0, 9_999, 10_000, 99_999, 100_000, 999_999, 1_000_000, 10_000_000, 10**12],
        "views_per_hour": [0, 999, 1_000, 10_000, 100_000, 1_000_000, 10**9],
        "minors_involved": [False, True],
        "region_count": [0, 1, 2, 4, 5, 14, 15, 250],
        "regulatory_exposure": list(REGULATORY_ORDER),
        "press_attention": list(PRESS_ORDER),
    }
    for harm_type in HarmType:
        base = ImpactFactors(harm_type)
        for name, values in walks.items():
            ranks = [rank(dataclasses.replace(base, **{name: v})) for v in values]
            assert ranks == sorted(ranks, reverse=True), (harm_type, name, ranks)
            scores = [assess(dataclasses.replace(base, **{name: v})).score for v in values]
            assert scores == sorted(scores), (harm_type, name, scores)
            assert scores[-1] > scores[0], (harm_type, name, "factor has no effect")


# --- floors ---------------------------------------------------------------------------------


def test_the_gravity_4_harm_types_are_terrorism_and_cse() -> None:
    assert set(GRAVITY_4) == {HarmType.VIOLENT_EXTREMISM, HarmType.CHILD_SEXUAL_EXPLOITATION}
    assert GRAVITY_3, "no gravity-3 harm type: the minors floor would be untested"


@settings(max_examples=200)
@given(factors_st, st.sampled_from(GRAVITY_4))
def test_gravity_4_harm_is_always_at_least_sev1(
    factors: ImpactFactors, harm_type: HarmType
) -> None:
    result = assess(dataclasses.replace(factors, harm_type=harm_type))
    assert result.severity.rank <= Severity.SEV1.rank


@settings(max_examples=200)
@given(factors_st, st.sampled_from(GRAVITY_3))
def test_gravity_3_harm_involving_minors_is_at_least_sev2(
    factors: ImpactFactors, harm_type: HarmType
) -> None:
    result = assess(dataclasses.replace(factors, harm_type=harm_type, minors_involved=True))
    assert result.severity.rank <= Severity.SEV2.rank


@pytest.mark.parametrize("harm_type", GRAVITY_4)
def test_single_gravity_4_item_with_no_reach_is_floored_to_sev1(harm_type: HarmType) -> None:
    result = assess(ImpactFactors(harm_type))
    assert result.score == 4
    assert result.severity is Severity.SEV1
    assert result.floor is Severity.SEV1
    assert "raised to SEV1 by the floor" in result.explanation
    assert "-> SEV3" in result.explanation


def test_gravity_3_floor_needs_minors() -> None:
    without = assess(ImpactFactors(HarmType.SUICIDE_SELF_HARM))
    assert without.severity is Severity.SEV3
    assert without.floor is None
    assert "floor" not in without.explanation
    with_minors = assess(ImpactFactors(HarmType.SUICIDE_SELF_HARM, minors_involved=True))
    assert with_minors.score == 5
    assert with_minors.severity is Severity.SEV2
    assert with_minors.floor is Severity.SEV2
    assert "raised to SEV2 by the floor" in with_minors.explanation


def test_gravity_2_harm_has_no_floor_even_with_minors() -> None:
    result = assess(ImpactFactors(HarmType.BULLYING_HARASSMENT, minors_involved=True))
    assert result.score == 4
    assert result.severity is Severity.SEV3
    assert result.floor is None


def test_floor_is_not_reported_when_the_score_already_exceeds_it() -> None:
    result = assess(
        ImpactFactors(
            HarmType.VIOLENT_EXTREMISM,
            views=2_000_000,
            views_per_hour=150_000,
            press_attention=PressAttention.MAJOR,
        )
    )
    assert result.severity is Severity.SEV0
    assert result.floor is None
    assert "floor" not in result.explanation


# --- invalid input --------------------------------------------------------------------------


@settings(max_examples=100)
@given(
    factors_st,
    st.sampled_from(["views", "views_per_hour", "region_count"]),
    st.integers(max_value=-1),
)
def test_negative_counts_raise_value_error(
    factors: ImpactFactors, name: str, negative: int
) -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        assess(dataclasses.replace(factors, **{name: negative}))


@pytest.mark.parametrize(
    ("field", "value"),
    [("harm_type", "spam"), ("regulatory_exposure", "maybe"), ("press_attention", "viral")],
)
def test_unknown_enum_values_raise_value_error(field: str, value: str) -> None:
    with pytest.raises(ValueError, match=value):
        assess(dataclasses.replace(ImpactFactors(HarmType.HATE_SPEECH), **{field: value}))


# --- worked examples ------------------------------------------------------------------------

EXAMPLES = [
    pytest.param(
        # A live-streamed attack, re-uploaded: crime scene footage spreading fast, a removal
        # order clock running (TCO regulation: one hour), and the press already reporting.
        ImpactFactors(
            HarmType.VIOLENT_EXTREMISM,
            views=2_000_000,
            views_per_hour=150_000,
            region_count=3,
            regulatory_exposure=RegulatoryExposure.DEADLINE,
            press_attention=PressAttention.COVERAGE,
        ),
        15,
        Severity.SEV0,
        id="live-streamed-attack-reuploads",
    ),
    pytest.param(
        # The docstring's example: attack re-uploads at 100k views/hour in five countries with
        # press inquiries. It is SEV0 once the copies have passed a million views ...
        ImpactFactors(
            HarmType.VIOLENT_EXTREMISM,
            views=1_200_000,
            views_per_hour=100_000,
            region_count=5,
            press_attention=PressAttention.INQUIRIES,
        ),
        13,
        Severity.SEV0,
        id="docstring-attack-example-past-1M-views",
    ),
    pytest.param(
        # ... and SEV1 in its first hours, at 100k-1M views.
        ImpactFactors(
            HarmType.VIOLENT_EXTREMISM,
            views=400_000,
            views_per_hour=100_000,
            region_count=5,
            press_attention=PressAttention.INQUIRIES,
        ),
        12,
        Severity.SEV1,
        id="docstring-attack-example-first-hours",
    ),
    pytest.param(
        # A regional pile-on against one creator: 50k views, one country, nothing else.
        ImpactFactors(HarmType.BULLYING_HARASSMENT, views=50_000),
        3,
        Severity.SEV3,
        id="regional-bullying-raid",
    ),
    pytest.param(
        # Disaster hoax going global: 5M views, 300k/h, 20 countries, regulator interest,
        # front-page coverage.
        ImpactFactors(
            HarmType.CRISIS_MISINFORMATION,
            views=5_000_000,
            views_per_hour=300_000,
            region_count=20,
            regulatory_exposure=RegulatoryExposure.POSSIBLE,
            press_attention=PressAttention.MAJOR,
        ),
        15,
        Severity.SEV0,
        id="global-crisis-hoax",
    ),
    pytest.param(
        # Coordinated hate campaign after an event: 500k views, 20k/h, six countries, press
        # asking questions.
        ImpactFactors(
            HarmType.HATE_SPEECH,
            views=500_000,
            views_per_hour=20_000,
            region_count=6,
            press_attention=PressAttention.INQUIRIES,
        ),
        9,
        Severity.SEV1,
        id="hate-campaign-multi-country",
    ),
    pytest.param(
        # A dangerous challenge spreading among teenagers in two countries.
        ImpactFactors(
            HarmType.DANGEROUS_CHALLENGES,
            views=30_000,
            views_per_hour=2_000,
            minors_involved=True,
            region_count=2,
        ),
        8,
        Severity.SEV2,
        id="dangerous-challenge-among-teens",
    ),
    pytest.param(
        # A viral animal-cruelty clip: 150k views, 5k/h, two countries.
        ImpactFactors(HarmType.ANIMAL_ABUSE, views=150_000, views_per_hour=5_000, region_count=2),
        6,
        Severity.SEV2,
        id="viral-animal-cruelty-clip",
    ),
    pytest.param(
        # Doxxing of a private person, barely seen.
        ImpactFactors(HarmType.PRIVACY_DOXXING, views=800),
        2,
        Severity.SEV3,
        id="low-reach-doxxing",
    ),
]


@pytest.mark.parametrize(("factors", "score", "severity"), EXAMPLES)
def test_worked_examples(factors: ImpactFactors, score: int, severity: Severity) -> None:
    result = assess(factors)
    assert (result.score, result.severity) == (score, severity), result.explanation


@pytest.mark.parametrize(
    ("views", "reach"),
    [
        (0, 0),
        (9_999, 0),
        (10_000, 1),
        (99_999, 1),
        (100_000, 2),
        (999_999, 2),
        (1_000_000, 3),
        (9_999_999, 3),
        (10_000_000, 4),
        (10**12, 4),
    ],
)
def test_reach_band_edges(views: int, reach: int) -> None:
    assert assess(ImpactFactors(HarmType.HATE_SPEECH, views=views)).points["reach"] == reach


@pytest.mark.parametrize(
    ("per_hour", "velocity"),
    [
        (0, 0),
        (999, 0),
        (1_000, 1),
        (9_999, 1),
        (10_000, 2),
        (100_000, 3),
        (999_999, 3),
        (1_000_000, 4),
        (10**10, 4),
    ],
)
def test_velocity_band_edges(per_hour: int, velocity: int) -> None:
    result = assess(ImpactFactors(HarmType.HATE_SPEECH, views_per_hour=per_hour))
    assert result.points["velocity"] == velocity


@pytest.mark.parametrize(
    ("count", "points"), [(0, 0), (1, 0), (2, 1), (4, 1), (5, 2), (14, 2), (15, 3), (200, 3)]
)
def test_region_band_edges(count: int, points: int) -> None:
    result = assess(ImpactFactors(HarmType.HATE_SPEECH, region_count=count))
    assert result.points["regions"] == points


@pytest.mark.parametrize(
    ("region_count", "score", "severity"),
    [(15, 13, Severity.SEV0), (14, 12, Severity.SEV1)],
)
def test_sev0_threshold_is_exactly_13(region_count: int, score: int, severity: Severity) -> None:
    # Gravity 2 (no floor) + reach 4 + velocity 4 + regions 3 or 2.
    result = assess(
        ImpactFactors(
            HarmType.HATE_SPEECH,
            views=10_000_000,
            views_per_hour=1_000_000,
            region_count=region_count,
        )
    )
    assert (result.score, result.severity) == (score, severity)


@pytest.mark.parametrize(
    ("press", "score", "severity"),
    [
        (PressAttention.INQUIRIES, 9, Severity.SEV1),
        (PressAttention.NONE, 8, Severity.SEV2),
    ],
)
def test_sev1_threshold_is_exactly_9(press: PressAttention, score: int, severity: Severity) -> None:
    # Gravity 2 + reach 2 + velocity 2 + regions 2 (+ press 1).
    result = assess(
        ImpactFactors(
            HarmType.HATE_SPEECH,
            views=100_000,
            views_per_hour=10_000,
            region_count=5,
            press_attention=press,
        )
    )
    assert (result.score, result.severity) == (score, severity)


@pytest.mark.parametrize(
    ("views", "score", "severity"), [(10_000, 6, Severity.SEV2), (9_999, 5, Severity.SEV3)]
)
def test_sev2_threshold_is_exactly_6(views: int, score: int, severity: Severity) -> None:
    # Gravity 2 + reach 1 or 0 + velocity 1 + regions 1 + regulatory 1.
    result = assess(
        ImpactFactors(
            HarmType.ANIMAL_ABUSE,
            views=views,
            views_per_hour=1_000,
            region_count=2,
            regulatory_exposure=RegulatoryExposure.POSSIBLE,
        )
    )
    assert (result.score, result.severity) == (score, severity)


def test_explanation_lists_the_contributing_points() -> None:
    result = assess(ImpactFactors(HarmType.BULLYING_HARASSMENT, views=50_000))
    assert result.explanation == "score 3 (harm_type_gravity +2, reach +1) -> SEV3"
