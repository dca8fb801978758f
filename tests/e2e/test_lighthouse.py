"""Lighthouse (npm's `lighthouse`, with Debian's chromium) on the sign-in page and on a
signed-in inbox, on a phone: accessibility and best practices score 100. Neither
depends on timing; the performance score does, and is measured by `make lighthouse`
instead (docs/performance.md)."""

from __future__ import annotations

import pytest

from tests.e2e.showcase import make_showcase
from tests.support import lighthouse
from tests.support.server import RunningServer
from tests.support.world import PASSWORD

CATEGORIES = ("accessibility", "best-practices")


@pytest.fixture(scope="module", autouse=True)
def _installed() -> None:
    problem = lighthouse.missing()
    if problem:
        pytest.fail(problem)


async def test_the_sign_in_page_scores_100(server: RunningServer) -> None:
    report = await lighthouse.run(f"{server.base_url}/signin", categories=CATEGORIES)
    assert report.failing == {}
    assert report.console == []
    assert report.scores == {"accessibility": 1.0, "best-practices": 1.0}


async def test_a_signed_in_inbox_scores_100(server: RunningServer) -> None:
    show = await make_showcase(server.base_url)
    cookie = await lighthouse.session_cookie(server.base_url, show["sam"].email, PASSWORD)
    report = await lighthouse.run(f"{server.base_url}/", categories=CATEGORIES, cookie=cookie)
    assert report.failing == {}
    assert report.console == []
    assert report.scores == {"accessibility": 1.0, "best-practices": 1.0}
