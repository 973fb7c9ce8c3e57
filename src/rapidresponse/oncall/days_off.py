"""Public holidays and weekends per country, from the ``holidays`` library.

A layer staffed in Dublin does not work on St Patrick's Day or at weekends unless the team
says so; a layer staffed in Dubai has a different weekend from one in Austin. The
``holidays`` package carries both facts per country (and per subdivision, e.g. US-TX), so the
schedule never hard-codes a calendar that goes stale.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays

DEFAULT_WEEKEND = frozenset({5, 6})  # Saturday, Sunday (date.weekday numbering)


@lru_cache(maxsize=1024)
def _calendar(country: str, subdivision: str | None, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=subdivision, years=year)


def check_country(country: str, subdivision: str | None = None) -> None:
    """ValueError naming the problem when ``holidays`` has no calendar for the place."""
    try:
        _calendar(country, subdivision, 2026)
    except NotImplementedError:
        raise ValueError(
            f"no public-holiday calendar for country {country!r} (use an ISO 3166-1 code the "
            "holidays library supports, e.g. IE, US, SG)"
        ) from None
    except Exception as exc:  # holidays raises NotImplementedError or ValueError for subdivisions
        raise ValueError(f"no public-holiday calendar for {country}-{subdivision}: {exc}") from None


def public_holiday(country: str, subdivision: str | None, day: date) -> str | None:
    """The holiday's name when ``day`` is a public holiday in the place, else None."""
    names = _calendar(country, subdivision, day.year).get_list(day)
    return "; ".join(names) if names else None


def is_weekend(country: str | None, day: date) -> bool:
    """Weekend as the country keeps it (Fri-Sat in some), Sat-Sun when no country is set."""
    if country is None:
        return day.weekday() in DEFAULT_WEEKEND
    weekend = getattr(_calendar(country, None, day.year), "weekend", None) or DEFAULT_WEEKEND
    return day.weekday() in weekend
