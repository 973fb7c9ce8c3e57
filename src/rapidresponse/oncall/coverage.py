"""Who is on call: layered schedules, working-hour windows, days off, backups and overrides.

A schedule stacks layers. Each layer is a rotation with, optionally, restriction windows
(e.g. Monday-Friday 08:00-16:00 Europe/Dublin) outside which it does not cover; a higher
layer (greater ``position``) overrides lower ones wherever it covers. Follow-the-sun is three
layers (Austin, Dublin, Singapore) each covering its working hours, over a 24/7 base layer
that catches gaps and the hour the clocks change.

A layer can say it does not cover its country's public holidays or weekends. On such a day
the layer's designated ``backup`` layer covers the hours the layer would have covered (if the
backup covers them), else the next lower layer does, exactly as if the layer were absent.
A ``backup_only`` layer covers only when a layer names it as its backup.

Explicit overrides ("Bea covers from 14:00 to 18:00") beat every layer; when overrides
overlap, the most recently created one wins.

Everything here is pure: plain values in, plain values out. :func:`on_call` answers for one
instant; :func:`final_schedule` walks a window by visiting every instant at which any input
can change (handoffs, window edges, local midnights, override edges) and asking
:func:`on_call` about each piece, so the two can never disagree.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum

from rapidresponse.oncall import days_off
from rapidresponse.oncall.rotation import Rotation
from rapidresponse.oncall.zones import instant, local_day, midnight

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Window:
    """Local hours a layer covers on the given weekdays (0 = Monday).

    ``end`` at or before ``start`` runs past midnight into the next day (22:00-06:00);
    ``start == end`` is a full 24 hours from ``start``. ``days`` are the days a window starts.
    """

    days: frozenset[int]
    start: time
    end: time

    def spans(self) -> str:
        return f"{describe_days(self.days)} {self.start:%H:%M}-{self.end:%H:%M}"


def describe_days(days: frozenset[int]) -> str:
    """A weekday set as people write it: daily, mon-fri, sat,sun."""
    ordered = sorted(days)
    if len(ordered) == 7:
        return "daily"
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{WEEKDAYS[ordered[0]]}-{WEEKDAYS[ordered[-1]]}"
    return ",".join(WEEKDAYS[d] for d in ordered)


@dataclass(frozen=True)
class Layer:
    name: str
    position: int
    rotation: Rotation
    windows: tuple[Window, ...] = ()
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    covers_holidays: bool = True
    covers_weekends: bool = True
    backup: str | None = None
    backup_only: bool = False

    @property
    def tz(self) -> str:
        return self.rotation.tz


@dataclass(frozen=True)
class Override:
    id: int
    person: str
    start: datetime
    end: datetime
    reason: str = ""


@dataclass(frozen=True)
class Schedule:
    layers: tuple[Layer, ...]
    overrides: tuple[Override, ...] = ()

    def __post_init__(self) -> None:
        names = [layer.name for layer in self.layers]
        if len(set(names)) != len(names):
            raise ValueError("layer names must be unique within a schedule")
        for layer in self.layers:
            if layer.backup is not None and layer.backup not in names:
                raise ValueError(f"layer {layer.name!r} names unknown backup {layer.backup!r}")
            if layer.backup == layer.name:
                raise ValueError(f"layer {layer.name!r} cannot be its own backup")


class Source(StrEnum):
    OVERRIDE = "override"
    LAYER = "layer"
    BACKUP = "backup"
    NONE = "none"


@dataclass(frozen=True)
class OnCall:
    person: str | None
    layer: str | None
    source: Source
    reason: str


@dataclass(frozen=True)
class Segment:
    start: datetime
    end: datetime
    person: str | None
    layer: str | None
    source: Source
    reason: str

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class Handoff:
    at: datetime
    from_person: str | None
    to_person: str | None
    from_layer: str | None
    to_layer: str | None
    reason: str


NOBODY = OnCall(None, None, Source.NONE, "no layer covers this time")


# ---------------------------------------------------------------- one layer at one instant


@dataclass(frozen=True)
class _State:
    """What a layer says about an instant: covers with ``person``, is off, or does not apply."""

    person: str | None = None
    day_off: str | None = None  # why the layer would cover but does not today
    window: str = field(default="")


def _window_contains(layer: Layer, window: Window, at: datetime) -> bool:
    day = local_day(at, layer.tz)
    for start_day in (day, day - timedelta(days=1)):
        if start_day.weekday() not in window.days:
            continue
        opens = instant(start_day, window.start, layer.tz)
        end_day = start_day if window.end > window.start else start_day + timedelta(days=1)
        closes = instant(end_day, window.end, layer.tz)
        if opens <= at < closes:
            return True
    return False


def _layer_state(layer: Layer, at: datetime) -> _State | None:
    """None when the layer does not cover ``at`` at all (not started, outside its hours)."""
    duty = layer.rotation.on_duty(at)
    if duty is None:
        return None
    window = ""
    if layer.windows:
        inside = [w for w in layer.windows if _window_contains(layer, w, at)]
        if not inside:
            return None
        window = inside[0].spans()
    day = local_day(at, layer.tz)
    if not layer.covers_holidays and layer.holiday_country:
        name = days_off.public_holiday(layer.holiday_country, layer.holiday_subdivision, day)
        if name:
            place = layer.holiday_country + (
                f"-{layer.holiday_subdivision}" if layer.holiday_subdivision else ""
            )
            return _State(day_off=f"public holiday in {place}: {name}", window=window)
    if not layer.covers_weekends and days_off.is_weekend(layer.holiday_country, day):
        return _State(day_off=f"weekend ({day:%A}) in {layer.name}", window=window)
    return _State(person=duty[0], window=window)


def _layer_reason(layer: Layer, state: _State) -> str:
    hours = f", {state.window} {layer.tz}" if state.window else ""
    return f"layer {layer.name} rotation{hours}"


# ---------------------------------------------------------------- the schedule at one instant


def _ordered(schedule: Schedule) -> list[Layer]:
    # Input order never matters: position decides, the name breaks (invalid) ties.
    return sorted(
        (layer for layer in schedule.layers if not layer.backup_only),
        key=lambda layer: (-layer.position, layer.name),
    )


def _override_at(schedule: Schedule, at: datetime) -> Override | None:
    active = [o for o in schedule.overrides if o.start <= at < o.end]
    return max(active, key=lambda o: o.id) if active else None


def on_call(schedule: Schedule, at: datetime) -> OnCall:
    """Who is on call at ``at``, from which layer, and why."""
    override = _override_at(schedule, at)
    if override is not None:
        reason = f"override #{override.id}" + (f": {override.reason}" if override.reason else "")
        return OnCall(override.person, None, Source.OVERRIDE, reason)
    by_name = {layer.name: layer for layer in schedule.layers}
    for layer in _ordered(schedule):
        state = _layer_state(layer, at)
        if state is None:
            continue
        if state.person is not None:
            return OnCall(state.person, layer.name, Source.LAYER, _layer_reason(layer, state))
        # The layer would cover but is off today: follow its chain of backups.
        why = [f"{layer.name} off ({state.day_off})"]
        seen = {layer.name}
        backup_name = layer.backup
        while backup_name is not None and backup_name not in seen:
            seen.add(backup_name)
            backup = by_name[backup_name]
            backup_state = _layer_state(backup, at)
            if backup_state is None:
                break
            if backup_state.person is not None:
                return OnCall(
                    backup_state.person,
                    backup.name,
                    Source.BACKUP,
                    f"backup for {'; '.join(why)}",
                )
            why.append(f"{backup.name} off ({backup_state.day_off})")
            backup_name = backup.backup
        # No backup covers: fall through to the next lower layer.
    return NOBODY


# ---------------------------------------------------------------- a window


def _change_points(schedule: Schedule, start: datetime, end: datetime) -> list[datetime]:
    points = {start, end}
    for override in schedule.overrides:
        points.update(t for t in (override.start, override.end) if start < t < end)
    for layer in schedule.layers:
        points.update(layer.rotation.handoffs(start, end))
        first = local_day(start, layer.tz) - timedelta(days=1)
        last = local_day(end, layer.tz) + timedelta(days=1)
        day = first
        while day <= last:
            points.add(midnight(day, layer.tz))
            for window in layer.windows:
                points.add(instant(day, window.start, layer.tz))
                points.add(instant(day, window.end, layer.tz))
            day += timedelta(days=1)
    return sorted(t for t in points if start <= t <= end)


def final_schedule(schedule: Schedule, start: datetime, end: datetime) -> list[Segment]:
    """Consecutive segments tiling [start, end): who covers each stretch, and why.

    Stretches nobody covers are segments too (``person`` None), so gaps are visible.
    """
    if end <= start:
        return []
    points = _change_points(schedule, start, end)
    segments: list[Segment] = []
    for a, b in itertools.pairwise(points):
        who = on_call(schedule, a)
        last = segments[-1] if segments else None
        if last is not None and (last.person, last.layer, last.source, last.reason) == (
            who.person,
            who.layer,
            who.source,
            who.reason,
        ):
            segments[-1] = Segment(last.start, b, who.person, who.layer, who.source, who.reason)
        else:
            segments.append(Segment(a, b, who.person, who.layer, who.source, who.reason))
    return segments


def handoffs(schedule: Schedule, start: datetime, end: datetime) -> list[Handoff]:
    """Each instant in (start, end) at which the pager changes hands."""
    result = []
    segments = final_schedule(schedule, start, end)
    for previous, current in itertools.pairwise(segments):
        if previous.person != current.person:
            result.append(
                Handoff(
                    at=current.start,
                    from_person=previous.person,
                    to_person=current.person,
                    from_layer=previous.layer,
                    to_layer=current.layer,
                    reason=current.reason,
                )
            )
    return result


def gaps(schedule: Schedule, start: datetime, end: datetime) -> list[Segment]:
    """The stretches of [start, end) nobody covers."""
    return [s for s in final_schedule(schedule, start, end) if s.person is None]


def shifts(schedule: Schedule, person: str, start: datetime, end: datetime) -> list[Segment]:
    """``person``'s stretches on call within [start, end), merged across layers and reasons."""
    merged: list[Segment] = []
    for segment in final_schedule(schedule, start, end):
        if segment.person != person:
            continue
        if merged and merged[-1].end == segment.start and merged[-1].layer == segment.layer:
            last = merged[-1]
            merged[-1] = Segment(
                last.start, segment.end, person, last.layer, last.source, last.reason
            )
        else:
            merged.append(segment)
    return merged
