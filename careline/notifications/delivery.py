"""From a due record to the channels outside the app, after commit, exactly once.

`schedule(tx, rows)` is called with records that were just told (new, or one more
message): it arranges, after commit, that each channel's send runs when it is due.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from careline.db.tx import Tx


def schedule(tx: Tx, rows: Sequence[Any]) -> None:
    """Arrange delivery of these records' due channels once `tx` commits."""
    del tx, rows  # the delivery helper builds this (issue 11 item 7)
