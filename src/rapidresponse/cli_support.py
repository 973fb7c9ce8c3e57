"""What every CLI command shares: the database, the clock, the acting principal, output.

The CLI works on the database directly, so whoever can run it is an operator: it acts with
the admin role, as ``RR_ACTOR`` (default ``cli:<OS user>``) in timelines and the audit log.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from rapidresponse.auth.policy import Principal, Role
from rapidresponse.clock import Clock, SystemClock
from rapidresponse.db import make_engine, make_session_factory, transaction
from rapidresponse.errors import DomainError
from rapidresponse.settings import Settings, get_settings

console = Console()
err_console = Console(stderr=True)
P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class CliContext:
    settings: Settings = field(default_factory=get_settings)
    clock: Clock = field(default_factory=SystemClock)
    _engine: Engine | None = None
    _factory: sessionmaker[Session] | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
        return self._engine

    @property
    def factory(self) -> sessionmaker[Session]:
        if self._factory is None:
            self._factory = make_session_factory(self.engine)
        return self._factory

    @property
    def principal(self) -> Principal:
        return Principal(subject=self.settings.actor or f"cli:{getpass.getuser()}", role=Role.ADMIN)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with transaction(self.factory) as session:
            yield session


_context: CliContext | None = None


def ctx() -> CliContext:
    global _context
    if _context is None:
        _context = CliContext()
    return _context


def set_context(context: CliContext | None) -> None:
    """Tests point the CLI at their own database and clock."""
    global _context
    _context = context


def fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    return typer.Exit(code)


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn domain and validation errors into one-line messages and a non-zero exit."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except DomainError as exc:
            raise fail(exc.detail) from None
        except ValidationError as exc:
            parts = []
            for e in exc.errors():
                where = ".".join(str(p) for p in e["loc"]) or "input"
                parts.append(f"{where}: {str(e['msg']).removeprefix('Value error, ')}")
            raise fail("; ".join(parts)) from None
        except OperationalError as exc:
            raise fail(
                f"database error: {exc.orig}; is the database migrated? (rapidresponse db upgrade)",
                3,
            ) from None

    return wrapper


def print_json(value: Any) -> None:
    if isinstance(value, BaseModel):
        sys.stdout.write(value.model_dump_json(indent=2) + "\n")
    elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
        sys.stdout.write(json.dumps([v.model_dump(mode="json") for v in value], indent=2) + "\n")
    else:
        sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")
