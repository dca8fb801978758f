"""Bad files get a clear 4xx problem and leave nothing behind: no row, no stored byte."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.attachments.conftest import objects_of, rows_of
from tests.support import files
from tests.support.world import World

MIB = 1024 * 1024

CASES: dict[str, tuple[str, Callable[[], bytes], int, str]] = {
    "over the size limit": ("scan.pdf", lambda: b"%PDF-1.7\n" + b"\0" * (25 * MIB), 413, "file_too_large"),
    "an executable renamed .pdf": ("report.pdf", files.windows_exe, 415, "file_type_refused"),
    "an HTML page renamed .png": ("photo.png", lambda: files.HTML_PAGE, 415, "file_type_refused"),
    "an SVG with script": ("drawing.svg", lambda: files.SVG_WITH_SCRIPT, 415, "file_type_refused"),
    "an SVG with script renamed .png": ("drawing.png", lambda: files.SVG_WITH_SCRIPT, 415, "file_type_refused"),
    "a 60000x60000 image bomb": ("bomb.png", files.png_bomb, 422, "image_too_large"),
    "a zip bomb as a Word document": ("notes.docx", files.zip_bomb_docx, 422, "archive_bomb"),
    "a Word document with macros": (
        "letter.docx",
        lambda: files.docx({"word/vbaProject.bin": b"Attribute VB_Name"}),
        422,
        "macros_refused",
    ),
    "an old Office file": ("letter.doc", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, 415, "file_type_refused"),
    "an old Office file renamed .docx": ("letter.docx", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, 415, "file_type_refused"),
    "a PDF named as an image": ("x-ray.png", files.pdf_page, 415, "type_mismatch"),
    "text that is not UTF-8": ("notes.txt", lambda: "Café".encode("latin-1") * 10, 415, "file_type_refused"),
    "a script": ("notes.txt", lambda: b"#!/bin/sh\nrm -rf ~\n", 415, "file_type_refused"),
    "an empty file": ("empty.txt", lambda: b"", 422, "file_empty"),
    "a damaged image": ("photo.jpg", lambda: b"\xff\xd8\xff\xe0" + b"\x13" * 100, 422, "file_corrupt"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
async def test_a_bad_file_is_refused_clearly_and_leaves_nothing(
    http: httpx.AsyncClient, world: World, care: str, case: str
) -> None:
    name, make, status, code = CASES[case]
    response = await files.upload(http, world["lily"], care, name, make())
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code
    assert problem["detail"], "the error says what is wrong"
    assert problem["detail"] != problem["title"]
    assert await rows_of(world.tenant_id) == 0
    assert objects_of(world.tenant_id) == []


async def test_the_organisation_quota_is_kept(
    http: httpx.AsyncClient, world: World, care: str
) -> None:
    """The tests' organisations may keep 64 MiB (tests/support/server.py)."""
    sam = world["sam"]
    twenty = b"%PDF-1.7\n" + b"\0" * (20 * MIB)
    for i in range(3):
        response = await files.upload(http, sam, care, f"scan {i}.pdf", twenty)
        assert response.status_code == 201, response.text
    full = await files.upload(http, sam, care, "scan 3.pdf", twenty)
    assert full.status_code == 413, full.text
    assert full.json()["code"] == "quota_exceeded"
    assert await rows_of(world.tenant_id) == 3
    assert len(objects_of(world.tenant_id)) == 3
    # Withdrawing an unsent upload makes room again.
    listed = [o.split("/")[1] for o in objects_of(world.tenant_id)]
    withdrawn = await http.delete(f"/api/v1/attachments/{listed[0]}", headers=sam.auth)
    assert withdrawn.status_code == 204, withdrawn.text
    again = await files.upload(http, sam, care, "scan 3.pdf", twenty)
    assert again.status_code == 201, again.text


async def test_a_name_is_cleaned_before_it_is_stored(
    http: httpx.AsyncClient, world: World, care: str
) -> None:
    response = await files.upload(
        http, world["lily"], care, "../../etc/\u202egnp.exe\x07 notes .txt", b"plain words\n"
    )
    assert response.status_code == 201, response.text
    name = response.json()["name"]
    assert "/" not in name
    assert "\u202e" not in name
    assert "\x07" not in name
    assert name.endswith(".txt")


async def test_a_file_named_like_a_program_is_refused_before_it_is_read(
    http: httpx.AsyncClient, world: World, care: str
) -> None:
    response = await files.upload(http, world["lily"], care, "setup.exe", b"harmless text")
    assert response.status_code == 415, response.text
    assert response.json()["code"] == "file_type_refused"
    assert await rows_of(world.tenant_id) == 0
