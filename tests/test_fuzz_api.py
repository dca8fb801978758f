"""schemathesis fuzzes the REST API from careline's own OpenAPI: no 5xx anywhere, every
response (errors included) matches the documented schema, status and content type, and
data that breaks the schema is rejected, and so are strings PostgreSQL cannot hold and
forged list cursors."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import httpx
import pytest

from careline import config
from careline.db.tx import Actor, transaction
from tests.realtime.test_live import open_care
from tests.support.server import RunningServer
from tests.support.world import World

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
    ]
)
# schemathesis' own list for refused invalid data, with the HTTP layer's 414 and 431.
NEGATIVE_DATA_REFUSED = [
    "400",
    "401",
    "403",
    "404",
    "405",
    "406",
    "409",
    "414",
    "415",
    "422",
    "428",
    "429",
    "431",
    "5xx",
]
ROOT = str(Path(__file__).resolve().parent.parent)
# Operations that end the fuzzer's own session (it learns session ids from
# GET /auth/sessions and would sign itself out); tests/auth covers them.
SESSION_ENDING = ["/api/v1/auth/logout", "/api/v1/auth/sessions/{session_id}"]


@pytest.mark.parametrize("persona", ["admin", "sam", "lily"])
async def test_fuzzing_the_rest_api_finds_no_server_error_or_schema_mismatch(
    server: RunningServer, http: httpx.AsyncClient, world: World, persona: str, tmp_path: Path
) -> None:
    # Give the fuzzer real data to find: a conversation with history.
    conversation_id = await open_care(http, world)
    await http.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"client_msg_id": "seed", "text": "seed message"},
        headers=world["sam"].auth,
    )
    # Invalid data the HTTP layer refuses before validation (a query of thousands of ids
    # is over the URL limit: 414; headers over theirs: 431) is refused all the same.
    (tmp_path / "schemathesis.toml").write_text(
        "[checks.negative_data_rejection]\n"
        f"expected-statuses = {json.dumps(NEGATIVE_DATA_REFUSED)}\n"
    )
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(tmp_path / "schemathesis.toml"),
        "run",
        f"{server.base_url}/api/v1/openapi.json",
        "--header",
        f"Authorization: Bearer {world[persona].token}",
        "--checks",
        CHECKS,
        "--phases",
        "coverage,fuzzing",
        "--max-examples",
        "25",
        "--seed",
        "20261122",
        "--generation-database",
        "none",
        # One worker: CPython 3.11.7's ast.parse is not thread-safe (gh-106905), and
        # hypothesis parses lambdas while schemathesis' worker threads build cases.
        "--workers",
        "1",
        "--no-color",
        *[arg for path in SESSION_ENDING for arg in ("--exclude-path", path)],
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    # Strings PostgreSQL cannot hold and forged cursors too (tests/support/fuzz_hooks.py).
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.support.fuzz_hooks", "PYTHONPATH": ROOT}
    # Every fuzzed sign-in comes from 127.0.0.1: with the suite's three free failures the
    # throttle (tests/auth) would answer 429 to all but the first few, and the fuzzer
    # would never reach what lies behind it (a NUL e-mail once reached PostgreSQL there).
    settings = config.current()
    config.use(settings.model_copy(update={"login_free_failures": 100}))
    process = await asyncio.create_subprocess_exec(
        *command,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path,
        env=env,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), 300)
    finally:
        config.use(settings)
        # Fuzzed sign-ins from 127.0.0.1 count as failures for that address; other tests
        # sign in from it too.
        async with transaction(Actor.system()) as tx:
            await tx.conn.execute("DELETE FROM login_throttle")
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-12000:]
    assert " passed" in text
