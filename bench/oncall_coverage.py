"""On-call coverage benchmark: the final schedule of a follow-the-sun rotation.

Prints JSON. Our figure: days of final schedule computed per second by
oncall.coverage.final_schedule, which evaluates only the instants where something can change
(handoffs, window edges, local midnights, overrides). Baseline, measured in the same run: the
straightforward approach, asking "who is on call?" for every minute of the window and merging
equal neighbours. Both must give the same segments (checked).

The schedule: five layers in five time zones (24/7 base, Singapore, Dublin with Irish public
holidays off and a London backup, Austin), daily and weekly rotations, plus overrides.

Usage: python bench/oncall_coverage.py [--days N]
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

from rapidresponse.oncall.coverage import (
    Layer,
    Override,
    Schedule,
    Segment,
    Window,
    final_schedule,
    on_call,
)
from rapidresponse.oncall.rotation import Rotation, RotationUnit

DAILY = frozenset(range(7))
START = date(2026, 1, 5)


def schedule() -> Schedule:
    day = RotationUnit.DAYS
    layers = (
        Layer(
            "base",
            0,
            Rotation(("gail", "hal", "ivy"), RotationUnit.WEEKS, 1, clock_time(9), START, "UTC"),
        ),
        Layer(
            "singapore",
            10,
            Rotation(("sam", "sid", "sue"), day, 1, clock_time(8), START, "Asia/Singapore"),
            (Window(DAILY, clock_time(8), clock_time(16)),),
        ),
        Layer(
            "dublin",
            20,
            Rotation(("dee", "dan"), day, 1, clock_time(8), START, "Europe/Dublin"),
            (Window(DAILY, clock_time(8), clock_time(16)),),
            holiday_country="IE",
            covers_holidays=False,
            backup="london-backup",
        ),
        Layer(
            "austin",
            30,
            Rotation(("ann", "abe"), day, 1, clock_time(10), START, "America/Chicago"),
            (Window(DAILY, clock_time(10), clock_time(18)),),
        ),
        Layer(
            "london-backup",
            5,
            Rotation(("bea", "ben"), RotationUnit.WEEKS, 1, clock_time(9), START, "Europe/London"),
            backup_only=True,
        ),
    )
    base = datetime(2026, 1, 5, tzinfo=UTC)
    overrides = tuple(
        Override(
            i,
            "cover",
            base + timedelta(days=17 * i, hours=3),
            base + timedelta(days=17 * i, hours=11),
            "swap",
        )
        for i in range(22)
    )
    return Schedule(layers, overrides)


def minute_by_minute(spec: Schedule, start: datetime, end: datetime) -> list[Segment]:
    segments: list[Segment] = []
    at = start
    while at < end:
        who = on_call(spec, at)
        nxt = at + timedelta(minutes=1)
        last = segments[-1] if segments else None
        if last is not None and (last.person, last.layer, last.source, last.reason) == (
            who.person,
            who.layer,
            who.source,
            who.reason,
        ):
            segments[-1] = Segment(last.start, nxt, who.person, who.layer, who.source, who.reason)
        else:
            segments.append(Segment(at, nxt, who.person, who.layer, who.source, who.reason))
        at = nxt
    return segments


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    spec = schedule()
    start = datetime(2026, 3, 1, tzinfo=UTC)  # spans the EU and US clock changes
    end = start + timedelta(days=args.days)

    t0 = time.perf_counter()
    ours = final_schedule(spec, start, end)
    ours_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    baseline = minute_by_minute(spec, start, end)
    baseline_s = time.perf_counter() - t0
    if [(s.start, s.end, s.person) for s in ours] != [(s.start, s.end, s.person) for s in baseline]:
        raise SystemExit("the final schedule and the minute-by-minute baseline disagree")
    print(
        json.dumps(
            {
                "window_days": args.days,
                "segments": len(ours),
                "final_schedule_days_per_s": round(args.days / ours_s, 1),
                "baseline_minute_sampling_days_per_s": round(args.days / baseline_s, 2),
                "speedup": round(baseline_s / ours_s, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
