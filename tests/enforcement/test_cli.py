"""`rapidresponse content|action|compliance|policy …` against a real database."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from rapidresponse.cli import app
from rapidresponse.cli_support import CliContext, set_context
from rapidresponse.clock import ManualClock
from rapidresponse.db import transaction
from rapidresponse.incidents import service as incidents
from rapidresponse.incidents.schemas import IncidentCreate
from rapidresponse.settings import Settings
from tests.conftest import ADMIN, incident_body

Invoke = Callable[..., Result]


def said(result: Result) -> str:
    return " ".join(result.output.split())


@pytest.fixture
def as_actor(app_settings: Settings, clock: ManualClock) -> Iterator[Callable[[str], Invoke]]:
    runner = CliRunner()

    def actor(name: str) -> Invoke:
        def invoke(*args: str, ok: bool = True) -> Result:
            set_context(
                CliContext(
                    settings=app_settings.model_copy(
                        update={"actor": name, "approval_threshold": 3}
                    ),
                    clock=clock,
                )
            )
            result = runner.invoke(app, list(args))
            if ok:
                assert result.exit_code == 0, result.output
            return result

        return invoke

    yield actor
    set_context(None)


@pytest.fixture
def key(db: sessionmaker[Session], clock: ManualClock) -> str:
    with transaction(db) as session:
        return incidents.declare(
            session, ADMIN, IncidentCreate.model_validate(incident_body()), clock.now()
        ).key


def test_cluster_bulk_action_and_statements_from_the_terminal(
    as_actor: Callable[[str], Invoke], key: str, tmp_path: Path
) -> None:
    alice, bob = as_actor("alice"), as_actor("bob")
    lines = [
        json.dumps({"external_id": f"v{i}", "account_id": "a1", "regions": ["DE"]})
        for i in range(4)
    ]
    lines.insert(2, "{not json")
    lines.append(json.dumps({"external_id": "bad id!"}))
    cluster = tmp_path / "cluster.jsonl"
    cluster.write_text("\n".join(lines) + "\n")
    rejects = tmp_path / "rejects.jsonl"
    added = alice("content", "add", key, str(cluster), "--rejects", str(rejects))
    assert "4 added, 0 updated, 2 rejected" in said(added)
    assert [json.loads(line)["line"] for line in rejects.read_text().splitlines()] == [3, 6]
    csv_file = tmp_path / "more.csv"
    csv_file.write_text("external_id,regions,views\nv9,DE;FR,12\n")
    assert "1 added" in said(alice("content", "add", key, str(csv_file)))

    planned = json.loads(
        alice(
            "action",
            "plan",
            key,
            "--action",
            "geo_restrict",
            "--region",
            "DE",
            "--region",
            "FR",
            "--section",
            "VE-1",
            "--explanation",
            "Attack footage glorifying the attack",
            "--json",
        ).stdout
    )
    action_id = str(planned["id"])
    assert planned["status"] == "awaiting_approval"
    assert planned["blast_radius"]["items"] == 5
    refused = alice("action", "approve", key, action_id, ok=False)
    assert refused.exit_code == 2
    assert "two-person" in said(refused)
    assert "approve it first" in said(alice("action", "run", key, action_id, ok=False))
    bob("action", "approve", key, action_id)
    ran = json.loads(alice("action", "run", key, action_id, "--json").stdout)
    assert ran["status"] == "completed"
    assert ran["progress"]["statements"] == 5
    (listed,) = json.loads(alice("action", "list", key, "--json").stdout)
    assert listed["status"] == "completed"
    items = json.loads(alice("content", "list", key, "--json").stdout)
    assert {tuple(i["state"]["blocked_in"]) for i in items} == {("DE", "FR")}
    alice("action", "list", key)
    alice("content", "list", key)

    out = tmp_path / "sor.jsonl"
    exported = alice("compliance", "statements", key, "--out", str(out))
    assert "5 statement(s) written" in said(exported)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["puid"] for r in records} == {"v0", "v1", "v2", "v3", "v9"}

    rolled = json.loads(
        alice("action", "rollback", key, action_id, "--reason", "Order withdrawn", "--json").stdout
    )
    assert rolled["status"] == "rolled_back"
    assert rolled["progress"]["reverted"] == 5


def test_triggers_obligations_and_report_drafts_from_the_terminal(
    as_actor: Callable[[str], Invoke], key: str, clock: ManualClock
) -> None:
    alice = as_actor("alice")
    started = json.loads(
        alice(
            "compliance",
            "trigger",
            key,
            "terrorist_content_removal_order",
            "--region",
            "DE",
            "--at",
            "2026-11-25T10:00:00+00:00",
            "--reference",
            "BKA-1",
            "--json",
        ).stdout
    )
    removal_due = {o["rule_id"]: o["due_at"] for o in started}["eu-tco-art3-removal"]
    assert removal_due == "2026-11-25T11:00:00Z"
    obligations: list[dict[str, Any]] = json.loads(
        alice("compliance", "obligations", key, "--json").stdout
    )
    removal = next(o for o in obligations if o["rule_id"] == "eu-tco-art3-removal")
    done = json.loads(
        alice(
            "compliance",
            "complete",
            key,
            str(removal["id"]),
            "--evidence",
            "Removed in every Member State",
            "--ref",
            "T-1",
            "--json",
        ).stdout
    )
    assert done["state"] == "met"
    assert done["evidence"]["references"] == ["T-1"]
    again = alice(
        "compliance", "complete", key, str(removal["id"]), "--evidence", "again", ok=False
    )
    assert again.exit_code == 2
    assert "already met" in said(again)
    due = json.loads(alice("compliance", "due", "--json").stdout)
    assert due
    assert "eu-tco-art3-removal" not in {o["rule_id"] for o in due}
    assert {o["incident"] for o in due} == {key}
    alice("compliance", "due")
    rules = json.loads(alice("compliance", "rules", "--jurisdiction", "EU", "--json").stdout)
    assert "eu-tco-art3-removal" in {r["id"] for r in rules}
    assert {r["jurisdiction"] for r in rules} == {"EU"}
    alice("compliance", "rules")

    alice("compliance", "trigger", key, "threat_to_life_identified", "--region", "FR")
    (draft,) = json.loads(alice("compliance", "reports", key, "--json").stdout)
    assert "DRAFT" in said(alice("compliance", "report", key, str(draft["id"])))
    early = alice("compliance", "submitted", key, str(draft["id"]), "--reference", "X", ok=False)
    assert early.exit_code == 2
    assert "reviewed" in said(early)
    alice("compliance", "review", key, str(draft["id"]))
    assert "recorded as submitted" in said(
        alice("compliance", "submitted", key, str(draft["id"]), "--reference", "Police ref 9")
    )
    bad = alice("compliance", "trigger", key, "no_such_trigger", ok=False)
    assert bad.exit_code == 2


def test_policy_catalogue_from_the_terminal(as_actor: Callable[[str], Invoke]) -> None:
    alice = as_actor("alice")
    overview = json.loads(alice("policy", "--json").stdout)
    assert len(overview) == 10
    alice("policy")
    hate = said(alice("policy", "hate_speech"))
    assert "DE" in hate
    assert "130" in hate
