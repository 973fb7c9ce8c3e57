"""The `rapidresponse` CLI against a real database: tables for people, JSON for scripts."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rapidresponse.cli import app
from rapidresponse.cli_support import CliContext, set_context
from rapidresponse.settings import Settings


@pytest.fixture
def rr(db, app_settings: Settings, clock):
    set_context(
        CliContext(settings=app_settings.model_copy(update={"actor": "alice"}), clock=clock)
    )
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True):
        result = runner.invoke(app, list(args))
        if ok:
            assert result.exit_code == 0, result.output
        return result

    yield invoke
    set_context(None)


def declare(rr, *extra: str) -> dict:
    result = rr(
        "incident",
        "declare",
        "--title",
        "Dangerous blackout challenge",
        "--harm-type",
        "dangerous_challenges",
        "--region",
        "US,gb",
        "--region",
        "BR",
        "--language",
        "en",
        "--surface",
        "feed",
        "--views",
        "400000",
        "--views-per-hour",
        "20000",
        "--minors",
        "--json",
        *extra,
    )
    return json.loads(result.stdout)


def test_declare_list_show_as_json(rr):
    incident = declare(rr)
    assert incident["key"] == "INC-2026-0001"
    assert incident["regions"] == ["US", "GB", "BR"]
    assert incident["created_by"] == "alice"
    listed = json.loads(rr("incident", "list", "--json").stdout)
    assert listed["total"] == 1
    assert listed["items"][0]["key"] == "INC-2026-0001"
    shown = json.loads(rr("incident", "show", "inc-2026-0001", "--json").stdout)
    assert shown["participants"][0]["role"] == "incident_commander"
    assert shown["timeline"][0]["kind"] == "declared"


def test_human_output_is_a_table(rr):
    declare(rr)
    out = rr("incident", "list").stdout
    assert "INC-2026-0001" in out
    assert "1 incident(s)" in out


def test_update_status_severity_note_task_participant(rr):
    declare(rr)
    key = "INC-2026-0001"
    updated = json.loads(rr("incident", "update", key, "--press", "major", "--json").stdout)
    assert updated["impact"]["press_attention"] == "major"
    assert updated["version"] == 2
    rr("incident", "status", key, "triaged")
    rr("incident", "severity", key, "--override", "SEV0", "--reason", "Child deaths reported")
    rr("incident", "note", key, "Search intervention live in US", "--decision")
    rr(
        "incident",
        "task",
        "add",
        key,
        "Age-gate challenge hashtag",
        "--owner",
        "bob",
        "--due",
        "2026-11-25T12:00:00+00:00",
    )
    tasks = json.loads(rr("incident", "task", "list", key, "--json").stdout)
    manual = next(t for t in tasks if t["title"] == "Age-gate challenge hashtag")
    assert manual["playbook_step"] is None
    rr("incident", "task", "update", key, str(manual["id"]), "--status", "done")
    rr("incident", "participant", "add", key, "carol", "communications")
    shown = json.loads(rr("incident", "show", key, "--json").stdout)
    assert shown["incident"]["status"] == "triaged"
    assert shown["incident"]["severity"]["level"] == "SEV0"
    by_id = {t["id"]: t for t in shown["tasks"]}
    assert by_id[manual["id"]]["status"] == "done"
    assert {p["user"] for p in shown["participants"]} == {"alice", "carol"}
    kinds = [e["kind"] for e in shown["timeline"]]
    # Planned at declaration (SEV1) and re-planned when major press made it SEV0; the
    # override to SEV0 changed nothing, so nothing was re-planned.
    assert kinds.count("playbook_planned") == 2
    assert [k for k in kinds if k != "playbook_planned"] == [
        "declared",
        "updated",
        "severity_changed",
        "status_changed",
        "severity_overridden",
        "decision",
        "task_added",
        "task_updated",
        "participant_added",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["incident", "declare", "--title", "t", "--harm-type", "hate_speech", "--region", "EU"],
            "member states",
        ),
        (
            [
                "incident",
                "declare",
                "--title",
                "t",
                "--harm-type",
                "hate_speech",
                "--region",
                "DE",
                "--language",
                "not a tag",
            ],
            "BCP 47",
        ),
        (["incident", "show", "INC-2026-0404"], "no incident INC-2026-0404"),
        (["incident", "status", "INC-2026-0001", "closed"], "cannot move an incident"),
        (["incident", "severity", "INC-2026-0001", "--reason", "because"], "--override"),
        (["token", "revoke", "999"], "no API token with id 999"),
    ],
)
def test_errors_are_one_line_and_non_zero(rr, args, message):
    declare(rr)
    result = rr(*args, ok=False)
    assert result.exit_code != 0
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_bad_input_changes_nothing(rr):
    declare(rr)
    rr("incident", "update", "INC-2026-0001", "--region", "XX", ok=False)
    shown = json.loads(rr("incident", "show", "INC-2026-0001", "--json").stdout)
    assert shown["incident"]["regions"] == ["US", "GB", "BR"]
    assert shown["incident"]["version"] == 1


def test_token_lifecycle_and_audit_verify(rr, client):
    created = json.loads(
        rr("token", "create", "--subject", "dana", "--role", "responder", "--json").stdout
    )
    secret = created["token"]
    assert secret.startswith("rr_")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.json() == {"subject": "dana", "role": "responder", "token_id": created["id"]}
    listing = rr("token", "list").stdout
    assert "dana" in listing
    assert secret not in listing
    rr("token", "revoke", str(created["id"]))
    revoked = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert revoked.status_code == 401
    assert "revoked" in revoked.json()["detail"]
    assert "audit log intact: 2 entries" in " ".join(rr("audit", "verify").stdout.split())


def test_harm_types_table(rr):
    out = rr("incident", "harm-types").stdout
    assert "child_sexual_exploitation" in out
    rows = {r["harm_type"]: r for r in json.loads(rr("incident", "harm-types", "--json").stdout)}
    assert rows["child_sexual_exploitation"]["dsa_category"] == (
        "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    )


def test_demo_sets_up_seeds_once_and_prints_a_working_token(
    rr, client, tmp_path, app_settings, clock
):
    settings = app_settings.model_copy(update={"demo_token_file": tmp_path / "token"})
    set_context(CliContext(settings=settings, clock=clock))
    result = rr("demo", "--no-serve")
    assert "Seeded sample incidents: INC-2026-0001, INC-2026-0002, INC-2026-0003" in result.output
    token = (tmp_path / "token").read_text().strip()
    assert token in result.output.replace("\n", "")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["role"] == "admin"
    again = rr("demo", "--no-serve")
    assert "Seeded" not in again.output
    assert token in again.output.replace("\n", "")  # the same token is reused
    listing = client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {token}"})
    assert listing.json()["total"] == 3
    tasks = client.get(
        "/api/v1/incidents/INC-2026-0001/tasks", headers={"Authorization": f"Bearer {token}"}
    ).json()
    by_step = {t["playbook_step"]: t for t in tasks}
    assert by_step["stop-live-stream"]["status"] == "done"
    assert by_step["hash-footage"]["overdue"] is True  # the demo opens mid-crisis, work is late
    assert by_step["hash-footage"]["owner"] == "tom.eng"  # the engineering role holder
    pages = client.get(
        "/api/v1/pages?incident=INC-2026-0001", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert {p["escalation_policy"] for p in pages} == {"ts-escalation", "exec-escalation"}
    on_call = client.get(
        "/api/v1/teams/ts/oncall?at=2026-11-25T10:00:00Z",
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert on_call["person"] in {"dee.dublin", "dan.dublin"}  # Dublin's working day


def test_serve_and_worker_refuse_an_unmigrated_database(tmp_path, clock):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}", worker_mode="off")
    set_context(CliContext(settings=settings, clock=clock))
    try:
        for command in (["serve"], ["worker", "--once"]):
            result = CliRunner().invoke(app, command)
            assert result.exit_code == 2
            assert "run `rapidresponse db upgrade`" in " ".join(result.output.split())
            assert "Traceback" not in result.output
    finally:
        set_context(None)


def test_audit_head_prints_the_anchor_to_keep_elsewhere(rr):
    declare(rr)
    out = rr("audit", "head").stdout.split()
    seq, digest = int(out[0]), out[1]
    verified = " ".join(rr("audit", "verify").stdout.split())
    assert f"intact: {seq} entries" in verified
    assert len(digest) == 64
