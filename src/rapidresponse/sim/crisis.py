"""Crisis simulator: per-minute signal counts for many keys, with labelled injected incidents.

A *key* is anything detection counts per minute: a hashtag, a sound, a media hash, a search
term. Each key has a ``KeyProfile``: a mean rate, a daily rhythm peaking at a local hour (its
time zone is its country's), a weekly shape (weekends differ), a level on its country's public
holidays (from the ``holidays`` package), a day-to-day wobble, and negative-binomial noise
(gamma-Poisson: variance = mean * (1 + overdispersion * mean)), because real report counts
are burstier than Poisson.

An ``Injection`` adds an incident's extra events to one key over ``[onset, onset + duration)``
and nothing outside it (incidents end at containment). Its ``magnitude`` is the peak extra
rate in units of the key's reference rate, ``max(base_rate, REFERENCE_FLOOR)`` events per
minute: ``magnitude=5`` on a key averaging 10 a minute adds up to 50 a minute. Shapes:

- ``burst``: a step up for tens of minutes (a raid, a re-upload wave);
- ``viral``: exponential growth from 1 % of the peak to the peak over hours (a challenge);
- ``ramp``: linear growth from zero over many hours, small at first (the hard case);
- ``new_key``: a key with about zero base rate appears and rises to a plateau (a new hashtag).

``simulate`` is vectorised (keys in chunks, numpy throughout) and pure: the randomness comes
only from the ``numpy.random.Generator`` it is given. ``make_scenario`` draws varied, plausible
profiles and injections from a seed; injections start after a warm-up (7 days by default) so
detectors can learn the weekly baseline first.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

import holidays
import numpy as np
import numpy.typing as npt

from rapidresponse.incidents.taxonomy import HarmType

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MINUTES_PER_DAY = 1440
SHAPES = ("burst", "viral", "ramp", "new_key")
REFERENCE_FLOOR = 0.2  # events/minute: an incident on a quiet key is still loud
DEFAULT_WARMUP_DAYS = 7
DEFAULT_START = datetime(2025, 4, 7, tzinfo=UTC)  # a Monday, 00:00 UTC
_CHUNK_KEYS = 64  # keys simulated at once: bounds the temporaries at ~64 x minutes floats

# (country for `holidays`, UTC offset in minutes, region label); offsets ignore summer time.
COUNTRIES: tuple[tuple[str, int, str], ...] = (
    ("US", -5 * 60, "NA"),
    ("US", -8 * 60, "NA"),
    ("MX", -6 * 60, "LATAM"),
    ("BR", -3 * 60, "LATAM"),
    ("GB", 0, "EU"),
    ("DE", 60, "EU"),
    ("FR", 60, "EU"),
    ("NG", 60, "AF"),
    ("TR", 180, "EU"),
    ("IN", 330, "APAC"),
    ("ID", 420, "APAC"),
    ("PH", 480, "APAC"),
    ("JP", 540, "APAC"),
)


@dataclass(frozen=True)
class KeyProfile:
    """How one key's background traffic behaves (rates in events per minute)."""

    name: str
    base_rate: float
    diurnal_amplitude: float = 0.5  # 0 = flat day; 0.5 = peak 1.5x, trough 0.5x the mean
    peak_hour: float = 20.0  # local hour of the daily peak
    utc_offset_minutes: int = 0  # the key's time zone
    weekly: tuple[float, ...] = (1.0,) * 7  # Monday..Sunday multipliers (local days)
    overdispersion: float = 0.1  # variance = mean * (1 + overdispersion * mean)
    country: str | None = None  # public holidays from `holidays`
    holiday_factor: float = 1.0  # level on a local public holiday
    daily_variation: float = 0.0  # log-normal sd of each local day's level
    harm_type: str = HarmType.DANGEROUS_CHALLENGES.value
    region: str = "GLOBAL"


@dataclass(frozen=True)
class Injection:
    """An incident added to one key: ``shape`` in SHAPES, minutes from the scenario start."""

    key: str
    shape: str
    onset: int
    duration: int
    magnitude: float

    @property
    def end(self) -> int:
        return self.onset + self.duration


@dataclass(frozen=True)
class Scenario:
    """What to simulate: ``minutes`` per-minute rows from ``start`` (UTC) for ``keys``."""

    start: datetime
    minutes: int
    keys: tuple[KeyProfile, ...]
    injections: tuple[Injection, ...] = ()
    warmup_minutes: int = DEFAULT_WARMUP_DAYS * MINUTES_PER_DAY

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.start.utcoffset() != timedelta(0):
            raise ValueError("scenario start must be timezone-aware UTC")
        if self.start.second or self.start.microsecond:
            raise ValueError("scenario start must fall on a whole minute")
        names = [k.name for k in self.keys]
        if len(set(names)) != len(names):
            raise ValueError("key names must be unique")
        known = set(names)
        for inj in self.injections:
            if inj.key not in known:
                raise ValueError(f"injection on unknown key {inj.key!r}")
            if inj.shape not in SHAPES:
                raise ValueError(f"unknown shape {inj.shape!r}; expected one of {SHAPES}")
            if inj.onset < 0 or inj.duration <= 0 or inj.end > self.minutes:
                raise ValueError(f"injection on {inj.key!r} does not fit in the scenario")

    @property
    def start_epoch(self) -> float:
        return self.start.timestamp()

    def key_index(self) -> dict[str, int]:
        return {k.name: i for i, k in enumerate(self.keys)}


@dataclass(frozen=True)
class Label:
    """Ground truth for one injection: rows ``[onset, end)`` of key row ``key_index``."""

    key_index: int
    key: str
    shape: str
    onset: int
    end: int


@dataclass(frozen=True)
class Streams:
    """Simulated counts (keys x minutes, rows in ``scenario.keys`` order) and their labels."""

    counts: IntArray
    labels: tuple[Label, ...] = field(default=())

    @property
    def events(self) -> int:
        return int(self.counts.sum())


# --- Rates --------------------------------------------------------------------------------


@cache
def _holiday_days(country: str, first_year: int, last_year: int) -> frozenset[int]:
    """Local public holidays of ``country`` as days since 1970-01-01."""
    epoch = date(1970, 1, 1)
    years = range(first_year, last_year + 1)
    return frozenset((d - epoch).days for d in holidays.country_holidays(country, years=years))


def _local_calendar(
    start: datetime, minutes: int, offsets: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """(local minute of day, local day number since 1970, local weekday Mon=0) per key x row."""
    start_minute = int(start.timestamp()) // 60
    local = start_minute + np.arange(minutes, dtype=np.int64)[None, :] + offsets[:, None]
    day = local // MINUTES_PER_DAY
    # 1970-01-01 was a Thursday (weekday 3).
    return local % MINUTES_PER_DAY, day, (day + 3) % 7


def _background(
    profiles: Sequence[KeyProfile], start: datetime, minutes: int, rng: np.random.Generator | None
) -> FloatArray:
    """Mean rate per key x row; with ``rng``, each local day also gets its random level."""
    offsets = np.array([p.utc_offset_minutes for p in profiles], dtype=np.int64)
    minute_of_day, day, weekday = _local_calendar(start, minutes, offsets)
    base = np.array([p.base_rate for p in profiles])[:, None]
    amplitude = np.array([p.diurnal_amplitude for p in profiles])[:, None]
    peak = np.array([p.peak_hour for p in profiles])[:, None]
    hours = minute_of_day / 60.0
    diurnal = 1.0 + amplitude * np.cos(2.0 * math.pi * (hours - peak) / 24.0)
    weekly = np.array([_normalised(p.weekly) for p in profiles])
    rate: FloatArray = base * diurnal * np.take_along_axis(weekly, weekday, axis=1)
    end = start + timedelta(minutes=minutes)
    for i, p in enumerate(profiles):
        if p.country is not None and p.holiday_factor != 1.0:
            days = _holiday_days(p.country, start.year - 1, end.year + 1)
            mask = np.isin(day[i], np.fromiter(days, dtype=np.int64, count=len(days)))
            rate[i, mask] *= p.holiday_factor
    if rng is not None:
        sd = np.array([p.daily_variation for p in profiles])[:, None]
        first = int(day.min())
        n_days = int(day.max()) - first + 1
        wobble = np.exp(rng.standard_normal((len(profiles), n_days)) * sd - sd * sd / 2.0)
        rate *= np.take_along_axis(wobble, day - first, axis=1)
    return rate


def _normalised(weekly: tuple[float, ...]) -> FloatArray:
    if len(weekly) != 7 or min(weekly) < 0 or sum(weekly) <= 0:
        raise ValueError("weekly shape needs 7 non-negative multipliers, not all zero")
    w: FloatArray = np.asarray(weekly, dtype=np.float64)
    out: FloatArray = w / w.mean()
    return out


def background_mean(profile: KeyProfile, start: datetime, minutes: int) -> FloatArray:
    """The key's expected rate per minute, without incidents or day-to-day wobble."""
    rates = _background([profile], start, minutes, None)
    out: FloatArray = rates[0]
    return out


def injection_rate(injection: Injection, profile: KeyProfile) -> FloatArray:
    """Extra events per minute over the injection's ``duration`` rows (zero outside them)."""
    peak = injection.magnitude * max(profile.base_rate, REFERENCE_FLOOR)
    d = injection.duration
    t = np.arange(d, dtype=np.float64)
    if injection.shape == "burst":
        # A short rise (a few minutes) then a flat top: raids and re-upload waves start fast.
        return peak * np.minimum(1.0, (t + 1.0) / min(3.0, d))
    if injection.shape == "viral":
        # 1 % of the peak at onset, doubling at a constant rate, the peak at the last row.
        return peak * np.exp(math.log(100.0) * ((t + 1.0) / d - 1.0))
    if injection.shape == "ramp":
        return peak * (t + 1.0) / d
    if injection.shape == "new_key":
        # Saturating rise: most of the plateau is reached after a fifth of the duration.
        return peak * (1.0 - np.exp(-(t + 1.0) / max(d / 5.0, 1.0)))
    raise ValueError(f"unknown shape {injection.shape!r}")


# --- Simulation ---------------------------------------------------------------------------


def simulate(scenario: Scenario, rng: np.random.Generator) -> Streams:
    """Draw the counts of every key for every minute; deterministic for a seeded ``rng``."""
    index = scenario.key_index()
    by_key: dict[int, list[Injection]] = {}
    for inj in scenario.injections:
        by_key.setdefault(index[inj.key], []).append(inj)
    n, m = len(scenario.keys), scenario.minutes
    counts = np.empty((n, m), dtype=np.int64)
    for lo in range(0, n, _CHUNK_KEYS):
        profiles = scenario.keys[lo : lo + _CHUNK_KEYS]
        rate = _background(profiles, scenario.start, m, rng)
        for row in range(len(profiles)):
            for inj in by_key.get(lo + row, ()):
                rate[row, inj.onset : inj.end] += injection_rate(inj, profiles[row])
        phi = np.array([max(p.overdispersion, 1e-9) for p in profiles])[:, None]
        # Gamma-Poisson mixture = negative binomial with variance mean * (1 + phi * mean).
        noisy = rng.gamma(np.broadcast_to(1.0 / phi, rate.shape), 1.0) * phi
        counts[lo : lo + len(profiles)] = rng.poisson(rate * noisy)
    labels = tuple(
        Label(index[inj.key], inj.key, inj.shape, inj.onset, inj.end) for inj in scenario.injections
    )
    return Streams(counts=counts, labels=labels)


# --- Drawing scenarios --------------------------------------------------------------------

_DURATIONS = {  # minutes, drawn uniformly
    "burst": (10, 60),
    "viral": (2 * 60, 8 * 60),
    "ramp": (6 * 60, 24 * 60),
    "new_key": (60, 6 * 60),
}
_MAGNITUDES = {  # peak extra rate / reference rate, drawn log-uniformly
    "burst": (1.0, 10.0),
    "viral": (3.0, 30.0),
    "ramp": (0.5, 3.0),
    "new_key": (5.0, 50.0),  # on a new key: 1 to 10 events a minute at the plateau
}


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def draw_profile(rng: np.random.Generator, name: str) -> KeyProfile:
    """A plausible established key: rates spread over four orders of magnitude."""
    country, offset, region = COUNTRIES[int(rng.integers(len(COUNTRIES)))]
    weekend = rng.uniform(0.7, 1.4)
    weekly = 1.0 + rng.normal(0.0, 0.05, 7)
    weekly[5:] *= weekend
    harm = list(HarmType)[int(rng.integers(len(HarmType)))]
    return KeyProfile(
        name=name,
        base_rate=float(np.clip(rng.lognormal(math.log(0.8), 1.3), 0.01, 200.0)),
        diurnal_amplitude=float(rng.uniform(0.2, 0.8)),
        peak_hour=float(rng.normal(20.0, 2.0) % 24.0),
        utc_offset_minutes=offset,
        weekly=tuple(float(w) for w in np.maximum(weekly, 0.05)),
        overdispersion=float(rng.lognormal(math.log(0.1), 0.7)),
        country=country,
        holiday_factor=float(rng.uniform(0.5, 1.6)),
        daily_variation=float(rng.uniform(0.03, 0.15)),
        harm_type=harm.value,
        region=region,
    )


def make_scenario(
    n_keys: int,
    days: int,
    n_injections: int,
    seed: int,
    *,
    start: datetime = DEFAULT_START,
    warmup_days: int = DEFAULT_WARMUP_DAYS,
    shapes: Sequence[str] = SHAPES,
) -> Scenario:
    """Varied profiles and ``n_injections`` incidents, shapes in turn, one per key.

    Injections start after ``warmup_days`` and end a day before the scenario does at the
    latest. A ``new_key`` injection's key gets a base rate of about zero (a handful of events
    over the whole scenario, or none) before it appears.
    """
    if days <= warmup_days + 1:
        raise ValueError("days must exceed the warm-up by more than a day")
    if n_injections > n_keys:
        raise ValueError("at most one injection per key")
    rng = np.random.default_rng(seed)
    minutes = days * MINUTES_PER_DAY
    profiles = [draw_profile(rng, f"tag-{i:04d}") for i in range(n_keys)]
    chosen = rng.choice(n_keys, size=n_injections, replace=False)
    warmup = warmup_days * MINUTES_PER_DAY
    injections = []
    for j, k in enumerate(chosen):
        shape = shapes[j % len(shapes)]
        lo, hi = _DURATIONS[shape]
        duration = int(rng.integers(lo, hi + 1))
        onset = int(rng.integers(warmup, minutes - MINUTES_PER_DAY - duration))
        magnitude = _log_uniform(rng, *_MAGNITUDES[shape])
        if shape == "new_key":
            quiet = 0.0 if rng.random() < 0.5 else float(rng.uniform(1e-4, 1e-3))
            profiles[k] = replace(profiles[k], base_rate=quiet)
        injections.append(Injection(profiles[k].name, shape, onset, duration, round(magnitude, 3)))
    return Scenario(
        start=start,
        minutes=minutes,
        keys=tuple(profiles),
        injections=tuple(injections),
        warmup_minutes=warmup,
    )


# --- Events for demos ---------------------------------------------------------------------


def to_events(
    streams: Streams,
    scenario: Scenario,
    first_minute: int = 0,
    last_minute: int | None = None,
    keys: Sequence[str] | None = None,
    kind: str = "user_report",
    source: str = "sim/crisis",
) -> Iterator[dict[str, Any]]:
    """One signal-like dict per simulated event in minutes ``[first_minute, last_minute)``.

    CloudEvents-ish and deliberately small: ``id`` (stable: minute, key row, ordinal),
    ``source``, ``time`` (ISO 8601 UTC; a minute's events are spread evenly over it),
    ``kind``, ``harm_type`` and ``region`` (from the key's profile) and ``keys`` (the key's
    name). Ordered by minute, then key. Meant for end-to-end demos on a slice: a whole
    scenario holds millions of events.
    """
    last = scenario.minutes if last_minute is None else min(last_minute, scenario.minutes)
    index = scenario.key_index()
    rows = list(range(len(scenario.keys))) if keys is None else [index[k] for k in keys]
    start = scenario.start
    for minute in range(max(first_minute, 0), last):
        at = start + timedelta(minutes=minute)
        for row in rows:
            n = int(streams.counts[row, minute])
            profile = scenario.keys[row]
            for i in range(n):
                when = at + timedelta(seconds=60.0 * i / n)
                yield {
                    "id": f"sim-{minute}-{row}-{i}",
                    "source": source,
                    "time": when.isoformat().replace("+00:00", "Z"),
                    "kind": kind,
                    "harm_type": profile.harm_type,
                    "region": profile.region,
                    "keys": [profile.name],
                }
