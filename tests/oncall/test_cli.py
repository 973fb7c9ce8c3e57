"""`rapidresponse oncall …` against a real database."""

from __future__ import annotations

import json
from pathlib import Path

import icalendar
import pytest
import yaml
from typer.testing import CliRunner

from rapidresponse.cli import app
from rapidresponse.cli_support import CliContext, set_context
from rapidresponse.settings import Settings
from tests.oncall import follow_the_sun as fts
from tests.oncall.follow_the_sun import utc


@pytest.fixture
def rr(db, app_settings: Settings, clock):
    set_context(
        CliContext(settings=app_settings.model_copy(update={"actor": "alice"}), clock=clock)
    )
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True):
        result = runner.invoke(app, ["oncall", *args])
        if ok:
            assert result.exit_code == 0, result.output
        return result

    yield invoke
    set_context(None)


@pytest.fixture
def scheduled(rr, tmp_path: Path) -> Path:
    for handle in (*fts.PEOPLE, "mgr"):
        rr(
            "person",
            "add",
            handle,
            "--name",
            handle.capitalize(),
            "--timezone",
            fts.ZONES.get(handle, "Europe/Dublin"),
            "--email",
            f"{handle}@example.org",
        )
    path = tmp_path / "schedule.yaml"
    path.write_text(yaml.safe_dump(fts.api_body()))
    rr("schedule", "create", "--file", str(path))
    return tmp_path


def test_who_is_on_call_is_one_command(rr, scheduled):
    out = json.loads(
        rr("who", "--schedule", "ts-follow-the-sun", "--at", "2026-03-17T09:30Z", "--json").stdout
    )
    assert (out["person"], out["layer"]) == ("bea", "emea-backup")
    table = rr("who", "--at", "2026-03-17T02:00:00+00:00").stdout
    assert "ts-follow-the-sun" in table
    assert "sid" in table
    naive = rr("who", "--at", "2026-03-17T02:00", ok=False)
    assert naive.exit_code != 0
    assert "needs a zone" in naive.output


def test_final_schedule_handoffs_and_ical_file(rr, scheduled):
    final = json.loads(
        rr(
            "schedule",
            "final",
            "ts-follow-the-sun",
            "--start",
            "2026-03-17T00:00Z",
            "--end",
            "2026-03-18T00:00Z",
            "--json",
        ).stdout
    )
    assert [s["person"] for s in final["segments"]] == ["sid", "bea", "abe", "gail"]
    table = rr(
        "schedule",
        "handoffs",
        "ts-follow-the-sun",
        "--start",
        "2026-03-17T00:00Z",
        "--end",
        "2026-03-18T00:00Z",
        "--tz",
        "Europe/Dublin",
    ).stdout
    assert "3 handoff(s)" in table
    assert "2026-03-17 08:00 GMT" in table
    target = scheduled / "fts.ics"
    rr(
        "schedule",
        "ical",
        "ts-follow-the-sun",
        "--out",
        str(target),
        "--start",
        "2026-03-17T00:00Z",
        "--end",
        "2026-03-18T00:00Z",
    )
    events = icalendar.Calendar.from_ical(target.read_bytes()).walk("VEVENT")
    assert [e.decoded("dtstart") for e in events] == [
        utc(2026, 3, 17),
        utc(2026, 3, 17, 8),
        utc(2026, 3, 17, 16),
        utc(2026, 3, 17, 23),
    ]
    shown = rr("schedule", "show", "ts-follow-the-sun").stdout
    assert "IE holidays" in shown


def test_teams_policies_rules_route_and_pages(rr, scheduled, clock):
    rr(
        "policy",
        "create",
        "--slug",
        "ts-primary",
        "--name",
        "T&S primary",
        "--level",
        "15:schedule:ts-follow-the-sun",
        "--level",
        "10:person:mgr",
    )
    rr(
        "team",
        "add",
        "ts-ops",
        "--name",
        "T&S operations",
        "--function",
        "trust_safety",
        "--member",
        "sid,dee",
        "--schedule",
        "ts-follow-the-sun",
        "--policy",
        "ts-primary",
    )
    rr(
        "rule",
        "add",
        "Terror in the EU",
        "--team",
        "ts-ops",
        "--harm-type",
        "violent_extremism",
        "--region",
        "EU",
    )
    route = json.loads(
        rr(
            "route",
            "--harm-type",
            "violent_extremism",
            "--severity",
            "SEV1",
            "--region",
            "DE",
            "--at",
            "2026-03-17T02:00Z",
            "--json",
        ).stdout
    )
    assert [r["person"] for r in route["engagements"][0]["first_responders"]] == ["sid"]
    nobody = rr("route", "--harm-type", "hate_speech", "--severity", "SEV3", "--region", "US")
    assert "nobody would be engaged" in nobody.stdout
    team = json.loads(rr("who", "--team", "ts-ops", "--at", "2026-03-17T02:00Z", "--json").stdout)
    assert team["person"] == "sid"

    clock.set(utc(2026, 3, 17, 2))
    page = json.loads(
        rr(
            "page", "trigger", "--policy", "ts-primary", "--summary", "Attack video", "--json"
        ).stdout
    )
    assert [n["person"] for n in page["notifications"]] == ["sid"]
    assert "acknowledged by alice" in rr("page", "ack", str(page["id"])).stdout
    listed = json.loads(rr("page", "list", "--status", "acknowledged", "--json").stdout)
    assert [p["id"] for p in listed] == [page["id"]]


def test_errors_are_one_line_and_nonzero(rr, scheduled):
    bad = rr("person", "add", "zed", "--name", "Zed", "--timezone", "Mars/Base", ok=False)
    assert bad.exit_code == 2
    assert "not an IANA time zone" in bad.output
    missing = rr("who", "--schedule", "nope", ok=False)
    assert "no schedule 'nope'" in missing.output
    busy = rr("person", "update", "sid", "--inactive", ok=False)
    assert "still on call in: schedule ts-follow-the-sun layer singapore" in busy.output


def test_every_listing_and_edit_from_the_terminal(rr, scheduled, clock):
    # People
    rr("person", "update", "mgr", "--name", "Duty Manager", "--timezone", "Europe/London")
    assert "Duty Manager" in rr("person", "show", "mgr").stdout
    listed = rr("person", "list").stdout
    assert "10 people" in listed
    shifts = json.loads(
        rr(
            "person",
            "shifts",
            "bea",
            "--start",
            "2026-03-17T00:00Z",
            "--end",
            "2026-03-18T00:00Z",
            "--json",
        ).stdout
    )
    assert [(s["schedule"], s["start"]) for s in shifts] == [
        ("ts-follow-the-sun", "2026-03-17T08:00:00Z")
    ]
    assert (
        "bea"
        in rr(
            "person", "shifts", "bea", "--start", "2026-03-17T00:00Z", "--end", "2026-03-18T00:00Z"
        ).stdout
    )
    ics = scheduled / "bea.ics"
    rr(
        "person",
        "ical",
        "bea",
        "--out",
        str(ics),
        "--start",
        "2026-03-17T00:00Z",
        "--end",
        "2026-03-18T00:00Z",
    )
    assert len(icalendar.Calendar.from_ical(ics.read_bytes()).walk("VEVENT")) == 1

    # Policies from a file, teams, rules
    policy_file = scheduled / "policy.json"
    policy_file.write_text(
        json.dumps(
            {
                "slug": "legal-oncall",
                "name": "Legal on call",
                "levels": [{"wait_minutes": 5, "targets": [{"person": "dee"}]}],
            }
        )
    )
    rr("policy", "create", "--file", str(policy_file))
    (scheduled / "patch.yaml").write_text("repeat: 2\n")
    assert (
        json.loads(
            rr(
                "policy",
                "update",
                "legal-oncall",
                "--file",
                str(scheduled / "patch.yaml"),
                "--json",
            ).stdout
        )["repeat"]
        == 2
    )
    assert "Legal on call" in rr("policy", "list").stdout
    assert json.loads(rr("policy", "show", "legal-oncall").stdout)["levels"][0]["wait_minutes"] == 5
    rr(
        "team",
        "add",
        "legal",
        "--name",
        "Legal",
        "--function",
        "legal",
        "--member",
        "dee",
        "--policy",
        "legal-oncall",
    )
    rr("team", "update", "legal", "--member", "dee,dan", "--description", "Counsel on call")
    assert json.loads(rr("team", "show", "legal", "--json").stdout)["members"] == ["dee", "dan"]
    assert "legal-oncall" in rr("team", "list").stdout
    rule = json.loads(
        rr(
            "rule",
            "add",
            "CSE",
            "--team",
            "legal",
            "--harm-type",
            "child_sexual_exploitation",
            "--min-severity",
            "SEV1",
            "--stop",
            "--json",
        ).stdout
    )
    assert "SEV1+" in rr("rule", "list").stdout
    assert "routing rules engage team legal" in rr("team", "delete", "legal", ok=False).output
    rr("rule", "remove", str(rule["id"]))
    rr("team", "delete", "legal")

    # Schedules and overrides
    (scheduled / "rename.yaml").write_text("name: Follow the sun (renamed)\n")
    rr("schedule", "update", "ts-follow-the-sun", "--file", str(scheduled / "rename.yaml"))
    assert "renamed" in rr("schedule", "list").stdout
    override = json.loads(
        rr(
            "override",
            "add",
            "--schedule",
            "ts-follow-the-sun",
            "--person",
            "mgr",
            "--start",
            "2026-03-17T09:00Z",
            "--end",
            "2026-03-17T10:00Z",
            "--reason",
            "swap",
            "--json",
        ).stdout
    )
    assert "1 override(s)" in rr("override", "list", "--schedule", "ts-follow-the-sun").stdout
    listed = json.loads(rr("override", "list", "--json").stdout)
    assert [(o["person"], o["reason"]) for o in listed] == [("mgr", "swap")]
    assert (
        "mgr"
        in rr(
            "schedule",
            "final",
            "ts-follow-the-sun",
            "--start",
            "2026-03-17T08:00Z",
            "--end",
            "2026-03-17T12:00Z",
        ).stdout
    )
    rr("override", "remove", str(override["id"]))
    assert json.loads(rr("override", "list", "--json").stdout) == []

    # Pages and engagement
    clock.set(utc(2026, 3, 17, 9))
    page = json.loads(
        rr(
            "page",
            "trigger",
            "--policy",
            "legal-oncall",
            "--summary",
            "Counsel needed",
            "--severity",
            "SEV1",
            "--json",
        ).stdout
    )
    assert "dee" in rr("page", "show", str(page["id"])).stdout
    assert "resolved by alice" in rr("page", "resolve", str(page["id"]), "--note", "done").stdout
    assert "1 page(s)" in rr("page", "list").stdout
    missing = rr("engage", "INC-2026-9999", ok=False)
    assert "no incident INC-2026-9999" in missing.output
    rr("policy", "delete", "legal-oncall", ok=False)  # it has paged: kept for the record
    rr("schedule", "create", "--file", str(scheduled / "schedule.yaml"), ok=False)
    (scheduled / "spare.yaml").write_text(
        yaml.safe_dump({**fts.api_body("spare"), "layers": fts.api_body()["layers"][:1]})
    )
    rr("schedule", "create", "--file", str(scheduled / "spare.yaml"))
    rr("schedule", "delete", "spare")
    assert "spare" not in rr("schedule", "list", "--json").stdout
