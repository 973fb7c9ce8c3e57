"""Grouping anomalies into alerts: one per emerging event, deduplicated, suppressed when acked."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rapidresponse.signals.alerts import (
    Anomaly,
    OpenAlert,
    dominant_harm_type,
    group,
    languages_of,
    regions_of,
)

T = 1_764_064_800.0  # 2025-11-25T10:00Z


def anomaly(
    family: str, key: str, minute: int = 0, count: float = 50, expected: float = 5
) -> Anomaly:
    return Anomaly(family, key, T + 60 * minute, count, expected, 0.99)


def test_one_event_lighting_up_many_series_is_one_alert() -> None:
    found = [
        anomaly("harm_region", "violent_extremism|DE"),
        anomaly("harm_region", "violent_extremism|AT", 2),
        anomaly("harm_language", "violent_extremism|de", 3),
        anomaly("hashtag", "#attackvideo", 4),
        anomaly("media_cluster", "cluster-7f3a", 5),
        # A different event at the same time: a challenge in BR.
        anomaly("harm_region", "dangerous_challenges|BR", 1),
        anomaly("hashtag", "#blackout", 2),
    ]
    links = {
        "hashtag:#attackvideo": ["media_cluster:cluster-7f3a", "harm_region:violent_extremism|DE"],
        "hashtag:#blackout": ["harm_region:dangerous_challenges|BR"],
    }
    assignments = group(found, [], links)
    assert all(a.alert_id is None and a.notify for a in assignments)
    series = sorted(sorted(m.series for m in a.anomalies) for a in assignments)
    assert series == [
        [
            "harm_language:violent_extremism|de",
            "harm_region:violent_extremism|AT",
            "harm_region:violent_extremism|DE",
            "hashtag:#attackvideo",
            "media_cluster:cluster-7f3a",
        ],
        ["harm_region:dangerous_challenges|BR", "hashtag:#blackout"],
    ]
    attack = next(a.anomalies for a in assignments if len(a.anomalies) == 5)
    assert dominant_harm_type(attack) == "violent_extremism"
    assert regions_of(attack) == ["AT", "DE"]
    assert languages_of(attack) == ["de"]


def test_unlinked_keys_far_apart_stay_apart() -> None:
    found = [anomaly("hashtag", "#a"), anomaly("hashtag", "#b", 200)]
    assert len(group(found, [], {"hashtag:#a": ["hashtag:#b"]}, gap_seconds=3600)) == 2
    assert len(group(found, [], {}, gap_seconds=10**6)) == 2


def test_anomalies_of_an_open_alert_join_it_and_acknowledged_ones_do_not_notify() -> None:
    open_alert = OpenAlert(7, {"hashtag:#attackvideo"}, {"violent_extremism"}, T)
    again = [anomaly("hashtag", "#attackvideo", 10)]
    (same,) = group(again, [open_alert], {})
    assert same.alert_id == 7
    assert not same.notify  # nothing new: deduplicated
    spread = [anomaly("harm_region", "violent_extremism|FR", 10)]
    (grown,) = group(spread, [open_alert], {})
    assert grown.alert_id == 7
    assert grown.notify  # a new region is news
    open_alert.acknowledged = True
    (quiet,) = group(spread, [open_alert], {})
    assert quiet.alert_id == 7
    assert not quiet.notify  # suppressed while acknowledged
    stale = [anomaly("harm_region", "violent_extremism|FR", 24 * 60)]
    (fresh,) = group(stale, [open_alert], {})
    assert fresh.alert_id is None


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["#a", "#b", "#c", "#d"]), st.integers(min_value=0, max_value=300)
        ),
        min_size=1,
        max_size=30,
    )
)
def test_every_anomaly_is_assigned_exactly_once_and_grouping_is_deterministic(
    raw: list[tuple[str, int]],
) -> None:
    found = [anomaly("hashtag", key, minute) for key, minute in raw]
    links = {"hashtag:#a": ["hashtag:#b"]}
    first = group(found, [], links)
    assert sorted(id(m) for a in first for m in a.anomalies) == sorted(id(m) for m in found)
    again = group(list(reversed(found)), [], links)
    assert [sorted(m.series for m in a.anomalies) for a in first] == [
        sorted(m.series for m in a.anomalies) for a in again
    ]
