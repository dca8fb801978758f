"""`careline bench` end to end, as an operator runs it: one short scenario, its JSON line
complete and nothing lost. Figures are never asserted here (docs/performance.md)."""

from __future__ import annotations

import json
import subprocess
import sys

from careline.bench.metrics import REQUIRED_FIELDS

MESSAGES = 40
MEMBERS = 11  # busy: one conversation of 11, each member's socket gets every message


def test_busy_reports_every_field_and_delivers_everything() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from careline.cli import main; main(prog_name='careline')",
            "bench",
            "busy",
            "--messages",
            str(MESSAGES),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    lines = [json.loads(raw) for raw in result.stdout.splitlines() if raw.startswith("{")]
    assert [line["scenario"] for line in lines] == ["busy"], result.stdout
    (line,) = lines
    assert [f for f in REQUIRED_FIELDS if f not in line] == [], line
    for latency in ("delivery_ms", "ack_ms"):
        assert sorted(line[latency]) == ["max", "p50", "p95", "p99"], line
        assert all(isinstance(v, float) for v in line[latency].values()), line
    assert line["errors"] == 0, line
    assert line["missing_deliveries"] == 0, line
    assert line["messages"] == MESSAGES, line
    assert line["deliveries"] == MESSAGES * MEMBERS, line
    assert line["clients"] == MEMBERS, line
