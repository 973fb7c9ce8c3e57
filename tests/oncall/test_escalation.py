"""The order a page walks its policy, and the keys that make each step happen once."""

from __future__ import annotations

from rapidresponse.oncall import escalation
from rapidresponse.oncall.escalation import Step


def walk(levels: int, repeat: int) -> list[tuple[int, int]]:
    step: Step | None = escalation.first_step()
    seen = []
    while step is not None:
        seen.append((step.round, step.level))
        step = escalation.next_step(step, levels, repeat)
    return seen


def test_levels_then_rounds_until_exhausted():
    assert walk(3, 1) == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    assert walk(1, 0) == [(0, 0)]
    assert len(walk(4, 2)) == escalation.total_steps(4, 2)


def test_keys_are_derived_so_retries_name_the_same_timer_and_delivery():
    step = Step(round=1, level=2)
    assert escalation.timer_key(42, step) == "page:42:level:2:round:1"
    assert escalation.delivery_key(42, step, "dana", "email") == (
        "oncall:page:42:level:2:round:1:dana:email"
    )
