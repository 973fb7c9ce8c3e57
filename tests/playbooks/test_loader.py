"""Playbook files: errors name the file, line and field; the format is exported as JSON Schema."""

from __future__ import annotations

import json
import textwrap

import jsonschema_rs
import pytest
import yaml

from rapidresponse.incidents.schemas import ParticipantRole
from rapidresponse.playbooks.loader import LIBRARY, PlaybookError, load_directories, parse_playbook
from rapidresponse.playbooks.schema import Playbook

VALID = textwrap.dedent("""\
    id: test-playbook
    version: 2
    harm_type: hate_speech
    title: Coordinated hate raid
    summary: A raid on a creator's comments.
    reviewed: "2026-11-25"
    sources:
      - title: Example
        url: https://example.org/guide
    roles:
      - role: incident_commander
        function: trust_safety
        why: Someone leads.
    tasks:
      - id: find-raid
        title: Find the raiding accounts
        why: Stop the source.
        owner_role: ts_operations
        due: 30m
        category: assess
      - id: protect-target
        title: Turn on comment filters for the target
        why: Protect the person.
        owner_role: ts_operations
        due: 1h
        after: [find-raid]
        category: containment
    exit_criteria: [Raid traffic back to baseline for 24 hours.]
""")


def broken(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new)


def test_a_valid_playbook_loads():
    playbook = parse_playbook(VALID, "raid.yaml")
    assert playbook.id == "test-playbook"
    assert [t.id for t in playbook.tasks] == ["find-raid", "protect-target"]
    assert playbook.cadence.SEV0 == "30m"  # defaults apply


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        (broken("due: 30m", "due: half an hour"), 19, "tasks.0.due", "is not a duration"),
        (broken("harm_type: hate_speech", "harm_type: spam"), 3, "harm_type", "hate_speech"),
        (
            broken(
                "    owner_role: ts_operations\n    due: 1h", "    owner_role: janitor\n    due: 1h"
            ),
            24,
            "tasks.1.owner_role",
            "incident_commander",
        ),
        (
            broken("after: [find-raid]", "after: [nowhere]"),
            26,
            "tasks.1.after",
            "unknown task(s): nowhere",
        ),
        (broken("id: protect-target", "id: find-raid"), 21, "tasks.1.id", "already used"),
        (
            broken("url: https://example.org/guide", "url: ftp://example.org"),
            9,
            "sources.0.url",
            "pattern",
        ),
        (broken("version: 2", "version: 2\nlegacy: true"), 3, "legacy", "Extra inputs"),
    ],
)
def test_errors_name_file_line_and_field(text, line, field, message):
    with pytest.raises(PlaybookError) as caught:
        parse_playbook(text, "raid.yaml")
    issues = caught.value.issues
    assert any(
        i.file == "raid.yaml"
        and i.line == line
        and i.field.startswith(field)
        and message in i.message
        for i in issues
    ), [str(i) for i in issues]
    assert str(caught.value).startswith("raid.yaml:")


def test_yaml_syntax_errors_and_duplicate_keys_have_lines():
    with pytest.raises(PlaybookError) as caught:
        parse_playbook(
            VALID.replace("title: Coordinated hate raid", "title: [unclosed"), "raid.yaml"
        )
    assert caught.value.issues[0].line is not None
    assert "YAML syntax" in caught.value.issues[0].message
    with pytest.raises(PlaybookError) as caught:
        parse_playbook(VALID.replace("version: 2", "version: 2\nversion: 3"), "raid.yaml")
    assert (caught.value.issues[0].line, caught.value.issues[0].message) == (3, "duplicate key")


def test_dependency_cycles_are_rejected():
    text = broken(
        "    due: 30m\n    category: assess",
        "    due: 30m\n    after: [protect-target]\n    category: assess",
    )
    with pytest.raises(PlaybookError, match="cycle: find-raid -> protect-target -> find-raid"):
        parse_playbook(text, "raid.yaml")


def test_a_directory_reports_every_broken_file_and_later_directories_override(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (first / "raid.yaml").write_text(VALID)
    (second / "raid.yaml").write_text(VALID.replace("version: 2", "version: 3"))
    assert [p.version for p in load_directories([first, second])] == [3]
    (first / "bad1.yaml").write_text(broken("due: 30m", "due: soon"))
    (first / "bad2.yaml").write_text("")
    with pytest.raises(PlaybookError) as caught:
        load_directories([first, second])
    files = sorted({i.file.rsplit("/", 1)[-1] for i in caught.value.issues})
    assert files == ["bad1.yaml", "bad2.yaml"]


def test_exported_json_schema_accepts_the_library_and_rejects_garbage():
    schema = Playbook.model_json_schema()
    validator = jsonschema_rs.validator_for(json.loads(json.dumps(schema)))
    files = sorted(LIBRARY.glob("*.yaml"))
    assert files
    for path in files:
        data = yaml.safe_load(path.read_text())
        assert validator.is_valid(data), path.name
    assert not validator.is_valid({"id": "x"})


def test_the_cli_validates_directories(tmp_path):
    from typer.testing import CliRunner

    from rapidresponse.cli import app

    (tmp_path / "bad.yaml").write_text(broken("due: 30m", "due: soon"))
    result = CliRunner().invoke(app, ["playbook", "validate", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{tmp_path / 'bad.yaml'}:19: tasks.0.due:" in result.output
    ok = CliRunner().invoke(app, ["playbook", "validate", str(LIBRARY)])
    assert ok.exit_code == 0, ok.output


def test_region_typos_and_repeated_checks_are_caught():
    with_regions = VALID.replace(
        "exit_criteria:",
        "regulatory:\n  - check: uk_osa_illegal_content\n    regions: [UK]\n    why: Law.\n"
        "exit_criteria:",
    )
    with pytest.raises(PlaybookError, match="use GB for the United Kingdom"):
        parse_playbook(with_regions, "raid.yaml")
    repeated = VALID.replace(
        "exit_criteria:",
        "regulatory:\n  - check: eu_dsa_order\n    regions: [EU]\n    why: Law.\n"
        "  - check: eu_dsa_order\n    regions: [DE]\n    why: Law.\nexit_criteria:",
    )
    with pytest.raises(PlaybookError) as caught:
        parse_playbook(repeated, "raid.yaml")
    assert caught.value.issues[0].field == "regulatory.1.check"
    assert caught.value.issues[0].line == 32


def test_every_harm_type_has_a_playbook_that_staffs_its_own_tasks():
    from rapidresponse.incidents.severity import Severity
    from rapidresponse.incidents.taxonomy import HarmType
    from rapidresponse.playbooks.planner import applies

    playbooks = load_directories([LIBRARY])
    assert {p.harm_type for p in playbooks} == set(HarmType)
    for playbook in playbooks:
        for severity in Severity:
            staffed = {r.role for r in playbook.roles if applies(r.min_severity, severity)}
            owners = {t.owner_role for t in playbook.tasks if applies(t.min_severity, severity)}
            if any(applies(c.min_severity, severity) for c in playbook.regulatory):
                owners.add(ParticipantRole.LEGAL)
            assert owners <= staffed, (playbook.id, severity, owners - staffed)
            for task in playbook.tasks:
                assert task.why.strip(), (playbook.id, task.id)
