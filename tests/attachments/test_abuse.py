"""Hostile files are refused without the server process walking their structure, and an
ordinary user's messages are acknowledged meanwhile (issue 16: the zip directory and
PNG chunk bombs). The server runs in this test process, so whatever parses a file here
would run in this process: a pass-through counter on zipfile's directory reader and
Pillow's PNG opener shows that neither ran here (they do run, in the checking child)."""

from __future__ import annotations

import asyncio
import contextlib
import zipfile
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import psutil
import pytest
from PIL import PngImagePlugin

from careline import config
from careline.attachments import rlimits
from careline.bench import hostile
from tests.attachments.conftest import objects_of, rows_of
from tests.support import files
from tests.support.ordinary import ordinary_user, report
from tests.support.server import RunningServer
from tests.support.world import World


@pytest.fixture
def parsed_here(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often this process entered a zip directory walk or a PNG chunk walk."""
    entered: Counter[str] = Counter()

    def counting(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            entered[name] += 1
            return original(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(
        zipfile.ZipFile,
        "_RealGetContents",
        counting("zip directory", zipfile.ZipFile._RealGetContents),  # type: ignore[attr-defined]
    )
    monkeypatch.setattr(
        PngImagePlugin.PngImageFile,
        "_open",
        counting("png chunks", PngImagePlugin.PngImageFile._open),
    )
    return entered


async def _max_checking_children(stop: asyncio.Event, seen: list[int]) -> None:
    """The most file-checking children this (server) process ran at once."""
    me = psutil.Process()
    while not stop.is_set():
        with contextlib.suppress(psutil.Error):
            running = [
                c for c in me.children() if "careline.attachments.examine" in " ".join(c.cmdline())
            ]
            seen.append(len(running))
        await asyncio.sleep(0.02)


async def _upload_in_parallel(
    server: RunningServer,
    http: httpx.AsyncClient,
    world: World,
    care: str,
    name: str,
    bomb: bytes,
) -> tuple[list[httpx.Response], list[float], int]:
    stop, seen = asyncio.Event(), [0]
    watcher = asyncio.get_running_loop().create_task(_max_checking_children(stop, seen))
    async with ordinary_user(server, world["sam"], care) as latencies:
        responses = await asyncio.gather(
            *(files.upload(http, world["lily"], care, f"{i} {name}", bomb) for i in range(3))
        )
    stop.set()
    await watcher
    return list(responses), latencies, max(seen)


async def test_a_zip_directory_bomb_is_refused_by_the_checking_child(
    server: RunningServer,
    http: httpx.AsyncClient,
    world: World,
    care: str,
    parsed_here: Counter[str],
) -> None:
    """Finding 1: a 26 MB .docx whose directory lists 490,000 parts (its end record
    claiming two), three at once."""
    responses, latencies, children = await _upload_in_parallel(
        server, http, world, care, "notes.docx", hostile.zip_directory_bomb()
    )
    for response in responses:
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "archive_bomb"
        assert "5000 parts" in response.json()["detail"]
    assert parsed_here["zip directory"] == 0, "the server process walked a zip directory"
    assert 1 <= children <= server.settings.file_checks_concurrency
    assert latencies, "the ordinary user's messages were acknowledged"
    report("zip directory bomb x3", latencies)
    assert await rows_of(world.tenant_id) == 0
    assert objects_of(world.tenant_id) == []


async def test_a_png_chunk_bomb_is_refused_by_the_checking_child(
    server: RunningServer,
    http: httpx.AsyncClient,
    world: World,
    care: str,
    parsed_here: Counter[str],
) -> None:
    """Finding 3: a 24 MB PNG with 2 million empty private chunks before its image data,
    three at once."""
    responses, latencies, children = await _upload_in_parallel(
        server, http, world, care, "photo.png", hostile.png_chunk_bomb()
    )
    for response in responses:
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "image_bomb"
    assert parsed_here["png chunks"] == 0, "the server process walked PNG chunks"
    assert 1 <= children <= server.settings.file_checks_concurrency
    assert latencies, "the ordinary user's messages were acknowledged"
    report("PNG chunk bomb x3", latencies)
    assert await rows_of(world.tenant_id) == 0
    assert objects_of(world.tenant_id) == []


def _checking_children() -> list[psutil.Process]:
    return [
        c
        for c in psutil.Process().children()
        if "careline.attachments.examine" in " ".join(c.cmdline())
    ]


async def _child_niceness_while(upload: asyncio.Future[httpx.Response]) -> int:
    """The highest niceness a checking child had while `upload` ran (it sets its own as
    it starts, so the poll goes on until the upload ends)."""
    highest = -20
    while not upload.done():
        with contextlib.suppress(psutil.Error):
            highest = max([highest, *(c.nice() for c in _checking_children())])
        await asyncio.sleep(0.05)
    return highest


async def test_a_file_that_outlasts_the_checker_is_refused_when_its_time_is_up(
    server: RunningServer,
    http: httpx.AsyncClient,
    world: World,
    care: str,
    parsed_here: Counter[str],
) -> None:
    """What no cap counts (a JPEG with 6 million empty segments before its frame, which
    Pillow walks one by one) meets the child's limits: it is killed at its wall time
    (3 s here, CARELINE_FILE_CHECK_TIMEOUT_SECONDS) and the upload refused."""
    settings = config.current()
    config.use(settings.model_copy(update={"file_check_timeout_seconds": 3.0}))
    try:
        async with ordinary_user(server, world["sam"], care) as latencies:
            upload = asyncio.ensure_future(
                files.upload(http, world["lily"], care, "photo.jpg", files.jpeg_segment_bomb())
            )
            niceness = await _child_niceness_while(upload)
            response = await upload
    finally:
        config.use(settings)
    # The child gives way to the server for the CPU (careline/attachments/rlimits.py).
    assert niceness >= rlimits.CHILD_NICENESS
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "file_too_complex"
    assert _checking_children() == [], "the child was killed, not left running"
    assert latencies, "the ordinary user's messages were acknowledged"
    report("JPEG segment bomb, killed at its wall time", latencies)
    assert await rows_of(world.tenant_id) == 0
    assert objects_of(world.tenant_id) == []


async def test_ordinary_images_and_documents_still_pass_the_child(
    http: httpx.AsyncClient, world: World, care: str, parsed_here: Counter[str]
) -> None:
    """The checks moved, not loosened: real files get through with their facts."""
    photo = await files.upload(
        http, world["lily"], care, "photo.jpg", files.photo_with_gps(640, 480)
    )
    assert photo.status_code == 201, photo.text
    # Turned upright (its EXIF orientation is 6) when its metadata was taken out.
    assert (photo.json()["width"], photo.json()["height"]) == (480, 640)
    document = await files.upload(http, world["lily"], care, "letter.docx", files.docx())
    assert document.status_code == 201, document.text
    assert document.json()["media_type"].endswith("wordprocessingml.document")
    assert sum(parsed_here.values()) == 0
