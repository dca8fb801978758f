"""HTTP: /metrics (Prometheus) and /health/detailed, for the operator's tools.

On the main port both answer only `Authorization: Bearer <metrics_token>`; with no token
configured they do not exist there (404). On `metrics_port` (127.0.0.1 only) they answer
without a token: whoever reaches that port is on the machine already. /health/detailed
takes the token too, and not an admin's session: it names the instance's parts, which
are the operator's business, not one organisation's.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import asdict
from typing import Any

import uvicorn
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.applications import Starlette
from starlette.routing import Route

from careline import config
from careline.config import Settings
from careline.kit import tokens
from careline.kit.errors import NotFound, Unauthenticated
from careline.monitoring import health, metrics
from careline.web.http import ERRORS

router = APIRouter(tags=["health"])

_TOKEN_ERRORS: dict[int | str, dict[str, Any]] = {k: ERRORS[k] for k in (401, 404)}


def _check_token(request: Request, settings: Settings) -> None:
    """404 with no token configured (the endpoint is not served here); 401 without the
    token or with another one, compared in constant time."""
    if settings.metrics_token is None:
        raise NotFound("not found")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    expected = settings.metrics_token.get_secret_value()
    if scheme.lower() != "bearer" or not tokens.same(given.strip(), expected):
        raise Unauthenticated(
            "this needs the metrics token: Authorization: Bearer <token>",
            code="metrics_token_required",
            headers={"WWW-Authenticate": 'Bearer realm="careline-metrics"'},
        )


def _sockets(request: Request) -> int:
    hub = getattr(request.app.state, "hub", None)
    return len(hub.sockets) if hub is not None else 0


async def _metrics(settings: Settings, sockets: int) -> Response:
    return Response(
        await metrics.scrape(settings, sockets=sockets), media_type=metrics.CONTENT_TYPE
    )


async def _health(settings: Settings) -> JSONResponse:
    parts = await health.cached_parts(settings)
    status = health.overall(parts)
    body: dict[str, Any] = {"status": status, "parts": [asdict(p) for p in parts]}
    return JSONResponse(body, status_code=503 if status == "down" else 200)


@router.get(
    "/metrics",
    responses={
        200: {"content": {"text/plain": {}}, "description": "Prometheus text format"},
        **_TOKEN_ERRORS,
    },
    response_class=Response,
)
async def get_metrics(request: Request) -> Response:
    """Prometheus metrics (text format 0.0.4): request and socket counts, latency
    histograms, queue depth and age, pool use, notification results per channel, the
    state of each part (docs/operations.md#metrics). Needs the metrics token."""
    settings = config.current()
    _check_token(request, settings)
    return await _metrics(settings, _sockets(request))


@router.get(
    "/health/detailed",
    responses={**_TOKEN_ERRORS, 503: {"description": "A part is down"}},
)
async def get_health_detailed(request: Request) -> JSONResponse:
    """Each part careline depends on, with its state (`up`, `degraded`, `down`, or `off`
    when not configured), a reason code, how long its check took and its figures.
    200 unless a part is down (503). Needs the metrics token (docs/operations.md#health)."""
    settings = config.current()
    _check_token(request, settings)
    return await _health(settings)


class LoopbackServer:
    """/metrics and /health/detailed without a token, on 127.0.0.1:`metrics_port`."""

    def __init__(self, settings: Settings, hub: Any) -> None:
        self.settings = settings
        self.hub = hub
        self.server: uvicorn.Server | None = None
        self.task: asyncio.Task[None] | None = None

    def _app(self) -> Starlette:
        async def metrics_page(request: Request) -> Response:
            return await _metrics(config.current(), len(self.hub.sockets))

        async def health_page(request: Request) -> Response:
            return await _health(config.current())

        return Starlette(
            routes=[
                Route("/metrics", metrics_page, methods=["GET"]),
                Route("/health/detailed", health_page, methods=["GET"]),
            ]
        )

    async def start(self) -> None:
        if not self.settings.metrics_port:
            return
        server = uvicorn.Server(
            uvicorn.Config(
                self._app(),
                host="127.0.0.1",
                port=self.settings.metrics_port,
                lifespan="off",
                access_log=False,
                log_config=None,
            )
        )
        # The main server owns the process's signals; this one stops when it is told.
        server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
        self.server = server
        self.task = asyncio.get_running_loop().create_task(server.serve(), name="metrics.port")
        while not server.started:
            if self.task.done():
                self.task.result()  # could not listen: say why, at start
                raise RuntimeError(f"metrics_port {self.settings.metrics_port} did not open")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self.server is None or self.task is None:
            return
        self.server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.task, 10)
