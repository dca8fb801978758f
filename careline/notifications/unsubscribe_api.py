"""HTTP: the one-click unsubscribe link of notification e-mails and digests (RFC 8058).

`GET /api/v1/unsubscribe/{token}` is the page a person's browser opens: it asks, and
changes nothing (link scanners fetch links too). `POST` to the same URL, from that
page's button or from a mail client's one-click (body `List-Unsubscribe=One-Click`),
turns off exactly the preference the token names. Neither needs signing in: the token
is the authority, and it can do nothing else.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel

from careline.kit.errors import AppError
from careline.notifications import unsubscribe, words
from careline.web.http import ERRORS

router = APIRouter(prefix="/api/v1/unsubscribe", tags=["notifications"], responses=ERRORS)


_PAGE = {"text/html": {"schema": {"type": "string"}}}
_PROBLEM_OR_PAGE = {
    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}},
    **_PAGE,
}


class Unsubscribed(BaseModel):
    unsubscribed: str  # "email" or "digest": the preference now off


def _refusal_page(exc: AppError) -> HTMLResponse:
    state = "expired" if isinstance(exc, unsubscribe.UnsubscribeExpired) else "invalid"
    page = words.unsubscribe_page(organisation=None, reason="email", state=state)
    return HTMLResponse(page, status_code=exc.status)


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


@router.get(
    "/{token}",
    response_class=HTMLResponse,
    responses={
        200: {"content": _PAGE, "description": "The page asking to confirm"},
        403: {"content": _PAGE, "description": "`unsubscribe_invalid` (a page)"},
        410: {"content": _PAGE, "description": "`unsubscribe_expired` (a page)"},
    },
)
async def get_unsubscribe(token: str) -> Response:
    """The unsubscribe page (HTML, no sign-in): the organisation's name and a button that
    posts to this URL. Opening it changes nothing. A forged or altered token is 403
    `unsubscribe_invalid`, an old one 410 `unsubscribe_expired`, each as a page."""
    try:
        target = unsubscribe.check_token(token)
    except AppError as exc:
        return _refusal_page(exc)
    page = words.unsubscribe_page(
        organisation=await unsubscribe.organisation_of(target),
        reason=target.what,
        state="ask",
    )
    return HTMLResponse(page)


@router.post(
    "/{token}",
    response_model=Unsubscribed,
    responses={
        200: {"content": _PAGE, "description": "Done (JSON, or a page for a browser)"},
        403: {"content": _PROBLEM_OR_PAGE, "description": "`unsubscribe_invalid`"},
        410: {"content": _PROBLEM_OR_PAGE, "description": "`unsubscribe_expired`"},
    },
)
async def post_unsubscribe(token: str, request: Request) -> Response:
    """One-click unsubscribe (RFC 8058; no sign-in): turns off exactly the preference the
    token names (e-mail notifications, or digests) for the person it was made for, and
    nothing else; again is the same. Answers `{"unsubscribed": "email" | "digest"}`, or
    the confirmation page to a browser (Accept: text/html). Forged: 403
    `unsubscribe_invalid`; expired: 410 `unsubscribe_expired`; nothing changes."""
    try:
        target = unsubscribe.check_token(token)
    except AppError as exc:
        if _wants_html(request):
            return _refusal_page(exc)
        raise
    await unsubscribe.do_unsubscribe(target)
    if _wants_html(request):
        page = words.unsubscribe_page(
            organisation=await unsubscribe.organisation_of(target),
            reason=target.what,
            state="done",
        )
        return HTMLResponse(page)
    return JSONResponse({"unsubscribed": target.what})
