"""The ASGI application: every router, the socket, health checks and the web client."""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
from collections.abc import AsyncIterator, Generator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

import careline.messages.ops
import careline.monitoring.ops
import careline.notifications.ops
import careline.realtime.ops
import careline.receipts.ops  # noqa: F401 - registers socket ops
from careline import __version__, config
from careline.attachments import api as attachments_api
from careline.attachments import daemon as scanner_daemon
from careline.attachments import storage as file_storage
from careline.audit import api as audit_api
from careline.audit import sealing as audit_sealing
from careline.audit import service as audit_service
from careline.audit import signing as audit_signing
from careline.auth import api as auth_api
from careline.breakglass import api as breakglass_api
from careline.care import api as care_api
from careline.conversations import api as conversations_api
from careline.db import migrate, tx
from careline.db.database import Database
from careline.invitations import api as invitations_api
from careline.jobs import app as jobs
from careline.keys import service as key_service
from careline.kit import limits, memory
from careline.kit.crypto import MasterKeyFile
from careline.kit.errors import AppError, DatabaseUnavailable
from careline.messages import api as messages_api
from careline.monitoring import alerts_api, alerts_runner, dashboard_api
from careline.monitoring import api as monitoring_api
from careline.monitoring import live as monitor_live
from careline.notifications import admin_api as notifications_admin_api
from careline.notifications import api as notifications_api
from careline.notifications import delivery as notification_delivery
from careline.notifications import jobs as notification_jobs
from careline.notifications import preferences_api as notification_preferences_api
from careline.notifications import unsubscribe_api
from careline.push import api as push_api
from careline.push import channel as push_channel
from careline.realtime import api as realtime_api
from careline.realtime import gateway, transport
from careline.realtime.bus import InProcessBus
from careline.realtime.fanout import Hub
from careline.realtime.gateway import websocket_endpoint
from careline.receipts import api as receipts_api
from careline.reports import api as reports_api
from careline.tenants import api as tenants_api
from careline.web import compress, http
from careline.web import docs as api_docs
from careline.web import routes as web_routes
from careline.web.protocol import http_protocol


def load_keyring(settings: config.Settings) -> key_service.Keyring:
    keyfile = MasterKeyFile(settings.master_key_path)
    keyfile.ensure()
    keys = keyfile.load()
    return key_service.Keyring(
        master_keys=keys, current_master_id=list(keys)[-1], current_ttl=settings.key_cache_seconds
    )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: config.Settings = app.state.settings
    config.use(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key_service.configure(load_keyring(settings))
    push_channel.start()  # the VAPID key is made at first start (careline/push/vapid.py)
    file_storage.configure(file_storage.from_settings(settings))
    database = Database(settings)
    pool = await database.start()
    database.supervise()
    hub = Hub(typing_ttl=settings.typing_ttl_seconds, on_offline=realtime_api.write_last_seen)
    bus = InProcessBus()
    await bus.start(hub.deliver)
    tx.configure(pool, bus.publish)
    tx.configure_audit(audit_service.flush)
    sealer = audit_sealing.Sealer(audit_signing.load(settings.data_dir))
    sealer.start()  # seals now, then every audit_seal_seconds (careline/audit/sealing.py)
    worker = await jobs.start(
        database.app_dsn,
        concurrency=settings.jobs_concurrency,
        poll_seconds=min(5.0, settings.scan_retry_seconds),
    )
    await notification_delivery.start(notification_jobs.defer_delivery)
    scanner = scanner_daemon.Scanner(settings)
    await scanner.start()
    scanner_daemon.use(scanner)
    app.state.hub = hub
    monitor_live.start(hub)  # the dashboard counts this node's sockets
    app.state.database = database
    metrics_port = monitoring_api.LoopbackServer(settings, hub)
    await metrics_port.start()
    trimmer = memory.Trimmer()  # hands a burst's freed memory back (kit/memory.py)
    trimmer.start()
    alerting = alerts_runner.Runner()  # the alert rules' evaluator (monitoring/alerts.py)
    alerting.start()
    try:
        yield
    finally:
        await alerting.stop()
        await metrics_port.stop()
        await trimmer.stop()
        await sealer.stop()
        await monitor_live.stop()
        await notification_delivery.stop()
        await worker.stop()
        scanner_daemon.use(None)
        await scanner.stop()
        await hub.close_all()
        await bus.stop()
        tx.configure(None, None)
        tx.configure_audit(None)
        await database.stop()


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, routes=app.routes, description=app.description
        )
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
            http.Problem.model_json_schema()
        )
        app.openapi_schema = schema
    return app.openapi_schema


class Server(uvicorn.Server):
    """uvicorn, with careline's graceful shutdown. uvicorn's own closes every socket
    with 1012 the moment it begins; careline first stops listening, lets each socket's
    op in flight finish and send its reply, and closes with the documented 1001
    (docs/protocol.md#close-codes), all within `shutdown_grace_seconds`."""

    def __init__(self, config: uvicorn.Config, app: FastAPI, grace_seconds: float) -> None:
        super().__init__(config)
        self.app = app
        self.grace_seconds = grace_seconds

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.grace_seconds
        for server in self.servers:
            server.close()  # no new connections
        hub: Hub | None = getattr(self.app.state, "hub", None)
        if hub is not None:
            await gateway.drain(hub, self.grace_seconds)
        # What is left of the bound is for HTTP requests still running.
        self.config.timeout_graceful_shutdown = max(1, math.ceil(deadline - loop.time()))
        await super().shutdown(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        with super().capture_signals():
            yield
            # uvicorn re-raises the signal once it has stopped, so the process would end
            # "killed by SIGTERM"; a graceful stop is a clean exit (status 0).
            self._captured_signals.clear()


def server(settings: config.Settings) -> Server:
    """The server `careline serve` runs (the tests run it too)."""
    cfg = server_config(settings)
    assert isinstance(cfg.app, FastAPI)
    return Server(cfg, cfg.app, settings.shutdown_grace_seconds)


def server_config(settings: config.Settings) -> uvicorn.Config:
    """How careline runs under uvicorn: frames capped, heartbeats on, no compression
    (small frames; CPU matters more), and uvicorn's own access log off (ours never
    prints query strings). The tests run the server through this too."""
    return uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        # uvicorn's own sans-I/O protocol, with a deadline on every write (transport.py).
        ws=transport.protocol_for(settings),
        ws_max_size=limits.WS_FRAME_MAX_BYTES,
        ws_ping_interval=settings.ws_heartbeat_seconds,
        ws_ping_timeout=settings.ws_heartbeat_seconds,
        ws_per_message_deflate=False,
        access_log=False,
        # Limits and deadlines of every connection: careline/web/protocol.py.
        http=http_protocol(settings),
        timeout_keep_alive=settings.http_keepalive_timeout_seconds,
        # X-Forwarded-For/-Proto only from the configured proxies: uvicorn's own default
        # (trust 127.0.0.1) would let any local client choose its throttle key.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies,
        log_config=None,
        lifespan="on",
    )


def create_app(settings: config.Settings | None = None) -> FastAPI:
    app = FastAPI(
        title="careline",
        version=__version__,
        description="Secure, real-time messaging for care. Errors are application/problem+json "
        "with a stable `code`. The socket protocol is in docs/protocol.md.",
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # served by careline/web/docs.py, without a CDN or inline script
        redoc_url=None,
    )
    app.state.settings = settings or config.current()
    app.add_exception_handler(AppError, http.app_error_handler)
    app.add_exception_handler(RequestValidationError, http.validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http.http_error_handler)
    app.add_exception_handler(Exception, http.unexpected_error_handler)
    # Inside the guard (added later is outermost): what it refuses is never compressed.
    app.add_middleware(compress.CompressMiddleware)
    app.add_middleware(http.GuardMiddleware, settings=app.state.settings)
    for router in (
        auth_api.router,
        tenants_api.router,
        tenants_api.admin,
        invitations_api.admin,
        invitations_api.router,
        care_api.router,
        conversations_api.router,
        messages_api.router,
        attachments_api.router,
        attachments_api.admin,
        notifications_admin_api.admin,
        alerts_api.admin,
        breakglass_api.admin,
        receipts_api.router,
        notifications_api.router,
        realtime_api.router,
        unsubscribe_api.router,
        notification_preferences_api.router,
        notification_preferences_api.admin,
        push_api.router,
        monitoring_api.router,
        reports_api.admin,
        dashboard_api.admin,
        audit_api.admin,
    ):
        app.include_router(router)
    app.add_api_websocket_route("/api/v1/ws", websocket_endpoint)

    @app.get("/health", tags=["health"])
    async def health() -> dict[str, str]:
        """Alive: the process answers."""
        return {"status": "ok"}

    @app.get(
        "/health/ready",
        tags=["health"],
        responses={503: http.ERRORS[409] | {"description": "Not ready"}},
    )
    async def ready() -> JSONResponse:
        """Ready: the database answers (503 `database_unavailable` while it does not, e.g.
        while careline restarts its embedded server) and its schema is the one this code
        expects (503 `not_ready`). 200 with `status` `ready`, or `degraded` while the virus
        scanner is missing (`scanner.reason` says which part): messages still work, and
        files wait, so a degraded instance stays in service (docs/deploy.md#health)."""
        try:
            current = await tx.fetch_value("SELECT version_num FROM alembic_version")
        except DatabaseUnavailable as exc:
            return http.problem_response(exc)
        expected = migrate.head_revision()
        if current != expected:
            return http.problem_response(
                AppError(
                    "the database schema is not the one this code expects",
                    code="not_ready",
                    status=503,
                    title="Not ready",
                )
            )
        scan = scanner_daemon.status()
        return JSONResponse(
            {
                "status": "ready" if scan.available else "degraded",
                "schema": current,
                "scanner": {
                    "status": "ready" if scan.available else "unavailable",
                    "reason": scan.reason,
                    "detail": scan.detail,
                },
            }
        )

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    api_docs.mount(app)
    web_routes.mount(app)
    return app
