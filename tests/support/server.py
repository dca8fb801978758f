"""A real careline server for tests: embedded PostgreSQL, real HTTP and WebSocket on a
free loopback port, running in the test session's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from careline import config
from careline.app import server as careline_server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# Budgets the suite raises (see test_settings). Reactions, receipts, typing, uploads and
# file bytes keep their defaults throughout the suite.
RAISED_BUDGETS = (
    "budget_sends_per_conversation",
    "budget_sends",
)


def test_settings(data_dir: Path, port: int, **overrides: object) -> config.Settings:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "database_durable": False,  # throwaway data: fsync off keeps the suite fast
        "port": port,
        # Real argon2id, with small parameters so hundreds of test accounts stay quick.
        "password_time_cost": 1,
        "password_memory_kib": 1024,
        "login_free_failures": 3,
        # Every test signs in from 127.0.0.1, into one database per run: the sign-in
        # budgets are the abuse tests' to set (tests/auth/test_sign_in_abuse.py).
        "login_address_burst": 1_000_000,
        "login_account_burst": 10_000,
        "typing_ttl_seconds": 1.0,
        # clamd is started by the tests themselves (tests/support/clamd.py), here.
        "clamd_address": f"unix:{data_dir / 'clamd' / 'clamd.sock'}",
        "scan_retry_seconds": 0.5,
        "tenant_file_quota_mb": 64,
        "ws_send_queue_max": 200,
        "key_cache_seconds": 0.2,
        "log_level": "debug",
        # The alert rules are evaluated by the tests that need them, with the values and
        # the time they choose (tests/monitoring/test_alerts.py), never in the background.
        "alerts_interval_seconds": 0,
        # Send budgets far above the defaults: these tests send hundreds or thousands of
        # messages from one person as fast as a socket goes, and fail at the defaults:
        # tests/realtime/test_protocol.py (the 4008 slow reader), test_protocol_decisions
        # (own message.sent before the ack), test_resume (whole timeline),
        # test_resume_race (100 resumes), test_documented_limits (RESUME_MAX_EVENTS). The tests of the budgets
        # themselves (tests/test_budgets.py, tests/attachments/test_budgets.py) put the
        # defaults, or small budgets, back for their own duration.
        **dict.fromkeys(RAISED_BUDGETS, "100000/second"),
    }
    values.update(overrides)
    return config.Settings(**values)  # type: ignore[arg-type]


@dataclass
class RunningServer:
    settings: config.Settings
    server: uvicorn.Server
    task: asyncio.Task[None]

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/api/v1/ws"

    async def stop(self) -> None:
        self.server.should_exit = True
        await asyncio.wait_for(self.task, 30)


async def start_server(settings: config.Settings) -> RunningServer:
    config.use(settings)
    server = careline_server(settings)
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    task = asyncio.get_running_loop().create_task(server.serve())
    for _ in range(600):
        if server.started:
            break
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    else:
        raise RuntimeError("careline did not start within 30 s")
    return RunningServer(settings, server, task)
