"""API token shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from rapidresponse.auth.policy import Role
from rapidresponse.clock import ensure_utc
from rapidresponse.inputs import Input


class TokenCreate(Input):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    subject: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=1, max_length=120, pattern=r"^[A-Za-z0-9_.@:+\-]+$"
        ),
    ] = Field(description="The user (or service) the token acts as")
    role: Role
    expires_at: Annotated[datetime, AfterValidator(ensure_utc)] | None = None


class TokenOut(BaseModel):
    id: int
    name: str
    subject: str
    role: Role
    prefix: str
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenIssued(TokenOut):
    token: str = Field(description="The secret; shown once, store it now")


class Me(BaseModel):
    subject: str
    role: Role
    token_id: int | None
