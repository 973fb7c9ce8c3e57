"""Rotations and the calendar facts they lean on: zones, holidays, weekends."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from rapidresponse.oncall import days_off, zones
from rapidresponse.oncall.rotation import Rotation, RotationUnit
from tests.oncall.follow_the_sun import utc


def test_weekly_rotation_cycles_through_participants_at_the_local_handoff():
    rotation = Rotation(("a", "b", "c"), RotationUnit.WEEKS, 1, time(9), date(2026, 3, 2), "UTC")
    assert rotation.on_duty(utc(2026, 3, 2, 8, 59)) is None  # before the first handoff
    assert rotation.on_duty(utc(2026, 3, 2, 9)) == ("a", 0)
    assert rotation.on_duty(utc(2026, 3, 9, 8, 59)) == ("a", 0)
    assert rotation.on_duty(utc(2026, 3, 9, 9)) == ("b", 1)
    assert rotation.on_duty(utc(2026, 3, 23, 9)) == ("a", 3)


def test_hour_rotations_count_elapsed_hours_across_a_clock_change():
    # Every 12 hours from 08:00 Dublin (GMT) on 28 March; the clocks go forward on the 29th.
    rotation = Rotation(
        ("a", "b"), RotationUnit.HOURS, 12, time(8), date(2026, 3, 28), "Europe/Dublin"
    )
    assert rotation.handoffs(utc(2026, 3, 28), utc(2026, 3, 30)) == [
        utc(2026, 3, 28, 8),
        utc(2026, 3, 28, 20),
        utc(2026, 3, 29, 8),  # 09:00 IST: twelve elapsed hours, not 08:00 wall clock
        utc(2026, 3, 29, 20),
    ]


def test_a_handoff_inside_the_spring_forward_gap_happens_when_the_clock_resumes():
    # 02:30 does not exist in Chicago on 2026-03-08; PEP 495 puts it at 03:30 CDT.
    rotation = Rotation(
        ("a", "b"), RotationUnit.DAYS, 1, time(2, 30), date(2026, 3, 6), "America/Chicago"
    )
    assert rotation.shift_start(2) == utc(2026, 3, 8, 8, 30)
    assert rotation.shift_start(3) == utc(2026, 3, 9, 7, 30)
    assert rotation.on_duty(utc(2026, 3, 8, 8, 29)) == ("b", 1)
    assert rotation.on_duty(utc(2026, 3, 8, 8, 30)) == ("a", 2)


def test_shift_index_is_exact_far_from_the_start():
    rotation = Rotation(
        ("a", "b", "c"), RotationUnit.DAYS, 2, time(23, 45), date(2026, 1, 1), "Pacific/Chatham"
    )
    for index in (0, 1, 57, 180, 400):
        start = rotation.shift_start(index)
        assert rotation.shift_index(start) == index
        assert rotation.shift_index(start - timedelta(microseconds=1)) == index - 1


def test_a_rotation_needs_a_real_zone_and_length():
    with pytest.raises(ValueError, match="not an IANA time zone"):
        Rotation(("a",), RotationUnit.DAYS, 1, time(9), date(2026, 1, 1), "Mars/Olympus")
    with pytest.raises(ValueError, match="at least one unit"):
        Rotation(("a",), RotationUnit.DAYS, 0, time(9), date(2026, 1, 1), "UTC")


def test_zone_errors_suggest_the_iana_name():
    with pytest.raises(ValueError, match="did you mean Europe/Dublin"):
        zones.zone("dublin")
    with pytest.raises(ValueError, match="not an IANA time zone"):
        zones.zone("../../etc/passwd")


def test_local_day_and_midnight_agree_in_every_zone():
    for tz in ("UTC", "America/Chicago", "Asia/Singapore", "Pacific/Chatham"):
        day = date(2026, 3, 8)
        assert zones.local_day(zones.midnight(day, tz), tz) == day
        assert zones.local_day(zones.midnight(day, tz) - timedelta(seconds=1), tz) == date(
            2026, 3, 7
        )


def test_public_holidays_and_weekends_come_from_the_holidays_library():
    assert days_off.public_holiday("IE", None, date(2026, 3, 17)) == "Saint Patrick's Day"
    assert days_off.public_holiday("IE", None, date(2026, 3, 18)) is None
    assert days_off.public_holiday("SG", None, date(2026, 8, 9)) == "National Day"
    assert days_off.is_weekend("IE", date(2026, 3, 7))
    assert not days_off.is_weekend(None, date(2026, 3, 6))
    with pytest.raises(ValueError, match="no public-holiday calendar"):
        days_off.check_country("QQ")
