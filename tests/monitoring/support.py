"""Helpers of the dashboard's tests: operators made as careline itself makes them."""

from __future__ import annotations

from careline.db.tx import Actor, transaction
from careline.monitoring import service as monitor_service
from tests.support.world import Persona


async def make_operator(persona: Persona, *, operator: bool = True) -> None:
    async with transaction(Actor.system()) as tx:
        await monitor_service.do_set_operator(tx, persona.email, operator=operator)
