"""`careline bench audit` end to end at a tiny scale: every part runs with the audit on
and off, the on runs leave audit events (the reads really were audited) and the off runs
none, and the cost figures are computed. Figures are never asserted here
(docs/performance.md)."""

from __future__ import annotations

import json
import subprocess
import sys

from careline.bench.metrics import REQUIRED_FIELDS

AUDIT_FIELDS = (
    "saturation_on_msgs_per_s",
    "saturation_off_msgs_per_s",
    "audit_cost_pct",
    "audit_cpu_cost_pct",
    "quiet_delivery_p50_added_ms",
    "history_on_p50_ms",
    "history_off_p50_ms",
    "history_p50_added_ms",
)


def test_audit_bench_compares_on_with_off_and_the_on_runs_audit() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from careline.cli import main; main(prog_name='careline')",
            "bench",
            "audit",
            *("--messages", "10", "--seconds", "2", "--cost-runs", "2"),
        ],
        capture_output=True,
        text=True,
        timeout=500,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    lines = [json.loads(raw) for raw in result.stdout.splitlines() if raw.startswith("{")]
    names = [line["scenario"] for line in lines]
    assert names == [
        "audit",
        "audit-saturation-on",
        "audit-saturation-off",
        "audit-quiet-on",
        "audit-quiet-off",
        "audit-history-on",
        "audit-history-off",
    ], result.stdout
    summary, *runs = lines
    assert [f for f in AUDIT_FIELDS if summary.get(f) is None] == [], summary
    for line in runs:
        if "delivery_ms" in line:
            assert [f for f in REQUIRED_FIELDS if f not in line] == [], line
            assert line["errors"] == 0, line
            assert line["missing_deliveries"] == 0, line
        if line["audit_enabled"]:
            assert line["audit_events"] > 0, line
        else:
            assert line["audit_events"] == 0, line
    history_on = runs[4]
    # One event per read of the page (and none for what the warm-up did not read).
    assert history_on["audit_events"] >= history_on["reads"], history_on
    assert runs[0]["history_reads"] > 0, runs[0]
