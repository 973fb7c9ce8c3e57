"""Slack-compatible incoming-webhook messages (pure): Markdown in, ``{"text", "blocks"}`` out.

Status updates are written in Markdown; Slack speaks its own "mrkdwn" (``*bold*``,
``<url|text>`` links, ``&``/``<``/``>`` escaped). ``text`` is the notification and
accessibility fallback; ``blocks`` carry the formatted message, each section within Slack's
3,000-character limit and the header within its 150. Mattermost and Rocket.Chat accept the
same payload.
"""

from __future__ import annotations

import re
from typing import Any

SECTION_LIMIT = 3000
HEADER_LIMIT = 150
MAX_BLOCKS = 50
FALLBACK_LIMIT = 3000

_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_HEADING = re.compile(r"^#{1,6}\s+(.*)$")
_BULLET = re.compile(r"^(\s*)[-*]\s+")


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_mrkdwn(markdown: str) -> str:
    """Translate the Markdown our templates produce into Slack mrkdwn."""
    lines = []
    for raw in escape(markdown).splitlines():
        line = _LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", raw)
        line = _BOLD.sub(r"*\1*", line)
        heading = _HEADING.match(line)
        if heading:
            line = f"*{heading.group(1).strip()}*"
        line = _BULLET.sub(lambda m: f"{m.group(1)}• ", line)
        lines.append(line)
    return "\n".join(lines)


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _sections(text: str) -> list[str]:
    """Split on paragraph boundaries into chunks Slack accepts (hard-split what is too long)."""
    chunks: list[str] = []
    current = ""
    for paragraph in re.split(r"\n{2,}", text.strip()):
        while len(paragraph) > SECTION_LIMIT:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(paragraph[:SECTION_LIMIT])
            paragraph = paragraph[SECTION_LIMIT:]
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if len(candidate) > SECTION_LIMIT:
            chunks.append(current)
            current = paragraph
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks


def message(
    subject: str, body: str, *, incident_key: str | None = None, link: str | None = None
) -> dict[str, Any]:
    """The JSON to POST to an incoming-webhook URL."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _truncate(subject, HEADER_LIMIT), "emoji": True},
        }
    ]
    sections = _sections(to_mrkdwn(body)) if body.strip() else []
    room = MAX_BLOCKS - 2  # the header, and the context line below
    if len(sections) > room:
        sections = [*sections[: room - 1], "_(message truncated; see the incident room)_"]
    blocks.extend({"type": "section", "text": {"type": "mrkdwn", "text": s}} for s in sections)
    context = []
    if incident_key:
        context.append(f"*{escape(incident_key)}*")
    if link:
        context.append(f"<{link}|Open in Rapid Response>")
    if context:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]}
        )
    fallback = _truncate(f"{subject}\n\n{body}".strip(), FALLBACK_LIMIT)
    return {"text": escape(fallback), "blocks": blocks}
