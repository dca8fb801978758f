"""HTTP: sign in / out, sessions, and the dependency that turns a request into an actor.

Browsers get the session in an HttpOnly, SameSite=Lax cookie and must echo the CSRF
token (from the sign-in response or GET /api/v1/me) in `X-CSRF-Token` on every unsafe
request. Other clients use `Authorization: Bearer`, which needs no CSRF token.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from careline import config
from careline.auth import service as auth_service
from careline.auth.records import SignedIn
from careline.auth.schemas import SessionRead, SignedInRead, SignIn, TokenRead
from careline.db.tx import Actor, transaction
from careline.kit.errors import Forbidden, Unauthenticated
from careline.web.http import ERRORS

SESSION_COOKIE = auth_service.SESSION_COOKIE
DEVICE_COOKIE = "careline_device"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], responses=ERRORS)


async def current_actor(request: Request) -> Actor:
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("use Authorization: Bearer <token>", code="bad_authorization")
        from_cookie = False
    else:
        token = request.cookies.get(SESSION_COOKIE, "")
        from_cookie = True
    actor = await auth_service.authenticate(token) if token else None
    if actor is None:
        raise Unauthenticated("sign in first" if not token else "your session has ended")
    if from_cookie and request.method not in _SAFE_METHODS:
        sent = request.headers.get("x-csrf-token", "")
        if not sent or sent != auth_service.csrf_token(token):
            raise Forbidden("missing or wrong X-CSRF-Token header", code="csrf_failed")
    request.state.session_token = token
    request.state.cookie_session = from_cookie
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]


def _credentials(request: Request, body: SignIn) -> auth_service.Credentials:
    return auth_service.Credentials(
        email=body.email,
        password=body.password,
        tenant_slug=body.tenant,
        address=request.client.host if request.client else "unknown",
        user_agent=request.headers.get("user-agent", ""),
        device_cookie=request.cookies.get(DEVICE_COOKIE),
    )


def _read(signed: SignedIn, *, csrf: str | None) -> dict[str, object]:
    return {
        "account_id": signed.actor.account_id,
        "tenant_id": signed.tenant.id,
        "tenant_slug": signed.tenant.slug,
        "tenant_name": signed.tenant.name,
        "role": signed.actor.role.value,
        "session_id": signed.actor.session_id,
        "csrf_token": csrf,
    }


def start_browser_session(response: Response, signed: SignedIn) -> dict[str, object]:
    """Set the session and device cookies of a new browser session; its reply body."""
    settings = config.current()
    response.set_cookie(
        SESSION_COOKIE,
        signed.token,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        max_age=settings.session_absolute_hours * 3600,
        path="/",
    )
    response.set_cookie(
        DEVICE_COOKIE,
        signed.device_cookie,
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
        max_age=365 * 24 * 3600,
        path="/api/v1/auth",
    )
    return _read(signed, csrf=auth_service.csrf_token(signed.token))


@router.post("/login", response_model=SignedInRead)
async def sign_in(body: SignIn, request: Request, response: Response) -> dict[str, object]:
    """Sign in from a browser: sets the HttpOnly session cookie and returns the CSRF token.
    Answers 429 `rate_limited` after repeated failures and 429 `sign_in_budget` after too
    many successful sign-ins for the account or address, 503 `sign_in_busy` when the
    node's password threads and their waiting room are full; each with Retry-After."""
    signed = await auth_service.do_sign_in(_credentials(request, body))
    return start_browser_session(response, signed)


@router.post("/token", response_model=TokenRead)
async def create_token(body: SignIn, request: Request) -> dict[str, object]:
    """Sign in from a program: returns a bearer token (no cookie). Throttled, budgeted
    and answered exactly as `POST /login` (429 `rate_limited` / `sign_in_budget`, 503
    `sign_in_busy`, each with Retry-After): a token spends the sign-in budget too."""
    signed = await auth_service.do_sign_in(_credentials(request, body))
    return {**_read(signed, csrf=None), "token": signed.token}


@router.post("/logout", status_code=204)
async def sign_out(actor: CurrentActor, response: Response) -> Response:
    """End this session; its open sockets close."""
    async with transaction(actor) as tx:
        await auth_service.do_sign_out(tx)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.status_code = 204
    return response


@router.get("/sessions", response_model=list[SessionRead])
async def list_sessions(actor: CurrentActor) -> list[dict[str, object]]:
    """Your signed-in sessions in this organisation."""
    async with transaction(actor, readonly=True) as tx:
        sessions = await auth_service.list_own_sessions(tx)
    return [
        {
            "id": s.id,
            "created_at": s.created_at,
            "last_used_at": s.last_used_at,
            "expires_at": s.expires_at,
            "user_agent": s.user_agent,
            "current": s.id == actor.session_id,
        }
        for s in sessions
        if s.tenant_id == actor.tenant_id
    ]


@router.delete("/sessions/{session_id}", status_code=204)
async def revoke_session(session_id: uuid.UUID, actor: CurrentActor) -> Response:
    """End one of your sessions (e.g. a lost phone); its sockets close."""
    async with transaction(actor) as tx:
        await auth_service.do_revoke_own_session(tx, session_id)
    return Response(status_code=204)
