"""`careline audit verify` and `careline audit prune` as an operator runs them: against
the running installation's database, with its key files; progress on stderr, the first
problem on stdout, exit status 0 only for an untouched chain."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import sys
from pathlib import Path

from fastapi import FastAPI

from careline.audit import signing
from tests.audit.chain_support import owner, record_events, sealed
from tests.support.server import RunningServer
from tests.support.world import World

CARELINE = str(Path(sys.executable).parent / "careline")


def _node(server: RunningServer, data_dir: Path, *, with_key: bool = True) -> dict[str, str]:
    """The environment of an operator's shell on another node of this installation."""
    app = server.server.config.app
    assert isinstance(app, FastAPI)
    data_dir.mkdir()
    shutil.copy(server.settings.master_key_path, data_dir / "master.key")
    if with_key:
        shutil.copy(signing.path_in(server.settings.data_dir), signing.path_in(data_dir))
    return {
        **os.environ,
        "CARELINE_DATA_DIR": str(data_dir),
        "CARELINE_DATABASE_URL": app.state.database.owner_dsn,
        "CARELINE_DATABASE_APP_URL": app.state.database.app_dsn,
    }


async def _careline(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        CARELINE, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_verify_passes_an_untouched_chain_and_fails_naming_a_changed_event(
    server: RunningServer, world: World, tmp_path: Path
) -> None:
    events = await sealed(server, world, len(await record_events(world, 3)))
    env = _node(server, tmp_path / "node")
    code, out, err = await _careline("audit", "verify", "--tenant", world.slug, env=env)
    assert code == 0, err
    assert "audit intact: 1 organisation(s)" in out
    assert f"{world.slug}: {len(events)} events checked, ok" in err

    async with owner(server) as conn:
        await conn.execute("UPDATE audit_events SET session_id = id WHERE id = $1", events[1])
    code, out, err = await _careline("audit", "verify", "--tenant", world.slug, env=env)
    assert code == 1, err
    assert out.strip() == f"{world.slug}: changed: event {events[1]} (position 2) was changed"


async def test_verify_without_the_signing_key_or_with_an_unknown_slug_exits_2(
    server: RunningServer, world: World, tmp_path: Path
) -> None:
    env = _node(server, tmp_path / "bare", with_key=False)
    code, _, err = await _careline("audit", "verify", "--tenant", world.slug, env=env)
    assert code == 2
    assert "no signing key" in err
    assert not signing.path_in(tmp_path / "bare").exists()  # verify makes none
    env = _node(server, tmp_path / "node")
    code, _, err = await _careline("audit", "verify", "--tenant", "no-such-org", env=env)
    assert code == 2
    assert "no organisation 'no-such-org'" in err


async def test_prune_from_the_command_line_removes_nothing_recent(
    server: RunningServer, world: World, tmp_path: Path
) -> None:
    await sealed(server, world, len(await record_events(world, 1)))
    env = _node(server, tmp_path / "node")
    code, out, err = await _careline("audit", "prune", "--tenant", world.slug, env=env)
    assert code == 0, err
    assert out.strip() == "removed 0 audit event(s) past 2190 days"


def test_the_signing_key_is_made_once_readable_by_careline_alone(tmp_path: Path) -> None:
    made = signing.load(tmp_path)
    path = signing.path_in(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert signing.load(tmp_path).key_id == made.key_id
    assert [p.name for p in tmp_path.iterdir()] == [signing.FILE_NAME]  # no draft left
    assert made.verifies(b"checkpoint", made.sign(b"checkpoint"))
    assert not made.verifies(b"checkpoint!", made.sign(b"checkpoint"))
