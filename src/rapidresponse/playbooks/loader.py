"""Reading playbook files: YAML in, validated ``Playbook`` out, errors with file, line and field.

PyYAML's node tree keeps the line of every value; the loader builds the data and a map from
each value's path to its line, so a pydantic error at ``tasks.3.due`` can be reported as
``violent-extremism.yaml:57: tasks.3.due: '1 hour' is not a duration``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from rapidresponse.playbooks.schema import Playbook

Path_ = tuple[str | int, ...]
_PATH_PREFIX = re.compile(r"^([a-z_]+(?:\.[a-z0-9_]+)*): (.*)$", re.DOTALL)
LIBRARY = Path(__file__).parent / "library"


@dataclass(frozen=True)
class PlaybookIssue:
    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class PlaybookError(ValueError):
    def __init__(self, issues: list[PlaybookIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


def _construct(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in result:
                raise PlaybookError(
                    [
                        PlaybookIssue(
                            "",
                            key_node.start_mark.line + 1,
                            ".".join(map(str, (*path, key))),
                            "duplicate key",
                        )
                    ]
                )
            result[key] = _construct(value_node, (*path, key), lines)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(child, (*path, i), lines) for i, child in enumerate(node.value)]
    # Scalars: let the safe constructor resolve ints, bools, nulls; dates stay strings.
    if node.tag == "tag:yaml.org,2002:timestamp":
        return node.value
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def _line_for(loc: tuple[Any, ...], lines: dict[Path_, int]) -> int | None:
    path: Path_ = tuple(loc)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


def parse_playbook(text: str, file: str) -> Playbook:
    """Validate one playbook's YAML text; raise PlaybookError naming file, line and field."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise PlaybookError(
            [PlaybookIssue(file, line, "", f"YAML syntax: {exc.problem}")]
        ) from None
    if node is None:
        raise PlaybookError([PlaybookIssue(file, 1, "", "the file is empty")])
    lines: dict[Path_, int] = {}
    try:
        data = _construct(node, (), lines)
    except PlaybookError as exc:
        raise PlaybookError(
            [PlaybookIssue(file, i.line, i.field, i.message) for i in exc.issues]
        ) from None
    if not isinstance(data, dict):
        raise PlaybookError([PlaybookIssue(file, 1, "", "a playbook is a mapping of fields")])
    try:
        return Playbook.model_validate(data)
    except ValidationError as exc:
        issues = []
        for error in exc.errors():
            loc: tuple[Any, ...] = tuple(error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
            located = _PATH_PREFIX.match(message) if not loc else None
            if located:  # a cross-field check names the path it concerns
                loc = tuple(int(p) if p.isdigit() else p for p in located[1].split("."))
                message = located[2]
            issues.append(
                PlaybookIssue(file, _line_for(loc, lines), ".".join(map(str, loc)), message)
            )
        raise PlaybookError(issues) from None


def load_file(path: Path) -> Playbook:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlaybookError([PlaybookIssue(str(path), None, "", f"cannot read: {exc}")]) from None
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
