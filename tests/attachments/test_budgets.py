"""Per-person file budgets (issue 16, finding 7: one uploader could fill the
organisation's whole quota): uploads per minute, and file MiB per person per 24 hours,
which the organisation's admins set. Refused uploads store nothing."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from careline import config
from tests.attachments.conftest import rows_of
from tests.support import files
from tests.support.world import World

MIB = 1024 * 1024
SETTINGS = "/api/v1/admin/settings"


@pytest.fixture
def uploads_per_minute() -> Iterator[None]:
    saved = config.current()
    config.use(saved.model_copy(update={"budget_uploads": "3/minute"}))
    yield
    config.use(saved)


def _check_refusal(response: httpx.Response, budget: str) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["code"], body["budget"]) == ("rate_limited", budget), body
    assert int(response.headers["retry-after"]) == body["retry_after"] >= 1


async def test_uploads_over_the_budget_per_minute_are_refused(
    http: httpx.AsyncClient, world: World, care: str, uploads_per_minute: None
) -> None:
    for i in range(3):
        ok = await files.upload(http, world["lily"], care, f"note {i}.txt", b"fine\n")
        assert ok.status_code == 201, ok.text
    over = await files.upload(http, world["lily"], care, "one more.txt", b"fine\n")
    _check_refusal(over, "uploads")
    assert over.json()["retry_after_ms"] <= 60_000
    assert await rows_of(world.tenant_id) == 3
    other = await files.upload(http, world["sam"], care, "mine.txt", b"fine\n")
    assert other.status_code == 201, other.text  # sam's budget is his own


async def test_file_bytes_per_person_per_day_is_the_organisations_setting(
    http: httpx.AsyncClient, world: World, care: str
) -> None:
    admin = world["admin"].auth
    default = await http.get(SETTINGS, headers=admin)
    assert default.json() == {"file_mb_per_person_per_day": 1024}, default.text
    changed = await http.patch(SETTINGS, json={"file_mb_per_person_per_day": 1}, headers=admin)
    assert changed.status_code == 200, changed.text
    assert changed.json() == {"file_mb_per_person_per_day": 1}

    piece = b"a line of notes\n" * (MIB * 6 // 10 // 16)  # 0.6 MiB
    first = await files.upload(http, world["lily"], care, "first.txt", piece)
    assert first.status_code == 201, first.text
    second = await files.upload(http, world["lily"], care, "second.txt", piece)
    _check_refusal(second, "file_bytes_per_day")
    assert await rows_of(world.tenant_id) == 1
    # Per person: sam still has his MiB today.
    his = await files.upload(http, world["sam"], care, "his.txt", piece)
    assert his.status_code == 201, his.text

    raised = await http.patch(SETTINGS, json={"file_mb_per_person_per_day": 2}, headers=admin)
    assert raised.status_code == 200, raised.text
    again = await files.upload(http, world["lily"], care, "second.txt", piece)
    assert again.status_code == 201, again.text


@pytest.mark.parametrize("who", ["sam", "lily", "grace"])
async def test_only_an_admin_changes_the_organisations_settings(
    http: httpx.AsyncClient, world: World, who: str
) -> None:
    refused = await http.patch(
        SETTINGS, json={"file_mb_per_person_per_day": 100_000}, headers=world[who].auth
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "admin_only")
    read = await http.get(SETTINGS, headers=world["admin"].auth)
    assert read.json() == {"file_mb_per_person_per_day": 1024}


@pytest.mark.parametrize(
    "body",
    [
        {"file_mb_per_person_per_day": 0},
        {"file_mb_per_person_per_day": 1_048_577},
        {"file_mb_per_person_per_day": "5"},
        {"unknown": 1},
    ],
)
async def test_bad_settings_are_refused_and_change_nothing(
    http: httpx.AsyncClient, world: World, body: dict[str, object]
) -> None:
    admin = world["admin"].auth
    refused = await http.patch(SETTINGS, json=body, headers=admin)
    assert refused.status_code == 422, refused.text
    assert (await http.get(SETTINGS, headers=admin)).json() == {"file_mb_per_person_per_day": 1024}
