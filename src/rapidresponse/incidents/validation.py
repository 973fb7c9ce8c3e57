"""Validation and normalisation of region codes, language tags, surfaces and tags.

Region codes are ISO 3166-1 alpha-2 (pycountry's list); language tags are BCP 47 (checked and
normalised by langcodes). Errors name the bad value and say what is expected.
"""

from __future__ import annotations

import re
from enum import StrEnum

import langcodes
import pycountry

MAX_LIST = 100
TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_\-:.]{0,63}$")

# Groupings people type that are not ISO 3166-1 country codes; a clear hint beats "invalid".
_NOT_COUNTRIES = {
    "EU": "EU is not a country code; list the member states (e.g. DE, FR, IT)",
    "UK": "use GB for the United Kingdom (ISO 3166-1)",
    "EL": "use GR for Greece (ISO 3166-1)",
}


# EU member states and the other EEA states, where EU law (DSA, TCO) applies.
EU_MEMBER_STATES = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()  # noqa: SIM905
)
EEA_STATES = EU_MEMBER_STATES | {"IS", "LI", "NO"}
REGION_GROUPS = {"EU": EU_MEMBER_STATES, "EEA": EEA_STATES}


def region_matches(pattern: str, regions: frozenset[str] | set[str]) -> bool:
    """Does a rule's region (a country code, or a group such as EU) cover any of ``regions``?"""
    group = REGION_GROUPS.get(pattern.upper())
    if group is not None:
        return bool(group & regions)
    return pattern.upper() in regions


class Surface(StrEnum):
    FEED = "feed"
    LIVE = "live"
    SEARCH = "search"
    COMMENTS = "comments"
    DMS = "dms"


def normalise_region(code: str) -> str:
    stripped = code.strip()
    if not stripped.isascii():
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code (e.g. US, DE, IN)")
    upper = stripped.upper()
    if upper in _NOT_COUNTRIES:
        raise ValueError(f"{code!r}: {_NOT_COUNTRIES[upper]}")
    if len(upper) != 2 or pycountry.countries.get(alpha_2=upper) is None:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code (e.g. US, DE, IN)")
    return upper


def normalise_language(tag: str) -> str:
    stripped = tag.strip()
    if not stripped or not stripped.isascii() or not langcodes.tag_is_valid(stripped):
        raise ValueError(f"{tag!r} is not a valid BCP 47 language tag (e.g. en, de-AT, pt-BR)")
    return str(langcodes.standardize_tag(stripped))


def normalise_tag(tag: str) -> str:
    stripped = tag.strip()
    lowered = stripped.lower() if stripped.isascii() else stripped
    if not TAG_PATTERN.match(lowered):
        raise ValueError(
            f"{tag!r} is not a valid tag: 1-64 characters of a-z, 0-9, '_', '-', ':', '.'"
        )
    return lowered


def unique(values: list[str]) -> list[str]:
    """Keep the first occurrence of each value, in order."""
    return list(dict.fromkeys(values))
