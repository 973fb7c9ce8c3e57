"""Signals over HTTP and from files: per-line rejects, redelivery, alerts end to end."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from rapidresponse.auth.policy import Role
from rapidresponse.cli import app
from rapidresponse.cli_support import CliContext, set_context
from rapidresponse.clock import ManualClock
from rapidresponse.settings import Settings
from rapidresponse.signals.schema import signal_to_event
from tests.signals.test_pipeline import START, quiet_week_then_burst, signal

API = "/api/v1"


def ndjson(events: list[dict[str, object]]) -> bytes:
    return b"".join(json.dumps(e).encode() + b"\n" for e in events)


def test_ndjson_batch_rejects_bad_lines_and_ignores_redelivery(
    client: TestClient, headers: Callable[[Role], dict[str, str]]
) -> None:
    auth = {**headers(Role.RESPONDER), "Content-Type": "application/x-ndjson"}
    good = [signal_to_event(signal(i, i)) for i in range(5)]
    broken = {**good[0], "id": "x1", "data": {**good[0]["data"], "region": "ZZ"}}  # type: ignore[dict-item]
    body = ndjson(good[:3]) + b"{not json\n" + ndjson([broken]) + ndjson(good[3:])
    first = client.post(f"{API}/signals", content=body, headers=auth)
    assert first.status_code == 200, first.text
    out = first.json()
    assert (out["accepted"], out["duplicates"], out["late"]) == (5, 0, 0)
    assert [r["line"] for r in out["rejected"]] == [4, 5]
    assert all(r["reason"] for r in out["rejected"])
    again = client.post(f"{API}/signals", content=ndjson(good), headers=auth).json()
    assert (again["accepted"], again["duplicates"]) == (0, 5)
    viewer = client.post(f"{API}/signals", content=ndjson(good), headers=headers(Role.VIEWER))
    assert viewer.status_code == 403
    schema = client.get(f"{API}/signals/schema", headers=headers(Role.VIEWER)).json()
    assert schema


@pytest.fixture
def rr(app_settings: Settings, clock: ManualClock) -> Iterator[Callable[..., Result]]:
    set_context(CliContext(settings=app_settings.model_copy(update={"actor": "ana"}), clock=clock))
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True) -> Result:
        result = runner.invoke(app, list(args))
        if ok:
            assert result.exit_code == 0, result.output
        return result

    yield invoke
    set_context(None)


def test_from_a_file_to_a_promoted_incident(
    rr: Callable[..., Result],
    client: TestClient,
    headers: Callable[[Role], dict[str, str]],
    clock: ManualClock,
    tmp_path: Path,
) -> None:
    clock.set(START)
    events = [signal_to_event(s) for s in quiet_week_then_burst(2 * 24 * 60)]
    file = tmp_path / "signals.jsonl"
    file.write_bytes(ndjson(events) + b"[]\n")
    rejects = tmp_path / "rejects.jsonl"
    clock.set(START.replace(day=25))
    said = " ".join(rr("signals", "ingest", str(file), "--rejects", str(rejects)).output.split())
    assert f"{len(events):,} accepted" in said
    assert "1 rejected" in said
    assert json.loads(rejects.read_text())["line"] == len(events) + 1
    opened = json.loads(rr("signals", "detect", "--json").stdout)
    assert len(opened) == 1
    alert = opened[0]
    assert alert["harm_type"] == "violent_extremism"
    manager = headers(Role.INCIDENT_MANAGER)
    shown = client.get(f"{API}/alerts/{alert['id']}", headers=manager).json()
    assert shown["evidence"]["top_series"]
    promoted = client.post(f"{API}/alerts/{alert['id']}/promote", json={}, headers=manager)
    assert promoted.status_code == 200, promoted.text
    key = promoted.json()["incident_key"]
    incident = client.get(f"{API}/incidents/{key}", headers=manager).json()
    assert incident["harm_type"] == "violent_extremism"
    assert incident["regions"] == ["AT"]
    listed = json.loads(rr("alerts", "list", "--json", "--status", "promoted").stdout)
    assert [a["incident_key"] for a in listed] == [key]
