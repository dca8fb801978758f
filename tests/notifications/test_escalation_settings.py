"""Admins turn unread escalation on and set the working week it counts in, on the
organisation's settings; bad values are a 422 that changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from careline.kit import limits
from tests.support.world import World

GET = "/api/v1/organisation/settings"
PATCH = "/api/v1/admin/organisation/settings"
OFF = {
    "escalation_hours": None,
    "escalation_admin_hours": None,
    "time_zone": "Europe/London",
    "work_start": "09:00",
    "work_end": "17:00",
    "work_days": [1, 2, 3, 4, 5],
}


def escalation_of(body: dict[str, Any]) -> dict[str, Any]:
    return {name: body[name] for name in OFF}


async def test_off_by_default_and_an_admin_turns_it_on(
    http: httpx.AsyncClient, world: World
) -> None:
    assert escalation_of((await http.get(GET, headers=world["sam"].auth)).json()) == OFF
    body = {
        "escalation_hours": 4,
        "escalation_admin_hours": 8.5,
        "time_zone": "Asia/Riyadh",
        "work_start": "08:00",
        "work_end": "16:30",
        "work_days": [7, 1, 2, 3, 4, 4],
    }
    changed = await http.patch(PATCH, json=body, headers=world["admin"].auth)
    assert changed.status_code == 204, changed.text
    got = (await http.get(GET, headers=world["sam"].auth)).json()
    assert escalation_of(got) == {**body, "work_days": [1, 2, 3, 4, 7]}
    assert got["conversation_start"] == "any_client"  # the rest stays
    # One field alone; the others stay.
    changed = await http.patch(PATCH, json={"escalation_hours": 2}, headers=world["admin"].auth)
    assert changed.status_code == 204, changed.text
    got = (await http.get(GET, headers=world["admin"].auth)).json()
    assert (got["escalation_hours"], got["escalation_admin_hours"]) == (2, 8.5)
    # Turning it off turns the admins' stage off too; the working week stays.
    changed = await http.patch(PATCH, json={"escalation_hours": None}, headers=world["admin"].auth)
    assert changed.status_code == 204, changed.text
    got = (await http.get(GET, headers=world["admin"].auth)).json()
    assert (got["escalation_hours"], got["escalation_admin_hours"]) == (None, None)
    assert got["time_zone"] == "Asia/Riyadh"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"escalation_hours": 0}, "invalid_input"),
        ({"escalation_hours": -1}, "invalid_input"),
        ({"escalation_hours": limits.ESCALATION_HOURS_MAX + 0.5}, "invalid_input"),
        ({"escalation_hours": "4"}, "invalid_input"),
        ({"escalation_hours": True}, "invalid_input"),
        (
            {
                "escalation_hours": 4,
                "escalation_admin_hours": limits.ESCALATION_ADMIN_HOURS_MAX + 1,
            },
            "invalid_input",
        ),
        ({"escalation_hours": 4, "escalation_admin_hours": 4}, "bad_escalation_order"),
        ({"escalation_hours": 4, "escalation_admin_hours": 2}, "bad_escalation_order"),
        ({"escalation_admin_hours": 8}, "bad_escalation_order"),
        ({"time_zone": "Mars/Olympus"}, "bad_time_zone"),
        ({"time_zone": ""}, "invalid_input"),
        ({"time_zone": None}, "null_field"),
        ({"work_start": "9:00"}, "invalid_input"),
        ({"work_start": "24:00"}, "invalid_input"),
        ({"work_end": "08:00"}, "bad_work_hours"),
        ({"work_start": "17:00"}, "bad_work_hours"),
        ({"work_days": []}, "invalid_input"),
        ({"work_days": [0]}, "invalid_input"),
        ({"work_days": [8]}, "invalid_input"),
        ({"work_days": None}, "null_field"),
        ({"escalation": True}, "invalid_input"),
    ],
)
async def test_bad_values_are_refused_and_change_nothing(
    http: httpx.AsyncClient, world: World, body: dict[str, Any], code: str
) -> None:
    refused = await http.patch(
        PATCH, json={**body, "conversation_start": "care_team"}, headers=world["admin"].auth
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == code, refused.text
    got = (await http.get(GET, headers=world["admin"].auth)).json()
    assert escalation_of(got) == OFF
    assert got["conversation_start"] == "any_client"


async def test_the_longest_thresholds_are_accepted(http: httpx.AsyncClient, world: World) -> None:
    body = {
        "escalation_hours": limits.ESCALATION_HOURS_MAX,
        "escalation_admin_hours": limits.ESCALATION_ADMIN_HOURS_MAX,
    }
    changed = await http.patch(PATCH, json=body, headers=world["admin"].auth)
    assert changed.status_code == 204, changed.text
    got = (await http.get(GET, headers=world["admin"].auth)).json()
    assert (got["escalation_hours"], got["escalation_admin_hours"]) == (168, 336)


@pytest.mark.parametrize("who", ["sam", "lily", "grace"])
async def test_only_admins_set_it(http: httpx.AsyncClient, world: World, who: str) -> None:
    refused = await http.patch(PATCH, json={"escalation_hours": 4}, headers=world[who].auth)
    assert refused.status_code == 403, refused.text
    assert escalation_of((await http.get(GET, headers=world["admin"].auth)).json()) == OFF
