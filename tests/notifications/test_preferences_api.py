"""Notification preferences over the API: careline's defaults per audience, a person's
own choices winning over their organisation's defaults, null going back to the default,
and every refused value answering its documented code with nothing changed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from careline.db.tx import Actor, transaction
from careline.notifications import preferences
from tests.support.world import Persona, World

ME = "/api/v1/me/notifications"
DEFAULTS = "/api/v1/admin/notifications/defaults"

CLIENTS_BUILT_IN = {
    "push": True,
    "email": True,
    "digest": "weekly",
    "quiet_hours": True,
    "quiet_start": "21:00",
    "quiet_end": "07:30",
    "time_zone": "Europe/London",
}
STAFF_BUILT_IN = CLIENTS_BUILT_IN | {"digest": "off", "quiet_hours": False}
NOTHING_CHOSEN = dict.fromkeys(CLIENTS_BUILT_IN)


async def mine(http: httpx.AsyncClient, who: Persona) -> dict[str, Any]:
    got = await http.get(ME, headers=who.auth)
    assert got.status_code == 200, got.text
    body: dict[str, Any] = got.json()
    return body


async def effective(who: Persona) -> preferences.Choices | None:
    """What delivery and digests read for this person."""
    async with transaction(Actor.system(who.tenant_id), readonly=True) as tx:
        return await preferences.effective(tx, who.tenant_id, who.account_id)


@pytest.mark.parametrize(
    ("who", "audience", "built_in"),
    [
        ("lily", "clients", CLIENTS_BUILT_IN),
        ("grace", "clients", CLIENTS_BUILT_IN),
        ("sam", "staff", STAFF_BUILT_IN),
        ("admin", "staff", STAFF_BUILT_IN),
    ],
)
async def test_a_person_who_chose_nothing_gets_their_audiences_built_in_defaults(
    http: httpx.AsyncClient, world: World, who: str, audience: str, built_in: dict[str, Any]
) -> None:
    body = await mine(http, world[who])
    assert body == {
        "audience": audience,
        **NOTHING_CHOSEN,
        "defaults": built_in,
        "effective": built_in,
    }


async def test_own_choices_win_fields_left_out_stay_and_null_goes_back(
    http: httpx.AsyncClient, world: World
) -> None:
    lily = world["lily"]
    changed = await http.patch(
        ME,
        json={"digest": "daily", "time_zone": "America/New_York", "quiet_start": "22:15"},
        headers=lily.auth,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["digest"], body["time_zone"], body["quiet_start"]) == (
        "daily",
        "America/New_York",
        "22:15",
    )
    assert (body["push"], body["quiet_end"]) == (None, None)
    assert body["effective"] == CLIENTS_BUILT_IN | {
        "digest": "daily",
        "time_zone": "America/New_York",
        "quiet_start": "22:15",
    }
    assert await mine(http, lily) == body
    # Delivery reads the same.
    choices = await effective(lily)
    assert choices is not None
    assert (choices.digest, choices.time_zone, choices.quiet_start.hour) == (
        "daily",
        "America/New_York",
        22,
    )
    # Another field alone: the earlier choices stay.
    await http.patch(ME, json={"email": False}, headers=lily.auth)
    body = await mine(http, lily)
    assert (body["email"], body["digest"], body["time_zone"]) == (
        False,
        "daily",
        "America/New_York",
    )
    # Null: back to the organisation's default, the rest untouched.
    back = await http.patch(ME, json={"digest": None, "email": None}, headers=lily.auth)
    assert back.status_code == 200, back.text
    assert (back.json()["digest"], back.json()["email"]) == (None, None)
    assert back.json()["effective"]["digest"] == "weekly"
    assert back.json()["effective"]["email"] is True
    assert back.json()["time_zone"] == "America/New_York"
    # Nobody else's choices moved.
    for other in ("tom", "grace", "sam"):
        assert (await mine(http, world[other]))["digest"] is None


async def test_the_organisations_defaults_apply_to_their_audience_and_own_choice_wins(
    http: httpx.AsyncClient, world: World
) -> None:
    await http.patch(ME, json={"digest": "daily"}, headers=world["lily"].auth)
    set_ = await http.patch(
        DEFAULTS,
        json={"clients": {"digest": "off", "quiet_hours": False, "email": False}},
        headers=world["admin"].auth,
    )
    assert set_.status_code == 200, set_.text
    assert set_.json() == {
        "clients": CLIENTS_BUILT_IN
        | {"digest": "off", "quiet_hours": False, "email": False, "custom": True},
        "staff": STAFF_BUILT_IN | {"custom": False},
    }
    assert (await http.get(DEFAULTS, headers=world["admin"].auth)).json() == set_.json()
    # Tom and Grace chose nothing: the organisation's default is theirs.
    for who in ("tom", "grace"):
        body = await mine(http, world[who])
        assert body["defaults"]["digest"] == "off"
        assert (body["effective"]["digest"], body["effective"]["email"]) == ("off", False)
        assert body["effective"]["quiet_hours"] is False
    # Lily chose a daily digest: that wins; the rest follows the organisation.
    lily = await mine(http, world["lily"])
    assert (lily["effective"]["digest"], lily["effective"]["email"]) == ("daily", False)
    # Staff are another audience: untouched.
    assert (await mine(http, world["sam"]))["effective"] == STAFF_BUILT_IN
    # Staff defaults too, then a field of them alone: the others stay.
    await http.patch(DEFAULTS, json={"staff": {"push": False}}, headers=world["admin"].auth)
    await http.patch(
        DEFAULTS, json={"staff": {"time_zone": "Europe/Paris"}}, headers=world["admin"].auth
    )
    sam = await mine(http, world["sam"])
    assert (sam["effective"]["push"], sam["effective"]["time_zone"]) == (False, "Europe/Paris")
    choices = await effective(world["sam"])
    assert choices is not None
    assert (choices.push, choices.time_zone) == (False, "Europe/Paris")


BAD_OWN = [
    ({"push": "yes"}, "invalid_preference"),
    ({"push": 1}, "invalid_preference"),
    ({"email": "off"}, "invalid_preference"),
    ({"digest": "monthly"}, "invalid_preference"),
    ({"digest": True}, "invalid_preference"),
    ({"quiet_hours": "true"}, "invalid_preference"),
    ({"quiet_start": "7:30"}, "invalid_time"),
    ({"quiet_start": "24:00"}, "invalid_time"),
    ({"quiet_end": "07:60"}, "invalid_time"),
    ({"quiet_end": "07:30:00"}, "invalid_time"),
    ({"quiet_end": 730}, "invalid_time"),
    ({"time_zone": "Mars/Olympus_Mons"}, "invalid_time_zone"),
    ({"time_zone": "europe/london"}, "invalid_time_zone"),
    ({"time_zone": "../../etc/passwd"}, "invalid_time_zone"),
    ({"time_zone": ""}, "invalid_time_zone"),
    ({"time_zone": 1}, "invalid_time_zone"),
    ({"quiet_start": "07:30"}, "empty_quiet_hours"),  # would equal the default end
    ({"quiet_start": "06:00", "quiet_end": "06:00"}, "empty_quiet_hours"),
    ({"sound": True}, "invalid_input"),
    # One bad field refuses the good ones beside it.
    ({"digest": "daily", "time_zone": "Nowhere/Else"}, "invalid_time_zone"),
]


@pytest.mark.parametrize(("body", "code"), BAD_OWN)
async def test_a_refused_preference_answers_its_code_and_changes_nothing(
    http: httpx.AsyncClient, world: World, body: dict[str, Any], code: str
) -> None:
    lily = world["lily"]
    await http.patch(ME, json={"push": False}, headers=lily.auth)
    before = await mine(http, lily)
    refused = await http.patch(ME, json=body, headers=lily.auth)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == code, refused.text
    assert await mine(http, lily) == before


BAD_DEFAULTS = [
    ({"clients": {"digest": None}}, "invalid_preference"),
    ({"clients": {"push": "on"}}, "invalid_preference"),
    ({"staff": {"quiet_end": "25:00"}}, "invalid_time"),
    ({"staff": {"time_zone": "Atlantis"}}, "invalid_time_zone"),
    ({"staff": {"quiet_start": "09:00", "quiet_end": "09:00"}}, "empty_quiet_hours"),
    ({"guests": {"push": False}}, "invalid_input"),
    ({"clients": {"push": False, "colour": "red"}}, "invalid_input"),
    # The valid audience beside a refused one is not changed either.
    (
        {"clients": {"push": False}, "staff": {"quiet_start": "1:00"}},
        "invalid_time",
    ),
    (
        {"clients": {"push": False}, "staff": {"quiet_start": "08:00", "quiet_end": "08:00"}},
        "empty_quiet_hours",
    ),
]


@pytest.mark.parametrize(("body", "code"), BAD_DEFAULTS)
async def test_a_refused_default_answers_its_code_and_changes_nothing(
    http: httpx.AsyncClient, world: World, body: dict[str, Any], code: str
) -> None:
    admin = world["admin"]
    before = (await http.get(DEFAULTS, headers=admin.auth)).json()
    refused = await http.patch(DEFAULTS, json=body, headers=admin.auth)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == code, refused.text
    assert (await http.get(DEFAULTS, headers=admin.auth)).json() == before
    assert (await mine(http, world["tom"]))["effective"] == CLIENTS_BUILT_IN


async def test_signed_out_requests_are_refused(http: httpx.AsyncClient) -> None:
    for method, path in (("GET", ME), ("PATCH", ME), ("GET", DEFAULTS), ("PATCH", DEFAULTS)):
        response = await http.request(method, path, json={})
        assert response.status_code == 401, f"{method} {path}: {response.text}"


async def test_quiet_hours_chosen_over_the_api_hold_in_the_persons_own_time_zone(
    http: httpx.AsyncClient, world: World
) -> None:
    sam = world["sam"]  # staff: no quiet hours until he chooses them
    before = await effective(sam)
    assert before is not None
    assert preferences.in_quiet_hours(before, dt.datetime(2026, 12, 2, 4, tzinfo=dt.UTC)) is None
    chose = await http.patch(
        ME,
        json={
            "quiet_hours": True,
            "quiet_start": "22:00",
            "quiet_end": "06:00",
            "time_zone": "America/New_York",
        },
        headers=sam.auth,
    )
    assert chose.status_code == 200, chose.text
    choices = await effective(sam)
    assert choices is not None
    # 04:00 UTC is 23:00 in New York: quiet until 06:00 there, 11:00 UTC.
    assert preferences.in_quiet_hours(
        choices, dt.datetime(2026, 12, 2, 4, tzinfo=dt.UTC)
    ) == dt.datetime(2026, 12, 2, 11, tzinfo=dt.UTC)
    # 23:00 UTC is 18:00 there: not quiet (in London it would have been).
    assert preferences.in_quiet_hours(choices, dt.datetime(2026, 12, 2, 23, tzinfo=dt.UTC)) is None
