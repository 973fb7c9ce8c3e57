"""Layering rule 1: pure modules import no database, web framework or network client.

Each module is imported in a fresh interpreter, so what another test imported first cannot
hide a dependency.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

PURE = [
    "datafiles",
    "incidents.severity",
    "incidents.lifecycle",
    "incidents.taxonomy",
    "incidents.validation",
    "audit.chain",
    "outbox.delivery",
    "playbooks.schema",
    "playbooks.planner",
    "oncall.rotation",
    "oncall.coverage",
    "oncall.routing",
    "comms.templates",
    "comms.approvals",
    "enforcement.actions",
    "compliance.rulebook",
    "compliance.obligations",
    "compliance.policy",
    "compliance.statements",
    "compliance.reports",
    "signals.detectors",
]
FORBIDDEN = ("fastapi", "starlette", "sqlalchemy", "httpx", "psycopg", "nats")


@pytest.mark.parametrize("module", PURE)
def test_pure_module_imports_nothing_impure(module: str) -> None:
    probe = (
        f"import sys, rapidresponse.{module}\n"
        f"print(','.join(m for m in {FORBIDDEN!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "", f"{module} imports {result.stdout.strip()}"
