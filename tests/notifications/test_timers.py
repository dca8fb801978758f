"""A read within the delay costs no job: the read drops the record's timers, so nothing
is queued at its due time (what made notifications expensive under load)."""

from __future__ import annotations

import httpx

from careline.notifications import delivery
from tests.notifications.support import record, send
from tests.realtime.test_live import open_care
from tests.support.server import RunningServer
from tests.support.world import World


def _armed(notification_id: object) -> set[str]:
    timers = delivery.timers()
    assert timers is not None, "the test server runs delivery's timers"
    return {key for key in timers._handles if key.startswith(f"{notification_id}:")}


async def test_reading_within_the_delay_drops_the_records_timers(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    conversation_id = await open_care(http, world)
    [seq] = await send(http, world, "sam", conversation_id)
    told = await record(world, "lily", conversation_id)
    assert _armed(told["id"]) == {f"{told['id']}:push:1"}  # e-mail is past the horizon

    read = await http.post(
        f"/api/v1/conversations/{conversation_id}/receipt",
        json={"read_seq": seq},
        headers=world["lily"].auth,
    )
    assert read.status_code == 200, read.text

    assert _armed(told["id"]) == set()
    assert (await record(world, "lily", conversation_id))["push_state"] == "cancelled"
