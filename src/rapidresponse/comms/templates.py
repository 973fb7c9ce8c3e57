"""Rendering status updates from the shipped templates (pure: a context dict in, text out).

Templates are Markdown files in ``comms/templates/<kind>.md.j2``; the first line is a
``# heading`` that becomes the title, the rest is the body. They run in Jinja's sandbox
(templates are data, and may one day be edited by operators) with ``StrictUndefined``: a
template that names a fact the context does not carry fails loudly instead of printing a
blank into a message that goes to executives or the press.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

TEMPLATES = Path(__file__).parent / "templates"
MAX_TITLE = 200


class UpdateKind(StrEnum):
    INTERNAL_UPDATE = "internal_update"
    EXECUTIVE_SUMMARY = "executive_summary"
    EXTERNAL_STATEMENT = "external_statement"


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str


def utc(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M UTC") -> str:
    if value is None:
        return "-"
    return value.astimezone(UTC).strftime(fmt)


def day(value: datetime | None) -> str:
    """A date as a statement says it: 25 November 2026."""
    if value is None:
        return "-"
    moment = value.astimezone(UTC)
    return f"{moment.day} {moment.strftime('%B %Y')}"


def thousands(value: int | float) -> str:
    return f"{value:,.0f}"


def listing(values: list[str] | tuple[str, ...], conjunction: str = "and") -> str:
    """ "A", "A and B", "A, B and C"."""
    items = [str(v) for v in values]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        autoescape=False,  # plain text and Markdown; HTML is never produced from these
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(utc=utc, day=day, thousands=thousands, listing=listing)
    return env


_ENV = _environment()


def _split(text: str) -> Rendered:
    lines = text.strip().splitlines()
    if not lines or not lines[0].startswith("# "):
        raise ValueError("a status-update template must start with a '# title' line")
    title = lines[0][2:].strip()
    if len(title) > MAX_TITLE:
        title = title[: MAX_TITLE - 1] + "…"
    body = "\n".join(lines[1:]).strip() + "\n"
    return Rendered(title=title, body=body)


def render(kind: UpdateKind | str, context: Mapping[str, Any]) -> Rendered:
    """Render the shipped template for ``kind``; jinja2.UndefinedError if a fact is missing."""
    template = _ENV.get_template(f"{UpdateKind(kind).value}.md.j2")
    return _split(template.render(dict(context)))


def render_source(source: str, context: Mapping[str, Any]) -> Rendered:
    """Render a template given as text, with the same sandbox, filters and strictness."""
    return _split(_ENV.from_string(source).render(dict(context)))
