"""What every request and command input shares, whatever domain it belongs to.

- ``Input``: the base of input models. Unknown fields are an error (a typo must not be
  silently ignored), and no string may contain a NUL character: PostgreSQL cannot store one,
  and no legitimate incident text needs one.
- ``MAX_ROW_ID``: the largest database id; ids beyond 32-bit integers cannot exist, and
  asking for one must be a 404/422, not a database error (``http.RowId`` applies it to paths).

Nothing here imports the web framework, so pure modules may build on these models.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

MAX_ROW_ID = 2**31 - 1


def find_nul(value: Any, where: str = "") -> str | None:
    """The dotted path of the first string containing NUL, or None."""
    if isinstance(value, str):
        return where or "value" if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = find_nul(str(key), f"{where}.{key}".lstrip(".")) or find_nul(
                item, f"{where}.{key}".lstrip(".")
            )
            if found:
                return found
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = find_nul(item, f"{where}.{index}".lstrip("."))
            if found:
                return found
    return None


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul_characters(cls, data: Any) -> Any:
        where = find_nul(data)
        if where:
            raise ValueError(f"{where}: text cannot contain NUL characters")
        return data
