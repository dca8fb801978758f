"""What a send's job decides at its due time, as a function of the record and the
person (careline/notifications/delivery.py `decide`), and the per-node parts: the
visibility book and the timers."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest

from careline.notifications import delivery
from careline.notifications.delivery import Decision, Due, Timers, decide
from careline.notifications.preferences import Choices
from careline.notifications.visibility import LocalVisibility

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
AWAKE = Choices(
    push=True,
    email=True,
    digest="off",
    quiet_hours=False,
    quiet_start=dt.time(21, 0),
    quiet_end=dt.time(7, 30),
    time_zone="UTC",
)
ID, TENANT = uuid.uuid4(), uuid.uuid4()


def _row(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "kind": "message",
        "read_at": None,
        "push_state": "due",
        "push_round": 1,
        "push_due_at": NOW,
        "email_state": "due",
        "email_round": 1,
        "email_due_at": NOW,
    }
    return row | changes


def _decide(
    row: dict[str, Any],
    channel: str = "push",
    *,
    round_: int = 1,
    choices: Choices | None = AWAKE,
    visible: bool = False,
) -> Decision:
    due = Due(ID, TENANT, channel, round_, NOW)  # type: ignore[arg-type]
    return decide(
        row, due, now=NOW, choices=choices, visible=visible, push_delay=30, email_delay=900
    )


@pytest.mark.parametrize("channel", ["push", "email"])
def test_a_due_send_goes_out(channel: str) -> None:
    assert _decide(_row(), channel) == Decision("send")


def test_read_done_or_another_round_is_left_alone() -> None:
    assert _decide(_row(read_at=NOW)) == Decision("skip")
    for state in ("sent", "off", "suppressed", "cancelled", "failed"):
        assert _decide(_row(push_state=state)) == Decision("skip")
    assert _decide(_row(push_round=2)) == Decision("skip")  # round 2 has its own job


def test_a_send_postponed_meanwhile_waits_for_its_new_time() -> None:
    later = NOW + dt.timedelta(minutes=5)
    assert _decide(_row(push_due_at=later)) == Decision("wait", later)
    # Within the clocks' rounding it is due.
    assert _decide(_row(push_due_at=NOW + dt.timedelta(milliseconds=10))) == Decision("send")


def test_off_by_preference_membership_or_kind() -> None:
    assert _decide(_row(), choices=None) == Decision("off")  # no longer a member
    push_off = Choices(False, True, "off", False, dt.time(21), dt.time(7, 30), "UTC")
    assert _decide(_row(), "push", choices=push_off) == Decision("off")
    assert _decide(_row(), "email", choices=push_off) == Decision("send")
    assert _decide(_row(kind="no.such.kind")) == Decision("off")


def test_quiet_hours_postpone_to_their_end_and_the_email_keeps_behind_the_push() -> None:
    night = Choices(True, True, "off", True, dt.time(11, 0), dt.time(13, 0), "UTC")
    ends = dt.datetime(2026, 3, 2, 13, 0, tzinfo=dt.UTC)
    assert _decide(_row(), "push", choices=night) == Decision("postpone", ends)
    assert _decide(_row(), "email", choices=night) == Decision(
        "postpone", ends + dt.timedelta(seconds=870)
    )
    # Quiet hours come before visibility: the held push is decided again at their end.
    assert _decide(_row(), choices=night, visible=True).action == "postpone"


def test_a_visible_conversation_suppresses() -> None:
    assert _decide(_row(), "push", visible=True) == Decision("suppressed")
    assert _decide(_row(), "email", visible=True) == Decision("suppressed")


def test_the_visibility_book_forgets_a_socket_and_counts_any_device() -> None:
    book = LocalVisibility()
    member, other = (TENANT, uuid.uuid4()), (TENANT, uuid.uuid4())
    conversation = uuid.uuid4()
    phone, laptop = object(), object()
    book.set(member, phone, conversation)
    book.set(member, laptop, None)
    assert book.is_visible(member, conversation)
    assert not book.is_visible(other, conversation)
    assert not book.is_visible(member, uuid.uuid4())
    book.set(member, phone, uuid.uuid4())  # moved on to another conversation
    assert not book.is_visible(member, conversation)
    book.set(member, laptop, conversation)
    book.drop(member, laptop)
    book.drop(member, phone)
    assert len(book) == 0


async def test_timers_defer_each_send_once_at_its_time_and_rearming_replaces() -> None:
    fired: list[tuple[str, float]] = []
    loop = asyncio.get_running_loop()
    done = asyncio.Event()

    async def defer(due: Due) -> None:
        fired.append((due.key, loop.time()))
        done.set()

    timers = Timers(defer)
    start = loop.time()
    soon = delivery.clock.now() + dt.timedelta(seconds=0.2)
    timers.arm(Due(ID, TENANT, "push", 1, soon + dt.timedelta(seconds=5)))
    timers.arm(Due(ID, TENANT, "push", 1, soon))  # the same key: replaces the first
    assert len(timers) == 1
    await asyncio.wait_for(done.wait(), 5)
    assert [key for key, _ in fired] == [f"{ID}:push:1"]
    assert fired[0][1] - start >= 0.15
    assert len(timers) == 0
    timers.arm(Due(ID, TENANT, "email", 1, soon + dt.timedelta(seconds=60)))
    await timers.close()
    assert len(timers) == 0
