"""A follow-the-sun T&S schedule shared by the on-call tests: Austin -> Dublin -> Singapore.

Each regional layer covers 08:00/10:00-16:00/18:00 of its own day; in northern winter the
three tile the UTC day exactly (Singapore 00-08, Dublin 08-16, Austin 16-24). A 24/7 base
layer catches what the regions leave when clocks change. Dublin does not work Irish public
holidays; its designated backup, a London layer that only ever acts as a backup, covers.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from rapidresponse.oncall.coverage import Layer, Schedule, Window
from rapidresponse.oncall.rotation import Rotation, RotationUnit

START = date(2026, 3, 2)  # a Monday, before any 2026 clock change
DAILY = frozenset(range(7))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def layers() -> tuple[Layer, ...]:
    return (
        Layer(
            "base",
            0,
            Rotation(("gail", "hal"), RotationUnit.WEEKS, 1, time(9), START, "UTC"),
        ),
        Layer(
            "austin",
            10,
            Rotation(("ann", "abe"), RotationUnit.DAYS, 1, time(9), START, "America/Chicago"),
            (Window(DAILY, time(10), time(18)),),
        ),
        Layer(
            "dublin",
            20,
            Rotation(("dee", "dan"), RotationUnit.DAYS, 1, time(8), START, "Europe/Dublin"),
            (Window(DAILY, time(8), time(16)),),
            holiday_country="IE",
            covers_holidays=False,
            backup="emea-backup",
        ),
        Layer(
            "singapore",
            30,
            Rotation(("sam", "sid"), RotationUnit.DAYS, 1, time(8), START, "Asia/Singapore"),
            (Window(DAILY, time(8), time(16)),),
        ),
        Layer(
            "emea-backup",
            5,
            Rotation(("bea",), RotationUnit.WEEKS, 1, time(9), START, "Europe/London"),
            backup_only=True,
        ),
    )


def schedule() -> Schedule:
    return Schedule(layers())


PEOPLE = ("gail", "hal", "ann", "abe", "dee", "dan", "sam", "sid", "bea")
ZONES = {
    "gail": "UTC",
    "hal": "UTC",
    "ann": "America/Chicago",
    "abe": "America/Chicago",
    "dee": "Europe/Dublin",
    "dan": "Europe/Dublin",
    "sam": "Asia/Singapore",
    "sid": "Asia/Singapore",
    "bea": "Europe/London",
}


def api_body(slug: str = "ts-follow-the-sun") -> dict[str, Any]:
    """The same schedule as a POST /api/v1/schedules body."""
    return {
        "slug": slug,
        "name": "T&S follow the sun",
        "timezone": "UTC",
        "layers": [
            {
                "name": "base",
                "position": 0,
                "participants": ["gail", "hal"],
                "rotation_unit": "weeks",
                "handoff_time": "09:00",
                "timezone": "UTC",
                "starts_on": "2026-03-02",
            },
            {
                "name": "austin",
                "position": 10,
                "participants": ["ann", "abe"],
                "handoff_time": "09:00",
                "timezone": "America/Chicago",
                "starts_on": "2026-03-02",
                "restrictions": [{"days": ["daily"], "start": "10:00", "end": "18:00"}],
            },
            {
                "name": "dublin",
                "position": 20,
                "participants": ["dee", "dan"],
                "handoff_time": "08:00",
                "timezone": "Europe/Dublin",
                "starts_on": "2026-03-02",
                "restrictions": [{"days": ["daily"], "start": "08:00", "end": "16:00"}],
                "holiday_country": "IE",
                "covers_holidays": False,
                "backup_layer": "emea-backup",
            },
            {
                "name": "singapore",
                "position": 30,
                "participants": ["sam", "sid"],
                "handoff_time": "08:00",
                "timezone": "Asia/Singapore",
                "starts_on": "2026-03-02",
                "restrictions": [{"days": ["daily"], "start": "08:00", "end": "16:00"}],
            },
            {
                "name": "emea-backup",
                "position": 5,
                "participants": ["bea"],
                "rotation_unit": "weeks",
                "timezone": "Europe/London",
                "starts_on": "2026-03-02",
                "backup_only": True,
            },
        ],
    }
