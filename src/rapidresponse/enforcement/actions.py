"""What each containment action does to an item, whether it can be undone, and its blast radius.

An item's restrictions are kept as a list of the actions in force on it, each with the
regions it covers (an empty tuple: everywhere the item is). Keeping the provenance, rather
than a flat "blocked in DE" flag, is what makes bulk actions safe to combine: applying an
action twice changes nothing (idempotent), and rolling one back removes only its own
entries, so a geo-block that a second action also imposes stays in force.

Pure: plain values in, plain values out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rapidresponse.incidents.validation import EEA_STATES
from rapidresponse.playbooks.schema import ContainmentAction


class Subject(StrEnum):
    """What an item is: a piece of content, an account, or a key people search or post with."""

    VIDEO = "video"
    LIVE_STREAM = "live_stream"
    IMAGE = "image"
    AUDIO = "audio"
    TEXT = "text"
    COMMENT = "comment"
    ACCOUNT = "account"
    HASHTAG = "hashtag"
    SOUND = "sound"
    SEARCH_TERM = "search_term"


CONTENT_SUBJECTS = frozenset(
    {
        Subject.VIDEO,
        Subject.LIVE_STREAM,
        Subject.IMAGE,
        Subject.AUDIO,
        Subject.TEXT,
        Subject.COMMENT,
    }
)
KEY_SUBJECTS = frozenset({Subject.HASHTAG, Subject.SOUND, Subject.SEARCH_TERM})

# The DSA transparency database's content types for the subjects that are content.
DSA_CONTENT_TYPE = {
    Subject.VIDEO: "CONTENT_TYPE_VIDEO",
    Subject.LIVE_STREAM: "CONTENT_TYPE_VIDEO",
    Subject.IMAGE: "CONTENT_TYPE_IMAGE",
    Subject.AUDIO: "CONTENT_TYPE_AUDIO",
    Subject.TEXT: "CONTENT_TYPE_TEXT",
    Subject.COMMENT: "CONTENT_TYPE_TEXT",
    Subject.ACCOUNT: "CONTENT_TYPE_OTHER",
    Subject.HASHTAG: "CONTENT_TYPE_TEXT",
    Subject.SOUND: "CONTENT_TYPE_AUDIO",
    Subject.SEARCH_TERM: "CONTENT_TYPE_TEXT",
}

ACCOUNT_ACTIONS = frozenset({ContainmentAction.SUSPEND_ACCOUNT, ContainmentAction.BAN_ACCOUNT})
# Search interventions redirect searches for a key to help resources; they act on keys only.
KEY_ACTIONS = frozenset({ContainmentAction.SEARCH_INTERVENTION})

# Removal and account termination are final decisions that the user is told about in a
# statement of reasons; undoing one is a reinstatement decided per item through the appeal
# (DSA Art. 20 complaint) process, never a bulk undo.
IRREVERSIBLE = frozenset({ContainmentAction.REMOVE, ContainmentAction.BAN_ACCOUNT})
# Only these actions are scoped to listed regions; every other one applies wherever the
# item is available.
REGIONAL = frozenset({ContainmentAction.GEO_RESTRICT})
# Actions that subsume others: a removed item is not additionally labelled anywhere, and a
# banned account is not additionally suspended.
SUBSUMED_BY = {
    ContainmentAction.REMOVE: frozenset(
        {
            ContainmentAction.GEO_RESTRICT,
            ContainmentAction.AGE_RESTRICT,
            ContainmentAction.REDUCE_REACH,
            ContainmentAction.LABEL,
            ContainmentAction.RESTRICT_INTERACTION,
        }
    ),
    ContainmentAction.BAN_ACCOUNT: frozenset({ContainmentAction.SUSPEND_ACCOUNT}),
}


def reversible(action: ContainmentAction) -> bool:
    return action not in IRREVERSIBLE


def applies_to(action: ContainmentAction, subject: Subject) -> bool:
    """Whether ``action`` can act on an item of ``subject``."""
    if action in ACCOUNT_ACTIONS:
        return subject is Subject.ACCOUNT
    if action in KEY_ACTIONS:
        return subject in KEY_SUBJECTS
    if action is ContainmentAction.HASH_BANK:
        return subject in CONTENT_SUBJECTS
    return subject is not Subject.ACCOUNT


def target_subjects(action: ContainmentAction) -> frozenset[Subject]:
    return frozenset(s for s in Subject if applies_to(action, s))


@dataclass(frozen=True)
class Change:
    """The outcome of applying an action to one item.

    ``regions`` is where the action newly restricts the item: () when nothing changed,
    ("*",) when it now applies everywhere the item is available and the item lists no
    regions of its own.
    """

    restrictions: list[dict[str, Any]]
    changed: bool
    regions: tuple[str, ...]


EVERYWHERE = "*"


def _covered(restrictions: Sequence[Mapping[str, Any]], action: ContainmentAction) -> set[str]:
    """Regions where ``action`` (or an action that subsumes it) is already in force."""
    covered: set[str] = set()
    for entry in restrictions:
        kind = ContainmentAction(entry["action"])
        if kind is action or action in SUBSUMED_BY.get(kind, frozenset()):
            regions = entry.get("regions") or []
            covered |= set(regions) if regions else {EVERYWHERE}
    return covered


def apply(
    restrictions: Sequence[Mapping[str, Any]],
    *,
    action_id: int,
    action: ContainmentAction,
    regions: Iterable[str],
    item_regions: Iterable[str],
) -> Change:
    """Put ``action`` in force on an item; applying the same action again changes nothing."""
    current = [dict(entry) for entry in restrictions]
    if any(entry.get("action_id") == action_id for entry in current):
        return Change(current, False, ())
    wanted = tuple(sorted(set(regions))) if action in REGIONAL else ()
    covered = _covered(current, action)
    if EVERYWHERE in covered:
        return Change(current, False, ())
    if wanted:
        new = tuple(r for r in wanted if r not in covered)
    else:
        available = tuple(sorted(set(item_regions)))
        new = tuple(r for r in available if r not in covered) if available else (EVERYWHERE,)
    if not new:
        return Change(current, False, ())
    current.append({"action_id": action_id, "action": action.value, "regions": list(wanted)})
    return Change(current, True, new)


def revert(
    restrictions: Sequence[Mapping[str, Any]], action_id: int
) -> tuple[list[dict[str, Any]], bool]:
    """Lift what ``action_id`` put in force; restrictions from other actions stay."""
    kept = [dict(entry) for entry in restrictions if entry.get("action_id") != action_id]
    return kept, len(kept) != len(restrictions)


@dataclass(frozen=True)
class EffectiveState:
    """What a viewer would see, derived from the restrictions in force."""

    removed: bool = False
    blocked_in: tuple[str, ...] = ()
    age_restricted: bool = False
    demoted: bool = False
    labelled: bool = False
    interaction_restricted: bool = False
    search_intervention: bool = False
    suspended: bool = False
    banned: bool = False
    hash_banked: bool = False


def effective_state(restrictions: Sequence[Mapping[str, Any]]) -> EffectiveState:
    kinds = {ContainmentAction(e["action"]) for e in restrictions}
    blocked: set[str] = set()
    for entry in restrictions:
        if entry["action"] == ContainmentAction.GEO_RESTRICT.value:
            blocked |= set(entry.get("regions") or [])
    return EffectiveState(
        removed=ContainmentAction.REMOVE in kinds,
        blocked_in=tuple(sorted(blocked)),
        age_restricted=ContainmentAction.AGE_RESTRICT in kinds,
        demoted=ContainmentAction.REDUCE_REACH in kinds,
        labelled=ContainmentAction.LABEL in kinds,
        interaction_restricted=ContainmentAction.RESTRICT_INTERACTION in kinds,
        search_intervention=ContainmentAction.SEARCH_INTERVENTION in kinds,
        suspended=ContainmentAction.SUSPEND_ACCOUNT in kinds,
        banned=ContainmentAction.BAN_ACCOUNT in kinds,
        hash_banked=ContainmentAction.HASH_BANK in kinds,
    )


def eu_scope(action: ContainmentAction, change_regions: Sequence[str]) -> tuple[str, ...]:
    """The EU/EEA territories where a change restricts the item (a statement of reasons is due).

    A change "everywhere" on an item that lists no regions reaches every EEA state.
    """
    if not change_regions:
        return ()
    if EVERYWHERE in change_regions:
        return tuple(sorted(EEA_STATES))
    return tuple(sorted(r for r in change_regions if r in EEA_STATES))


# ---------------------------------------------------------------- blast radius


@dataclass(frozen=True)
class ItemFacts:
    """What the blast radius needs to know of one targeted item."""

    item_id: int
    subject: Subject
    external_id: str
    account_id: str | None
    regions: tuple[str, ...]
    views: int


@dataclass
class BlastRadius:
    """Who and what a bulk action would touch, shown before anything happens."""

    items: int = 0
    accounts: int = 0
    views: int = 0
    regions: list[str] = field(default_factory=list)
    by_subject: dict[str, int] = field(default_factory=dict)
    eu_items: int = 0
    sample: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "accounts": self.accounts,
            "views": self.views,
            "regions": self.regions,
            "by_subject": self.by_subject,
            "eu_items": self.eu_items,
            "sample": self.sample,
        }


SAMPLE_SIZE = 10


def blast_radius(
    action: ContainmentAction, regions: Iterable[str], items: Iterable[ItemFacts]
) -> BlastRadius:
    """Count items, distinct accounts, views and the regions where the action will bite.

    For a geo-restriction the regions are the listed ones; for every other action, the
    regions each item is seen in ("*" for an item that lists none: it is seen everywhere).
    ``eu_items`` is how many statements of reasons the action can produce at most.
    """
    listed = set(regions) if action in REGIONAL else set()
    radius = BlastRadius()
    accounts: set[str] = set()
    touched: set[str] = set()
    for item in items:
        radius.items += 1
        radius.views += item.views
        radius.by_subject[item.subject.value] = radius.by_subject.get(item.subject.value, 0) + 1
        if item.account_id:
            accounts.add(item.account_id)
        elif item.subject is Subject.ACCOUNT:
            accounts.add(item.external_id)
        reach = listed or set(item.regions) or {EVERYWHERE}
        touched |= reach
        if EVERYWHERE in reach or reach & EEA_STATES:
            radius.eu_items += 1
        if len(radius.sample) < SAMPLE_SIZE:
            radius.sample.append(item.external_id)
    radius.accounts = len(accounts)
    radius.regions = sorted(touched)
    return radius
