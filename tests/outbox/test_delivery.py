"""Outbox retry backoff: 5 s doubling per failed attempt, never decreasing, capped at one hour."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rapidresponse.outbox.delivery import BASE_DELAY, MAX_DELAY, retry_delay

ONE_HOUR = timedelta(hours=1)


def test_policy_constants() -> None:
    assert timedelta(seconds=5) == BASE_DELAY
    assert ONE_HOUR == MAX_DELAY


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [
        (1, 5),
        (2, 10),
        (3, 20),
        (4, 40),
        (5, 80),
        (8, 640),
        (10, 2_560),
        (11, 3_600),  # 5_120 s would exceed the cap
        (12, 3_600),
        (100, 3_600),
        (10**9, 3_600),
    ],
)
def test_backoff_schedule(attempts: int, seconds: int) -> None:
    assert retry_delay(attempts) == timedelta(seconds=seconds)


@settings(max_examples=200)
@given(st.integers(1, 10**6))
def test_never_decreases_and_doubles_until_the_cap(attempts: int) -> None:
    now, following = retry_delay(attempts), retry_delay(attempts + 1)
    assert now <= following
    assert following == min(ONE_HOUR, now * 2)


@settings(max_examples=200)
@given(st.integers(1, 10**12))
def test_bounded_between_5_seconds_and_one_hour(attempts: int) -> None:
    delay = retry_delay(attempts)
    assert timedelta(seconds=5) <= delay <= ONE_HOUR
    assert isinstance(delay, timedelta)


@settings(max_examples=50)
@given(st.integers(1, 10))
def test_uncapped_delays_are_exact_powers_of_two(attempts: int) -> None:
    assert retry_delay(attempts) == timedelta(seconds=5 * 2 ** (attempts - 1))


def test_whole_schedule_is_monotone_and_reaches_the_cap() -> None:
    delays = [retry_delay(n) for n in range(1, 40)]
    assert delays == sorted(delays)
    assert delays[-1] == ONE_HOUR
    assert delays.index(ONE_HOUR) == 10  # the 11th attempt is the first to wait the full hour


@settings(max_examples=50)
@given(st.integers(max_value=0))
def test_attempts_below_one_raise(attempts: int) -> None:
    with pytest.raises(ValueError, match="attempts starts at 1"):
        retry_delay(attempts)
