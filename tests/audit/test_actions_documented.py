"""docs/audit.md's table of actions names every action careline records, and no other."""

from __future__ import annotations

import re
from pathlib import Path

from careline.audit.actions import ACTIONS

DOC = Path(__file__).parents[2] / "docs" / "audit.md"


def test_every_action_has_its_row_with_its_category() -> None:
    section = DOC.read_text().split("### Actions", 1)[1].split("\n### ", 1)[0]
    rows = dict(re.findall(r"^\| `([a-z_.]+)` \| ([a-z]+) \|", section, flags=re.MULTILINE))
    assert rows == {name: action.category for name, action in ACTIONS.items()}
