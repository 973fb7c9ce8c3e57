"""What an external statement must not disclose (pure): findings, not silent rewrites.

External statements are drafted from public facts only (see ``facts.public_facts``), but
people edit drafts, and a pasted sentence can carry an account id, a colleague's handle or
an internal note to the press. Before a statement is submitted for approval, and again
before it is published, its text is checked here; each finding names what it found so the
author can reword it. Nothing is removed behind the author's back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MENTION = re.compile(r"(?<![\w.@])@[A-Za-z0-9_][A-Za-z0-9_.]{1,}")
_LONG_NUMBER = re.compile(r"(?<![\d.,])\d{7,}(?![\d])")
_ID_WORDS = re.compile(
    r"\b(?:account|user|channel|video|creator|device)[ _-]?(?:id|#|number)\b", re.IGNORECASE
)
_INCIDENT_KEY = re.compile(r"\bINC-\d{4}-\d+\b", re.IGNORECASE)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")
MIN_QUOTE = 25  # shorter overlaps are ordinary phrases, not quotations


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


def restricted_details(
    text: str, *, handles: Iterable[str] = (), internal_texts: Iterable[str] = ()
) -> list[str]:
    """Everything in ``text`` that looks like a restricted detail, described for a person."""
    findings: list[str] = []
    for match in _EMAIL.finditer(text):
        findings.append(f"an e-mail address ({match.group()})")
    for match in _MENTION.finditer(text):  # not e-mail addresses: "@" follows a word there
        findings.append(f"an account handle ({match.group()})")
    for match in _LONG_NUMBER.finditer(text):
        findings.append(f"an account-like identifier ({match.group()})")
    for match in _ID_WORDS.finditer(text):
        findings.append(f"an identifier reference ({match.group()!r})")
    for match in _INCIDENT_KEY.finditer(text):
        findings.append(f"an internal incident key ({match.group()})")
    for handle in sorted(set(handles)):
        if len(handle) < 3:
            continue
        pattern = rf"(?<![\w.@-]){re.escape(handle)}(?![\w@-])"
        if re.search(pattern, text, re.IGNORECASE):
            findings.append(f"a team member's handle ({handle})")
    published = _normal(text)
    quoted: set[str] = set()
    for source in internal_texts:
        for sentence in _SENTENCE.findall(source):
            fragment = _normal(sentence).strip(" .!?")
            if len(fragment) >= MIN_QUOTE and fragment in published and fragment not in quoted:
                quoted.add(fragment)
                findings.append(f'internal wording ("{fragment[:60]}")')
    return findings
