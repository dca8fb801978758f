"""`careline bench notify` end to end at a tiny scale: careline's real web pushes reach
the bench's push endpoint, each accepted (VAPID and aes128gcm checked), each matched to
the window it ends, none lost or doubled, and both halves of the on/off comparison run.
Figures are never asserted here (docs/performance.md)."""

from __future__ import annotations

import json
import subprocess
import sys

from careline.bench.metrics import REQUIRED_FIELDS

MEMBERS = 4
MESSAGES = 20
NOTIFY_FIELDS = (
    "push_jobs",
    "push_jobs_per_message",
    "push_jobs_per_recipient_window",
    "pushes_received",
    "push_late_ms",
    "missing_pushes",
    "duplicate_pushes",
    "saturation_on_msgs_per_s",
    "saturation_off_msgs_per_s",
    "notifications_cost_pct",
    "notifications_cpu_cost_pct",
)


def test_notify_pushes_every_window_once_and_compares_on_with_off() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from careline.cli import main; main(prog_name='careline')",
            "bench",
            "notify",
            *("--members", str(MEMBERS), "--messages", str(MESSAGES)),
            *("--push-delay", "1", "--seconds", "2", "--cost-runs", "2"),
        ],
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    lines = [json.loads(raw) for raw in result.stdout.splitlines() if raw.startswith("{")]
    assert [line["scenario"] for line in lines] == [
        "notify",
        "notify-saturation-on",
        "notify-saturation-off",
    ], result.stdout
    notify, on, off = lines
    for line in lines:
        assert [f for f in REQUIRED_FIELDS if f not in line] == [], line
        assert line["errors"] == 0, line
        assert line["missing_deliveries"] == 0, line
        assert line["subscriptions"] == (MEMBERS if line is notify else 40), line
    assert [f for f in NOTIFY_FIELDS if f not in notify] == [], notify
    assert notify["messages"] == MESSAGES, notify
    assert notify["clients"] == 1, notify  # the sender; everyone else is offline
    # Every window that ended got its push, accepted by the endpoint, once.
    assert notify["push_refused"] == {}, notify
    assert notify["rounds_due"] >= MEMBERS - 1, notify
    assert notify["pushes_received"] == notify["rounds_due"], notify
    assert notify["missing_pushes"] == notify["duplicate_pushes"] == 0, notify
    assert notify["early_pushes"] == notify["unmatched_pushes"] == 0, notify
    assert all(isinstance(v, float) for v in notify["push_late_ms"].values()), notify
    assert notify["push_jobs"] >= notify["rounds_due"], notify
    assert on["notifications_enabled"] is True, on
    assert off["notifications_enabled"] is False, off
    assert isinstance(notify["notifications_cost_pct"], float), notify
