"""Reading playbook files: YAML in, validated ``Playbook`` out, errors with file, line and field
(``violent-extremism.yaml:57: tasks.3.due: '1 hour' is not a duration``; see datafiles.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from rapidresponse.datafiles import (
    DataFileError,
    DataFileIssue,
    parse_yaml_with_lines,
    read_text,
    validation_issues,
)
from rapidresponse.playbooks.schema import Playbook

LIBRARY = Path(__file__).parent / "library"

# A playbook problem is a data-file problem: file:line: field: message.
PlaybookIssue = DataFileIssue


class PlaybookError(DataFileError):
    """Invalid playbook files; ``issues`` lists each problem as file:line: field: message."""


def parse_playbook(text: str, file: str) -> Playbook:
    """Validate one playbook's YAML text; raise PlaybookError naming file, line and field."""
    try:
        data, lines = parse_yaml_with_lines(text, file)
    except DataFileError as exc:
        raise PlaybookError(exc.issues) from None
    if not isinstance(data, dict):
        raise PlaybookError([PlaybookIssue(file, 1, "", "a playbook is a mapping of fields")])
    try:
        return Playbook.model_validate(data)
    except ValidationError as exc:
        raise PlaybookError(validation_issues(exc, file, lines)) from None


def load_file(path: Path) -> Playbook:
    try:
        text = read_text(path)
    except DataFileError as exc:
        raise PlaybookError(exc.issues) from None
    return parse_playbook(text, str(path))


def load_directories(directories: Iterable[Path]) -> list[Playbook]:
    """Every *.yaml playbook in the directories; later directories override earlier ids.

    All problems in all files are collected and raised together, so one run shows them all.
    """
    by_id: dict[str, Playbook] = {}
    issues: list[PlaybookIssue] = []
    for directory in directories:
        for path in sorted(Path(directory).glob("*.y*ml")):
            try:
                playbook = load_file(path)
            except PlaybookError as exc:
                issues.extend(exc.issues)
                continue
            by_id[playbook.id] = playbook
    if issues:
        raise PlaybookError(issues)
    return sorted(by_id.values(), key=lambda p: (p.harm_type.value, p.id))
