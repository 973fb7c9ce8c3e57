"""The audit hash chain: how an entry's hash is computed and how a log is verified.

hash = SHA-256 over the canonical JSON (sorted keys, no whitespace) of the entry's fields,
including the previous entry's hash. Editing any field of any entry changes its hash;
deleting an entry breaks the sequence and the next entry's prev_hash; deleting the tail
leaves the head pointing past the last entry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True)
class ChainRecord:
    seq: int
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    prev_hash: str
    hash: str = ""


def canonical(value: Any) -> str:
    # ASCII escapes keep any string hashable, even one with a lone surrogate from JSON input.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def compute_hash(record: ChainRecord) -> str:
    body = {
        "seq": record.seq,
        "at": record.at.isoformat(),
        "actor": record.actor,
        "action": record.action,
        "entity_type": record.entity_type,
        "entity_id": record.entity_id,
        "before": record.before,
        "after": record.after,
        "prev_hash": record.prev_hash,
    }
    return hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    problem: str


@dataclass(frozen=True)
class VerifyReport:
    entries: int
    problems: list[ChainProblem]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(
    records: Iterable[ChainRecord], head_seq: int | None, head_hash: str | None
) -> VerifyReport:
    """Check every link of the chain, in sequence order, and the head against the tail."""
    problems: list[ChainProblem] = []
    expected_seq, expected_prev, count = 1, GENESIS, 0
    for record in records:
        count += 1
        if record.seq > expected_seq:
            problems.append(
                ChainProblem(record.seq, f"entries {expected_seq}..{record.seq - 1} are missing")
            )
        elif record.seq < expected_seq:
            problems.append(
                ChainProblem(
                    record.seq,
                    f"entry {record.seq} is out of order or duplicated "
                    f"(expected entry {expected_seq})",
                )
            )
        if record.prev_hash != expected_prev:
            problems.append(
                ChainProblem(record.seq, "prev_hash does not match the preceding entry")
            )
        if compute_hash(record) != record.hash:
            problems.append(ChainProblem(record.seq, "content does not match its hash (edited)"))
        expected_seq, expected_prev = record.seq + 1, record.hash
    last_seq = expected_seq - 1
    if head_seq is None:
        if count:
            problems.append(ChainProblem(last_seq, "chain head is missing"))
    elif head_seq != last_seq:
        problems.append(
            ChainProblem(
                head_seq,
                f"head records entry {head_seq} but the log ends at entry {last_seq} "
                "(entries deleted from the end)",
            )
        )
    elif head_hash != expected_prev:
        problems.append(
            ChainProblem(
                head_seq,
                f"head hash does not match entry {last_seq} (the last entry was replaced, "
                "or the head was altered)",
            )
        )
    return VerifyReport(count, problems)
