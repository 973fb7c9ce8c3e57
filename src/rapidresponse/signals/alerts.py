"""Turning per-key anomalies into alerts: one alert per emerging event, not one per key.

A burst of attack re-uploads lights up many series at once: the harm type in DE, in AT, in
German, two hashtags, a sound and a media cluster. A responder wants one alert saying "this
is happening", with every series as evidence. Anomalous keys are grouped when they are
*linked* — the same events carry both (a hashtag and the media cluster it is posted with),
or they are two cuts of the same harm type (violent_extremism|DE and violent_extremism|de)
— and close in time. An anomaly whose key is already in an open alert, or linked to one,
joins that alert instead of opening another (deduplication); an acknowledged alert keeps
absorbing its event's anomalies without notifying anyone again (suppression).

Pure: plain values in, plain values out; the service persists alerts and links.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

# Key families the counters keep; the first two carry a harm type in their key.
HARM_REGION, HARM_LANGUAGE = "harm_region", "harm_language"
HARM_FAMILIES = frozenset({HARM_REGION, HARM_LANGUAGE})


@dataclass(frozen=True)
class Anomaly:
    """One closed window of one series that a detector scored above the alert threshold."""

    family: str
    key: str
    window_start: float
    count: float
    expected: float
    score: float

    @property
    def series(self) -> str:
        return f"{self.family}:{self.key}"

    @property
    def harm_type(self) -> str | None:
        if self.family in HARM_FAMILIES:
            return self.key.split("|", 1)[0]
        return None


@dataclass
class OpenAlert:
    """What grouping needs to know of an alert that is still open or acknowledged."""

    alert_id: int
    series: set[str]
    harm_types: set[str]
    last_seen: float
    acknowledged: bool = False


@dataclass
class Assignment:
    """Anomalies grouped into an existing alert (``alert_id``) or a new one (None)."""

    alert_id: int | None
    anomalies: list[Anomaly] = field(default_factory=list)
    notify: bool = True


class _Groups:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, node: str) -> str:
        self.parent.setdefault(node, node)
        while self.parent[node] != node:
            self.parent[node] = self.parent[self.parent[node]]
            node = self.parent[node]
        return node

    def union(self, a: str, b: str) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[max(root_a, root_b)] = min(root_a, root_b)


def group(
    anomalies: Sequence[Anomaly],
    open_alerts: Sequence[OpenAlert],
    links: Mapping[str, Iterable[str]],
    *,
    gap_seconds: float = 3600.0,
) -> list[Assignment]:
    """Assign each anomaly to an open alert or to a new alert shared with linked anomalies.

    ``links`` maps a series ("hashtag:#x") to the series that co-occurred with it in recent
    events. Two anomalies belong together when they are linked or share a harm type and lie
    within ``gap_seconds`` of each other; an anomaly joins an open alert on the same terms
    against the alert's series and last activity. Deterministic: the same input gives the
    same grouping.
    """
    groups = _Groups()
    alert_node = {a.alert_id: f"alert:{a.alert_id}" for a in open_alerts}
    ordered = sorted(anomalies, key=lambda a: (a.window_start, a.series))
    for anomaly in ordered:
        groups.find(anomaly.series)
        linked = set(links.get(anomaly.series, ()))
        for alert in open_alerts:
            if anomaly.window_start - alert.last_seen > gap_seconds:
                continue
            same_event = anomaly.series in alert.series or bool(linked & alert.series)
            same_harm = anomaly.harm_type is not None and anomaly.harm_type in alert.harm_types
            if same_event or same_harm:
                groups.union(anomaly.series, alert_node[alert.alert_id])
    for i, first in enumerate(ordered):
        linked = set(links.get(first.series, ()))
        for second in ordered[i + 1 :]:
            if second.window_start - first.window_start > gap_seconds:
                break
            same_harm = first.harm_type is not None and first.harm_type == second.harm_type
            if second.series in linked or first.series in links.get(second.series, ()) or same_harm:
                groups.union(first.series, second.series)
    by_root: dict[str, list[Anomaly]] = {}
    for anomaly in ordered:
        by_root.setdefault(groups.find(anomaly.series), []).append(anomaly)
    node_alert = {node: alert for alert in open_alerts for node in [alert_node[alert.alert_id]]}
    assignments: list[Assignment] = []
    for root, members in sorted(by_root.items(), key=lambda item: item[1][0].window_start):
        targets = sorted(
            (alert for node, alert in node_alert.items() if groups.find(node) == root),
            key=lambda a: a.alert_id,
        )
        if targets:
            # Linked to several open alerts: the oldest absorbs the anomalies (the service
            # does not merge alerts on its own; people may have acted on each).
            target = targets[0]
            new_series = {m.series for m in members} - target.series
            assignments.append(
                Assignment(
                    target.alert_id, members, notify=bool(new_series) and not target.acknowledged
                )
            )
        else:
            assignments.append(Assignment(None, members))
    return assignments


def dominant_harm_type(anomalies: Iterable[Anomaly]) -> str | None:
    """The harm type carrying the most excess volume, for pre-filling an incident."""
    excess: dict[str, float] = {}
    for anomaly in anomalies:
        if anomaly.harm_type is not None:
            excess[anomaly.harm_type] = excess.get(anomaly.harm_type, 0.0) + max(
                anomaly.count - anomaly.expected, 0.0
            )
    return max(sorted(excess), key=lambda h: excess[h]) if excess else None


def regions_of(anomalies: Iterable[Anomaly]) -> list[str]:
    return sorted(
        {a.key.split("|", 1)[1] for a in anomalies if a.family == HARM_REGION and "|" in a.key}
    )


def languages_of(anomalies: Iterable[Anomaly]) -> list[str]:
    return sorted(
        {a.key.split("|", 1)[1] for a in anomalies if a.family == HARM_LANGUAGE and "|" in a.key}
    )
