"""Who is on call: the pure coverage functions, on a follow-the-sun schedule and by property."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rapidresponse.oncall import coverage
from rapidresponse.oncall.coverage import Layer, Override, Schedule, Source, Window
from rapidresponse.oncall.rotation import Rotation, RotationUnit
from tests.oncall import follow_the_sun as fts
from tests.oncall.follow_the_sun import utc


def day_plan(schedule: Schedule, day: date) -> list[tuple[int, int, str | None, str | None]]:
    """(start hour, end hour, person, layer) of each stretch of a UTC day."""
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return [
        (
            int((s.start - start).total_seconds() // 3600),
            int((s.end - start).total_seconds() // 3600),
            s.person,
            s.layer,
        )
        for s in coverage.final_schedule(schedule, start, start + timedelta(days=1))
    ]


# ---------------------------------------------------------------- follow the sun


def test_three_regions_tile_the_utc_day_in_northern_winter():
    assert day_plan(fts.schedule(), date(2026, 3, 3)) == [
        (0, 8, "sid", "singapore"),
        (8, 16, "dan", "dublin"),
        (16, 24, "abe", "austin"),
    ]


def test_us_clock_change_moves_austin_an_hour_earlier_and_the_base_layer_fills_the_gap():
    # 2026-03-08 02:00 in Chicago becomes 03:00 CDT (UTC-5); Dublin is still on GMT.
    assert day_plan(fts.schedule(), date(2026, 3, 9)) == [
        (0, 8, "sid", "singapore"),
        (8, 16, "dan", "dublin"),  # Austin starts at 15:00 UTC now, but Dublin ranks higher
        (16, 23, "abe", "austin"),
        (23, 24, "hal", "base"),  # Austin stops at 18:00 CDT = 23:00 UTC
    ]


def test_day_rotations_hand_off_at_the_same_local_time_across_the_clock_change():
    austin = fts.layers()[1].rotation
    assert austin.handoffs(utc(2026, 3, 7), utc(2026, 3, 10)) == [
        utc(2026, 3, 7, 15),  # 09:00 CST
        utc(2026, 3, 8, 14),  # 09:00 CDT: the shift spanning the change was 23 hours
        utc(2026, 3, 9, 14),
    ]
    dublin = fts.layers()[2].rotation
    assert dublin.handoffs(utc(2026, 3, 28), utc(2026, 3, 31)) == [
        utc(2026, 3, 28, 8),  # 08:00 GMT
        utc(2026, 3, 29, 7),  # 08:00 IST (Irish summer time from 01:00 UTC that day)
        utc(2026, 3, 30, 7),
    ]


def test_eu_clock_change_lets_singapore_keep_the_hour_dublin_now_overlaps():
    assert day_plan(fts.schedule(), date(2026, 3, 30)) == [
        (0, 8, "sam", "singapore"),
        (8, 15, "dee", "dublin"),  # 09:00-16:00 IST; its 08:00 hour is Singapore's
        (15, 23, "ann", "austin"),
        (23, 24, "gail", "base"),
    ]


def test_irish_public_holiday_is_covered_by_dublins_backup():
    plan = day_plan(fts.schedule(), date(2026, 3, 17))  # St Patrick's Day
    assert plan == [
        (0, 8, "sid", "singapore"),
        (8, 16, "bea", "emea-backup"),
        (16, 23, "abe", "austin"),
        (23, 24, "gail", "base"),  # the weekly base rotation is in its third week
    ]
    who = coverage.on_call(fts.schedule(), utc(2026, 3, 17, 9, 30))
    assert who.source is Source.BACKUP
    assert "public holiday in IE: Saint Patrick's Day" in who.reason
    # The days around it are ordinary Dublin days.
    assert coverage.on_call(fts.schedule(), utc(2026, 3, 16, 9)).person == "dee"
    assert coverage.on_call(fts.schedule(), utc(2026, 3, 18, 9)).person == "dee"


def test_christmas_and_st_stephens_day_are_both_irish_holidays():
    for day in (date(2026, 12, 25), date(2026, 12, 26)):
        who = coverage.on_call(fts.schedule(), datetime.combine(day, time(11), tzinfo=UTC))
        assert (who.person, who.layer) == ("bea", "emea-backup"), day


def test_without_a_backup_the_next_lower_layer_covers_a_holiday():
    layers = tuple(
        replace(layer, backup=None) if layer.name == "dublin" else layer for layer in fts.layers()
    )
    assert day_plan(Schedule(layers), date(2026, 3, 17)) == [
        (0, 8, "sid", "singapore"),
        (8, 15, "gail", "base"),  # Austin's hours have not begun: the base layer covers
        (15, 23, "abe", "austin"),  # 10:00 CDT: Austin is the next layer below Dublin
        (23, 24, "gail", "base"),
    ]


def test_a_layer_that_does_not_cover_weekends_hands_them_to_its_backup():
    layers = tuple(
        replace(layer, covers_weekends=False) if layer.name == "dublin" else layer
        for layer in fts.layers()
    )
    saturday = coverage.on_call(Schedule(layers), utc(2026, 3, 7, 10))
    assert (saturday.person, saturday.source) == ("bea", Source.BACKUP)
    assert "weekend (Saturday)" in saturday.reason
    assert coverage.on_call(Schedule(layers), utc(2026, 3, 6, 10)).person == "dee"


def test_weekend_follows_the_country_calendar():
    # The UAE keeps a Saturday-Sunday weekend since 2022; the library knows each country's.
    rotation = Rotation(("ali",), RotationUnit.WEEKS, 1, time(9), date(2026, 1, 5), "Asia/Dubai")
    layer = Layer("dubai", 1, rotation, holiday_country="AE", covers_weekends=False)
    schedule = Schedule((layer,))
    assert coverage.on_call(schedule, utc(2026, 3, 6, 10)).person == "ali"  # Friday
    assert coverage.on_call(schedule, utc(2026, 3, 7, 10)).person is None  # Saturday


def test_overrides_beat_every_layer_and_the_newest_overlapping_one_wins():
    schedule = Schedule(
        fts.layers(),
        (
            Override(1, "ovo", utc(2026, 3, 17, 10), utc(2026, 3, 17, 12), "swap with bea"),
            Override(2, "newer", utc(2026, 3, 17, 11), utc(2026, 3, 17, 11, 30)),
        ),
    )
    segments = coverage.final_schedule(schedule, utc(2026, 3, 17, 8), utc(2026, 3, 17, 13))
    assert [(s.start.hour, s.start.minute, s.person, s.source) for s in segments] == [
        (8, 0, "bea", Source.BACKUP),
        (10, 0, "ovo", Source.OVERRIDE),
        (11, 0, "newer", Source.OVERRIDE),
        (11, 30, "ovo", Source.OVERRIDE),
        (12, 0, "bea", Source.BACKUP),
    ]
    assert segments[1].reason == "override #1: swap with bea"


def test_handoffs_are_listed_at_the_right_utc_instants():
    result = coverage.handoffs(fts.schedule(), utc(2026, 3, 17), utc(2026, 3, 18))
    assert [(h.at, h.from_person, h.to_person) for h in result] == [
        (utc(2026, 3, 17, 8), "sid", "bea"),
        (utc(2026, 3, 17, 16), "bea", "abe"),
        (utc(2026, 3, 17, 23), "abe", "gail"),
    ]
    # Dublin hands off at 08:00 GMT before the EU change and 08:00 IST (07:00 UTC) after,
    # where Singapore still holds the pager, so that hour is not a handoff at all.
    after = coverage.handoffs(fts.schedule(), utc(2026, 3, 30), utc(2026, 3, 31))
    assert [h.at.hour for h in after] == [8, 15, 23]


def test_before_a_rotation_starts_nobody_is_on_call_and_the_gap_is_a_segment():
    rotation = Rotation(("x",), RotationUnit.DAYS, 1, time(9), date(2026, 3, 10), "UTC")
    schedule = Schedule((Layer("only", 0, rotation),))
    segments = coverage.final_schedule(schedule, utc(2026, 3, 10), utc(2026, 3, 11))
    assert [(s.start.hour, s.person, s.source) for s in segments] == [
        (0, None, Source.NONE),
        (9, "x", Source.LAYER),
    ]
    assert [g.duration for g in coverage.gaps(schedule, utc(2026, 3, 10), utc(2026, 3, 11))] == [
        timedelta(hours=9)
    ]


def test_window_past_midnight_and_weekday_restrictions():
    rotation = Rotation(("owl",), RotationUnit.WEEKS, 1, time(0), date(2026, 3, 2), "UTC")
    night = Layer("night", 1, rotation, (Window(frozenset({4}), time(22), time(6)),))  # Fri
    schedule = Schedule((night,))
    assert coverage.on_call(schedule, utc(2026, 3, 6, 23)).person == "owl"  # Friday night
    assert coverage.on_call(schedule, utc(2026, 3, 7, 5, 59)).person == "owl"  # Sat early
    assert coverage.on_call(schedule, utc(2026, 3, 7, 6)).person is None
    assert coverage.on_call(schedule, utc(2026, 3, 5, 23)).person is None  # Thursday


def test_a_schedule_refuses_unknown_or_self_backups():
    rotation = Rotation(("x",), RotationUnit.DAYS, 1, time(9), date(2026, 3, 2), "UTC")
    with pytest.raises(ValueError, match="unknown backup"):
        Schedule((Layer("a", 0, rotation, backup="nope"),))
    with pytest.raises(ValueError, match="its own backup"):
        Schedule((Layer("a", 0, rotation, backup="a"),))


# ---------------------------------------------------------------- properties

ZONES = (
    "UTC",
    "America/Chicago",
    "Europe/Dublin",
    "Asia/Singapore",
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "America/St_Johns",  # a -03:30 offset with DST
    "Asia/Kolkata",
    "Pacific/Chatham",  # +12:45 / +13:45
)
PEOPLE = ("ann", "bo", "cy", "di", "ed", "flo")


@st.composite
def windows(draw: st.DrawFn) -> Window:
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    start = time(draw(st.integers(0, 23)), draw(st.sampled_from((0, 30))))
    end = time(draw(st.integers(0, 23)), draw(st.sampled_from((0, 30))))
    return Window(days, start, end)


@st.composite
def rotations(draw: st.DrawFn, start: date) -> Rotation:
    unit = draw(st.sampled_from(list(RotationUnit)))
    length = draw(st.integers(1, 36 if unit is RotationUnit.HOURS else 3))
    return Rotation(
        participants=tuple(draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=4))),
        unit=unit,
        length=length,
        handoff=time(draw(st.integers(0, 23)), draw(st.sampled_from((0, 15, 30, 45)))),
        start=start,
        tz=draw(st.sampled_from(ZONES)),
    )


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    """A 24/7 base layer (so coverage is complete) under up to four restricted layers."""
    base = Layer("base", 0, draw(rotations(date(2025, 12, 1))))
    count = draw(st.integers(0, 4))
    positions = draw(st.lists(st.integers(1, 50), min_size=count, max_size=count, unique=True))
    names = [f"layer{i}" for i in range(count)]
    layers = [base]
    for name, position in zip(names, positions, strict=True):
        off_days = draw(st.booleans())
        layers.append(
            Layer(
                name,
                position,
                draw(rotations(date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 60))))),
                tuple(draw(st.lists(windows(), max_size=2))),
                holiday_country=draw(st.sampled_from(("IE", "US", "SG", "GB"))),
                covers_holidays=not off_days or draw(st.booleans()),
                covers_weekends=not off_days or draw(st.booleans()),
                backup=draw(st.sampled_from([None, "base", *names])),
                backup_only=draw(st.booleans()) if count > 1 else False,
            )
        )
    layers = [
        replace(layer, backup=None) if layer.backup == layer.name else layer for layer in layers
    ]
    return Schedule(tuple(layers))


WINDOW_START = datetime(2026, 1, 1, tzinfo=UTC)


@st.composite
def spans(draw: st.DrawFn) -> tuple[datetime, datetime]:
    start = WINDOW_START + timedelta(minutes=15 * draw(st.integers(0, 4 * 24 * 360)))
    return start, start + timedelta(minutes=15 * draw(st.integers(1, 4 * 24 * 4)))


@st.composite
def overrides(draw: st.DrawFn, start: datetime, end: datetime) -> tuple[Override, ...]:
    found = []
    total = int((end - start).total_seconds() // 60)
    for index in range(draw(st.integers(0, 3))):
        a = draw(st.integers(0, total))
        b = draw(st.integers(a + 1, total + 120))
        found.append(
            Override(
                index + 1,
                f"cover{draw(st.integers(1, 3))}",
                start + timedelta(minutes=a),
                start + timedelta(minutes=b),
            )
        )
    return tuple(found)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Schedule, datetime, datetime, list[datetime]]:
    schedule = draw(schedules())
    start, end = draw(spans())
    schedule = Schedule(schedule.layers, draw(overrides(start, end)))
    seconds = int((end - start).total_seconds())
    probes = [start + timedelta(seconds=draw(st.integers(0, seconds - 1))) for _ in range(12)]
    return schedule, start, end, probes


PROPERTY = settings(max_examples=60, deadline=None)


@PROPERTY
@given(cases())
def test_every_instant_is_covered_by_exactly_one_person(case):
    schedule, start, end, probes = case
    segments = coverage.final_schedule(schedule, start, end)
    assert segments[0].start == start
    assert segments[-1].end == end
    for previous, current in itertools.pairwise(segments):
        assert previous.end == current.start  # no overlap, no hole
        assert (previous.person, previous.layer, previous.reason) != (
            current.person,
            current.layer,
            current.reason,
        )  # merged where nothing changes
    assert all(s.person is not None and s.start < s.end for s in segments)
    for at in probes:
        [containing] = [s for s in segments if s.start <= at < s.end]
        who = coverage.on_call(schedule, at)
        assert (containing.person, containing.layer, containing.reason) == (
            who.person,
            who.layer,
            who.reason,
        ), at


@PROPERTY
@given(cases())
def test_overrides_win_wherever_they_apply(case):
    schedule, _start, _end, probes = case
    for override in schedule.overrides:
        probes.append(override.start)
        probes.append(override.start + (override.end - override.start) / 2)
    for at in probes:
        active = [o for o in schedule.overrides if o.start <= at < o.end]
        who = coverage.on_call(schedule, at)
        if active:
            newest = max(active, key=lambda o: o.id)
            assert (who.person, who.source) == (newest.person, Source.OVERRIDE)
        else:
            assert who.source is not Source.OVERRIDE


@PROPERTY
@given(cases(), st.randoms(use_true_random=False))
def test_the_order_layers_and_overrides_are_given_in_does_not_matter(case, rnd):
    schedule, start, end, _probes = case
    layers, extra = list(schedule.layers), list(schedule.overrides)
    rnd.shuffle(layers)
    rnd.shuffle(extra)
    shuffled = Schedule(tuple(layers), tuple(extra))
    assert coverage.final_schedule(shuffled, start, end) == coverage.final_schedule(
        schedule, start, end
    )
