"""`careline bench abuse` end to end with very short attacks: every attack of issue 16
runs, stops at its bound, and is reported with every field; the ordinary users lose
nothing meanwhile. The timing and memory targets are the bench's to judge, never a
test's (docs/performance.md, "Abuse")."""

from __future__ import annotations

import json
import subprocess
import sys

from careline.bench.attacks import ATTACKS

SECONDS = 2
ATTACK_FIELDS = (
    "attack",
    "what",
    "duration_s",
    "ordinary",
    "attacker",
    "server_rss_peak_mib",
    "server_rss_end_mib",
    "server_fds_peak",
    "server_fds_end",
    "ack_p99_pass",
)
ORDINARY_FIELDS = ("sent", "acked", "ack_ms", "delivery_ms", "errors", "missing_deliveries")
LINE_FIELDS = (
    "attack_s",
    "settle_s",
    "warm_up",
    "no_attack",
    "attacks",
    "server_rss_baseline_mib",
    "server_rss_after_mib",
    "memory_pass",
    "pass",
)


def _check_ordinary(name: str, ordinary: dict[str, object]) -> None:
    assert [f for f in ORDINARY_FIELDS if f not in ordinary] == [], (name, ordinary)
    for latency in ("ack_ms", "delivery_ms"):
        figures = ordinary[latency]
        assert isinstance(figures, dict), (name, ordinary)
        assert sorted(figures) == ["max", "p50", "p95", "p99"], (name, ordinary)
        assert all(isinstance(v, float) for v in figures.values()), (name, ordinary)
    assert ordinary["errors"] == 0, (name, ordinary)
    assert ordinary["missing_deliveries"] == 0, (name, ordinary)


def test_abuse_runs_every_attack_and_reports_every_field() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from careline.cli import main; main(prog_name='careline')",
            "bench",
            "abuse",
            *("--seconds", str(SECONDS), "--settle", "1"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    (line,) = [json.loads(raw) for raw in result.stdout.splitlines() if raw.startswith("{")]
    assert line["scenario"] == "abuse"
    assert [f for f in LINE_FIELDS if f not in line] == [], line
    assert isinstance(line["memory_pass"], bool)
    # Before the baseline, an ordinary upload and a sign-in per loop account succeed.
    assert line["warm_up"] == {"200": 4, "201": 1}, line["warm_up"]
    _check_ordinary("no attack", line["no_attack"])
    assert [a["attack"] for a in line["attacks"]] == list(ATTACKS)
    for attack in line["attacks"]:
        name = attack["attack"]
        assert [f for f in ATTACK_FIELDS if f not in attack] == [], attack
        _check_ordinary(name, attack["ordinary"])
        # The attack ran: the attacker got answers (or silence) it counted.
        assert sum(attack["attacker"].values()) > 0, attack
        assert "bench:cut_at_bound" not in attack["attacker"], attack
        assert attack["server_rss_peak_mib"] > 0, attack
        assert isinstance(attack["ack_p99_pass"], bool), attack
