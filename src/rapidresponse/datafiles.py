"""Data files people edit (playbooks, the rulebook, the policy catalogue): YAML in, plain data
out, and every problem located as ``file:line: field: message``.

PyYAML's node tree keeps the line of every value; ``parse_yaml_with_lines`` builds the data
and a map from each value's path to its line, so a pydantic error at ``tasks.3.due`` can be
reported at the line people must fix. Cross-field checks name the field they concern by
starting their message with its path ("tasks.3.after: …"). Pure: no I/O beyond reading the
file asked for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

YamlPath = tuple[str | int, ...]
_PATH_PREFIX = re.compile(r"^([a-z_]+(?:\.[a-z0-9_]+)*): (.*)$", re.DOTALL)


@dataclass(frozen=True)
class DataFileIssue:
    """One problem in a data file, located as precisely as the YAML allows."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class DataFileError(ValueError):
    def __init__(self, issues: list[DataFileIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


class _DuplicateKey(Exception):
    def __init__(self, line: int, path: str) -> None:
        self.line = line
        self.path = path


def _construct(node: yaml.Node, path: YamlPath, lines: dict[YamlPath, int]) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in result:
                raise _DuplicateKey(key_node.start_mark.line + 1, ".".join(map(str, (*path, key))))
            result[key] = _construct(value_node, (*path, key), lines)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(child, (*path, i), lines) for i, child in enumerate(node.value)]
    # Dates stay strings (pydantic parses them); everything else as the safe loader would.
    if node.tag == "tag:yaml.org,2002:timestamp":
        return node.value
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def parse_yaml_with_lines(text: str, file: str) -> tuple[Any, dict[YamlPath, int]]:
    """Parse YAML text into plain data and a map from each value's path to its line.

    Raises DataFileError (file, line, message) for syntax errors, an empty document and
    duplicate keys.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise DataFileError(
            [DataFileIssue(file, line, "", f"YAML syntax: {exc.problem}")]
        ) from None
    if node is None:
        raise DataFileError([DataFileIssue(file, 1, "", "the file is empty")])
    lines: dict[YamlPath, int] = {}
    try:
        data = _construct(node, (), lines)
    except _DuplicateKey as exc:
        raise DataFileError([DataFileIssue(file, exc.line, exc.path, "duplicate key")]) from None
    return data, lines


def read_text(path: Path) -> str:
    """A data file's text; DataFileError naming the file when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError([DataFileIssue(str(path), None, "", f"cannot read: {exc}")]) from None


def read_yaml_with_lines(path: Path) -> tuple[Any, dict[YamlPath, int]]:
    """``parse_yaml_with_lines`` of a file (unreadable files are DataFileErrors too)."""
    return parse_yaml_with_lines(read_text(path), str(path))


def line_for(path: YamlPath, lines: dict[YamlPath, int]) -> int | None:
    """The line of ``path`` or of its nearest enclosing value."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


def validation_issues(
    exc: ValidationError, file: str, lines: dict[YamlPath, int], prefix: YamlPath = ()
) -> list[DataFileIssue]:
    """Pydantic errors as file:line: field issues; ``prefix``: where the model sits in the file."""
    issues = []
    for error in exc.errors():
        loc: YamlPath = tuple(error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        located = _PATH_PREFIX.match(message)
        if located:  # a cross-field check names the field it concerns
            loc = (*loc, *(int(p) if p.isdigit() else p for p in located[1].split(".")))
            message = located[2]
        full = (*prefix, *loc)
        issues.append(DataFileIssue(file, line_for(full, lines), ".".join(map(str, full)), message))
    return issues


def yaml_files(paths: Iterable[Path]) -> list[Path]:
    """The files named, and every *.yaml file in the directories named, in a stable order."""
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        files.extend(sorted(path.glob("*.y*ml")) if path.is_dir() else [path])
    return files
