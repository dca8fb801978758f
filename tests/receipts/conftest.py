"""Fixtures of the receipts tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from careline import config
from tests.support.server import RunningServer


@pytest.fixture
def many_receipts(server: RunningServer) -> Iterator[None]:
    """These tests send receipts and reactions far faster than a person could."""
    config.use(
        server.settings.model_copy(
            update={"budget_receipts": "100000/second", "budget_reactions": "100000/second"}
        )
    )
    yield
    config.use(server.settings)
