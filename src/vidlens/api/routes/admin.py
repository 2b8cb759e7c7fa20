"""Accounts and oversight: who am I, users, API keys, the audit trail, the effective settings."""

from __future__ import annotations

import re
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from vidlens.api import audit
from vidlens.api.auth import Principal, parse_duration
from vidlens.api.deps import Admin, Services, Viewer, services
from vidlens.api.openapi import errors

router = APIRouter(prefix="/api", tags=["admin"])

_SECRET_NAME = re.compile(r"(secret|password|passwd|token|api_key|private)", re.IGNORECASE)


class UserCreate(BaseModel):
    model_config = ConfigDict(strict=True)
    name: str = Field(..., min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
    role: Literal["viewer", "reviewer", "admin"] = "viewer"
    password: str | None = Field(None, min_length=8, max_length=1024)


class KeyCreate(BaseModel):
    model_config = ConfigDict(strict=True)
    user: str | None = Field(None, description="Owner; default: the caller (404 if unknown).")
    expires: str | None = Field(None, pattern=r"^\s*\d+(\.\d+)?\s*[smhdw]\s*$",
                                description="Lifetime such as 30d, 12h; default: never.")
    name: str | None = Field(None, max_length=128)


@router.get("/me", summary="The calling user")
def me(principal: Principal = Viewer) -> dict[str, Any]:
    return {"name": principal.name, "role": principal.role, "via": principal.via, "key_id": principal.key_id}


@router.get("/users", summary="Users (admin)")
def list_users(_: Principal = Admin, svc: Services = Depends(services)) -> dict[str, Any]:
    return {"users": svc.accounts.list_users()}


@router.post("/users", status_code=201, summary="Create a user (admin)", responses=errors(s409="The user exists"))
def create_user(
    body: UserCreate, request: Request, _: Principal = Admin, svc: Services = Depends(services)
) -> dict[str, Any]:
    user = svc.accounts.add_user(body.name, body.role, body.password)
    audit.note(request, "user.create", f"user:{user['name']}", role=user["role"])
    return user


@router.get("/keys", summary="API keys (admin: all; others: their own)")
def list_keys(principal: Principal = Viewer, svc: Services = Depends(services)) -> dict[str, Any]:
    return {"keys": svc.accounts.list_keys(None if principal.has("admin") else principal.name)}


@router.post(
    "/keys", status_code=201, summary="Create an API key (admin); the key is shown only in this answer",
    responses=errors(s404="No such user"),
)
def create_key(
    body: KeyCreate, request: Request, principal: Principal = Admin, svc: Services = Depends(services)
) -> dict[str, Any]:
    key, record = svc.accounts.create_key(
        body.user or principal.name,
        name=body.name,
        expires_in_s=parse_duration(body.expires) if body.expires else None,
    )
    audit.note(request, "key.create", f"key:{record['id']}", user=record["user"])
    return {"key": key, **record}


@router.delete("/keys/{key_id}", summary="Revoke an API key (admin)")
def revoke_key(
    key_id: int, request: Request, _: Principal = Admin, svc: Services = Depends(services)
) -> dict[str, Any]:
    record = svc.accounts.revoke_key(str(key_id))
    audit.note(request, "key.revoke", f"key:{key_id}", user=record["user"])
    return record


@router.get("/audit", summary="The API audit trail, newest first (admin)")
def get_audit(
    limit: int = Query(100, ge=1, le=1000),
    actor: str | None = None,
    _: Principal = Admin,
    svc: Services = Depends(services),
) -> dict[str, Any]:
    with svc.platform.store.read() as conn:
        return {"entries": audit.list_audit(conn, limit=limit, actor=actor)}


def masked_settings(svc: Services) -> dict[str, Any]:
    """The validated settings with every secret masked (SecretStr already renders as ****)."""
    s = svc.platform.settings

    def walk(obj: Any) -> Any:
        if isinstance(obj, dict):
            return {
                k: ("********" if _SECRET_NAME.search(k) and v not in (None, "") else walk(v))
                for k, v in obj.items()
            }
        if isinstance(obj, list):
            return [walk(v) for v in obj]
        return obj

    d = walk(s.model_dump(mode="json"))
    d["database_url"] = svc.platform.store.safe_url
    return d


@router.get("/settings", summary="The effective configuration, secrets masked (admin)")
def get_settings(_: Principal = Admin, svc: Services = Depends(services)) -> dict[str, Any]:
    return {"settings": masked_settings(svc)}
