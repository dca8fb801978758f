"""Project rules as code: the docs users read agree with what the code enforces."""

from __future__ import annotations

import re
from pathlib import Path

import careline.messages.ops
import careline.realtime.ops
import careline.receipts.ops  # noqa: F401 - registers socket ops
from careline import config
from careline.kit import limits
from careline.realtime import protocol

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def test_config_docs_are_generated_from_the_settings() -> None:
    assert (DOCS / "config.md").read_text() == config.config_markdown(), (
        "docs/config.md is stale: run `careline config-docs > docs/config.md`"
    )


def test_every_limit_is_documented_with_its_value() -> None:
    page = (DOCS / "limits.md").read_text()
    rows = {
        m.group(1): m.group(0) for m in re.finditer(r"^\| `([A-Z_]+)` \|.*$", page, re.MULTILINE)
    }
    for name, value in vars(limits).items():
        if not name.isupper() or not isinstance(value, int):
            continue
        assert name in rows, f"{name} is not in docs/limits.md"
        assert f"{value:,}" in rows[name] or str(value) in rows[name], (
            f"docs/limits.md shows a wrong value for {name}"
        )


def test_every_error_code_in_the_code_is_documented() -> None:
    page = (DOCS / "errors.md").read_text()
    documented = set(re.findall(r"`([a-z_]+)`", page))
    used = set()
    for path in (ROOT / "careline").rglob("*.py"):
        used |= set(re.findall(r'code="([a-z_]+)"', path.read_text()))
        used |= set(re.findall(r'code = "([a-z_]+)"', path.read_text()))
    assert used, "found no error codes: the pattern is wrong"
    assert used - documented == set(), "error codes missing from docs/errors.md"


def test_every_socket_op_is_documented() -> None:
    page = (DOCS / "protocol.md").read_text()
    missing = [name for name in protocol.OPS if f"`{name}`" not in page]
    assert missing == []


def test_the_readme_opens_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^make (\w+)$", readme, re.MULTILINE)
    assert commands[:2] == ["run", "test"]
