"""Which conversation each of a person's devices has open and visible, so delivery can
keep quiet outside the app while they are looking (docs/notifications.md, "Delivery").

The web client says so over its socket (`visibility.set`, docs/protocol.md): the
conversation its thread view shows, and whether the page is visible. A socket that
closes forgets what it said. Per node for now, behind `Visibility`: a Redis version
would keep one hash per membership (socket -> conversation) with the socket's
heartbeat as its expiry, so a delivery job on any node sees every node's devices.
"""

from __future__ import annotations

import uuid
from typing import Protocol

MemberKey = tuple[uuid.UUID, uuid.UUID]  # (tenant_id, account_id)


class Visibility(Protocol):
    def set(self, member: MemberKey, socket: object, conversation_id: uuid.UUID | None) -> None:
        """This socket shows `conversation_id` in a visible page (None: nothing visible)."""

    def drop(self, member: MemberKey, socket: object) -> None:
        """The socket closed: it shows nothing."""

    def is_visible(self, member: MemberKey, conversation_id: uuid.UUID) -> bool:
        """Whether any of the member's devices shows this conversation, visibly."""


class LocalVisibility:
    """This node's book (implements `Visibility`): at most one entry per open socket."""

    def __init__(self) -> None:
        self._by_member: dict[MemberKey, dict[object, uuid.UUID]] = {}

    def set(self, member: MemberKey, socket: object, conversation_id: uuid.UUID | None) -> None:
        if conversation_id is None:
            self.drop(member, socket)
            return
        self._by_member.setdefault(member, {})[socket] = conversation_id

    def drop(self, member: MemberKey, socket: object) -> None:
        shown = self._by_member.get(member)
        if shown is None:
            return
        shown.pop(socket, None)
        if not shown:
            del self._by_member[member]

    def is_visible(self, member: MemberKey, conversation_id: uuid.UUID) -> bool:
        return conversation_id in self._by_member.get(member, {}).values()

    def __len__(self) -> int:
        return sum(map(len, self._by_member.values()))


class _State:
    book: Visibility = LocalVisibility()


_state = _State()


def current() -> Visibility:
    return _state.book


def use(book: Visibility) -> None:
    """Replace the book (a Redis version for several nodes)."""
    _state.book = book
