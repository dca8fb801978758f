"""Every word careline puts in an e-mail, built from a closed set of fields.

E-mail leaves careline's protection, so it says that something happened and where to
look, never what: an organisation's name and a link. Never a person's name (neither the
recipient's nor the sender's), a role, or anything said in careline.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Words:
    subject: str
    text: str


def invitation(*, organisation: str, link: str, days: int) -> Words:
    """The e-mail that carries an invitation's one-time link."""
    return Words(
        subject=f"You are invited to {organisation} on careline",
        text=(
            f"You have been invited to join {organisation} on careline, the secure "
            "messaging service it uses.\n\n"
            f"To accept, open this link:\n{link}\n\n"
            f"The link works once and expires after {days} days. If you already use "
            "careline, you will sign in with your own password; otherwise you will "
            "choose one.\n\n"
            "If you did not expect this, you can ignore this e-mail.\n"
        ),
    )
