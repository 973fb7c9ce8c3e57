"""Crisis simulator: seeded, seasonal, overdispersed, holidays, and each incident's shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from rapidresponse.sim.crisis import (
    MINUTES_PER_DAY,
    SHAPES,
    Injection,
    KeyProfile,
    Scenario,
    background_mean,
    injection_rate,
    make_scenario,
    simulate,
    to_events,
)

MONDAY = datetime(2025, 6, 30, tzinfo=UTC)  # Friday 4 July 2025 is a US public holiday


def one_key(profile: KeyProfile, days: int, start: datetime = MONDAY) -> np.ndarray:
    scenario = Scenario(start=start, minutes=days * MINUTES_PER_DAY, keys=(profile,))
    return simulate(scenario, np.random.default_rng(11)).counts[0]


def by_local_day(counts: np.ndarray, offset_minutes: int) -> np.ndarray:
    """Daily means over local days (the scenario starts at a UTC midnight)."""
    shifted = counts[(-offset_minutes) % MINUTES_PER_DAY :] if offset_minutes < 0 else counts
    days = len(shifted) // MINUTES_PER_DAY
    return shifted[: days * MINUTES_PER_DAY].reshape(days, MINUTES_PER_DAY).mean(axis=1)


def test_same_seed_same_scenario_and_counts() -> None:
    a = make_scenario(30, 9, 8, seed=5)
    b = make_scenario(30, 9, 8, seed=5)
    assert a == b
    first = simulate(a, np.random.default_rng(1))
    again = simulate(b, np.random.default_rng(1))
    other = simulate(a, np.random.default_rng(2))
    assert np.array_equal(first.counts, again.counts)
    assert first.labels == again.labels
    assert not np.array_equal(first.counts, other.counts)
    assert make_scenario(30, 9, 8, seed=6) != a


def test_daily_peak_falls_at_the_local_hour_the_phase_says() -> None:
    # Peak at 18:00 in UTC+2 is 16:00 UTC; trough 12 hours away.
    profile = KeyProfile("k", 20.0, diurnal_amplitude=0.6, peak_hour=18.0, utc_offset_minutes=120)
    counts = one_key(profile, 14)
    hourly = counts.reshape(-1, 24, 60).mean(axis=(0, 2))
    assert int(np.argmax(hourly)) in (15, 16)
    assert int(np.argmin(hourly)) in (3, 4)
    assert hourly.max() / hourly.min() > 3.0  # (1 + 0.6) / (1 - 0.6) = 4 at the extremes


def test_weekend_level_differs_from_weekdays() -> None:
    weekly = (1.0, 1.0, 1.0, 1.0, 1.0, 1.6, 1.6)
    profile = KeyProfile("k", 10.0, diurnal_amplitude=0.3, weekly=weekly, overdispersion=0.05)
    daily = by_local_day(one_key(profile, 14), 0)
    weekday = np.arange(14) % 7  # the scenario starts on a Monday
    ratio = daily[weekday >= 5].mean() / daily[weekday < 5].mean()
    assert ratio == pytest.approx(1.6, rel=0.05)


def test_public_holiday_has_its_own_level_in_local_time() -> None:
    profile = KeyProfile(
        "us", 10.0, diurnal_amplitude=0.3, utc_offset_minutes=-300, country="US", holiday_factor=0.4
    )
    mean = background_mean(profile, MONDAY, 7 * MINUTES_PER_DAY)
    # Local (UTC-5) Friday 4 July runs from 05:00 UTC on 4 July to 05:00 UTC on 5 July.
    holiday = slice(4 * MINUTES_PER_DAY + 300, 5 * MINUTES_PER_DAY + 300)
    thursday = slice(3 * MINUTES_PER_DAY + 300, 4 * MINUTES_PER_DAY + 300)
    assert mean[holiday].mean() / mean[thursday].mean() == pytest.approx(0.4)
    counts = one_key(profile, 7)
    assert counts[holiday].mean() / counts[thursday].mean() == pytest.approx(0.4, rel=0.08)


def test_counts_are_overdispersed_as_configured() -> None:
    noisy = one_key(KeyProfile("k", 10.0, diurnal_amplitude=0.0, overdispersion=0.2), 7)
    assert noisy.mean() == pytest.approx(10.0, rel=0.03)
    # Negative binomial: variance = mean * (1 + 0.2 * mean) = 30.
    assert noisy.var() / noisy.mean() == pytest.approx(3.0, rel=0.1)
    calm = one_key(KeyProfile("k", 10.0, diurnal_amplitude=0.0, overdispersion=0.0), 7)
    assert calm.var() / calm.mean() == pytest.approx(1.0, rel=0.08)


def test_each_shape_has_its_form() -> None:
    profile = KeyProfile("k", 4.0)
    burst = injection_rate(Injection("k", "burst", 0, 30, 5.0), profile)
    assert burst[3:] == pytest.approx(np.full(27, 20.0))  # x5 the mean rate, flat
    viral = injection_rate(Injection("k", "viral", 0, 240, 10.0), profile)
    assert viral[-1] == pytest.approx(40.0)
    assert viral[0] == pytest.approx(0.4, rel=0.05)  # from 1 % of the peak
    growth = np.diff(np.log(viral))
    assert growth == pytest.approx(np.full(239, growth[0]))  # exponential: constant log slope
    ramp = injection_rate(Injection("k", "ramp", 0, 600, 2.0), profile)
    assert np.diff(ramp) == pytest.approx(np.full(599, 8.0 / 600))  # linear
    assert ramp[:60].max() <= 0.1 * ramp[-1]  # small at first: a tenth after a tenth
    new = injection_rate(Injection("k", "new_key", 0, 100, 20.0), KeyProfile("k", 0.0))
    assert new[0] < 0.5 < 3.9 < new[-1] <= 4.0  # the floor rate 0.2 x 20: from nothing to ~4
    assert np.all(np.diff(new) > 0)


def test_injections_add_events_only_inside_their_window() -> None:
    profile = KeyProfile("quiet", 0.0)
    inj = Injection("quiet", "new_key", 600, 120, 25.0)
    scenario = Scenario(MONDAY, 1440, (profile,), (inj,), warmup_minutes=0)
    streams = simulate(scenario, np.random.default_rng(3))
    counts = streams.counts[0]
    assert counts[:600].sum() == 0
    assert counts[720:].sum() == 0
    assert counts[600:720].sum() > 200
    (label,) = streams.labels
    assert (label.key_index, label.shape, label.onset, label.end) == (0, "new_key", 600, 720)


def test_drawn_scenarios_are_varied_and_respect_the_warmup() -> None:
    scenario = make_scenario(200, 12, 40, seed=9)
    rates = np.array([k.base_rate for k in scenario.keys])
    assert rates.max() / np.median(rates[rates > 0]) > 20  # busy and quiet keys
    assert len({k.utc_offset_minutes for k in scenario.keys}) >= 8
    assert {i.shape for i in scenario.injections} == set(SHAPES)
    index = scenario.key_index()
    for inj in scenario.injections:
        assert inj.onset >= 7 * MINUTES_PER_DAY
        assert inj.end <= scenario.minutes
        if inj.shape == "new_key":
            assert scenario.keys[index[inj.key]].base_rate < 1e-3
    assert len({i.key for i in scenario.injections}) == 40


def test_simulation_is_vectorised_enough_for_benchmarks() -> None:
    import time

    scenario = make_scenario(200, 14, 20, seed=1)
    started = time.perf_counter()
    streams = simulate(scenario, np.random.default_rng(0))
    assert time.perf_counter() - started < 3.0  # 4 M rows; 1,000 keys take ~2.5 s
    assert streams.counts.shape == (200, 14 * MINUTES_PER_DAY)


def test_events_for_a_slice_are_one_dict_per_counted_event() -> None:
    scenario = make_scenario(5, 9, 2, seed=2)
    streams = simulate(scenario, np.random.default_rng(2))
    events = list(to_events(streams, scenario, 600, 610))
    assert len(events) == int(streams.counts[:, 600:610].sum())
    assert len({e["id"] for e in events}) == len(events)
    first = events[0]
    assert set(first) == {"id", "source", "time", "kind", "harm_type", "region", "keys"}
    for e in events:
        at = datetime.fromisoformat(e["time"])
        assert (
            scenario.start + timedelta(minutes=600) <= at < scenario.start + timedelta(minutes=610)
        )
    name = scenario.keys[0].name
    only = list(to_events(streams, scenario, 600, 610, keys=[name]))
    assert {e["keys"][0] for e in only} <= {name}
    assert len(only) == int(streams.counts[0, 600:610].sum())


def test_scenarios_reject_naive_times_and_misfit_injections() -> None:
    key = KeyProfile("k", 1.0)
    with pytest.raises(ValueError, match="UTC"):
        Scenario(datetime(2025, 1, 1), 10, (key,))  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="does not fit"):
        Scenario(MONDAY, 100, (key,), (Injection("k", "burst", 90, 20, 2.0),))
    with pytest.raises(ValueError, match="unknown shape"):
        Scenario(MONDAY, 100, (key,), (Injection("k", "wave", 0, 20, 2.0),))
