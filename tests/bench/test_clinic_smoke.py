"""`careline bench clinic` end to end at a tiny scale: the clinic is seeded, every
operation of issue 14 is timed alone and under load, and each result names its target
and a verdict, with what the operation saw (texts that open, exact unread counts,
resumes with nothing to replay, lists with every row). Figures are never asserted
against the targets here: that is the bench's to judge (docs/performance.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from careline.bench.clinic_world import A, B, C, layout_for

SCALE = 0.02
OPERATIONS = [
    *(f"history_{c}_{w}" for c in ("huge", "large") for w in ("newest", "middle", "oldest")),
    "unread_one",
    "conversation_list",
    "mark_read_short",
    "resume_{a}",
    "resume_{b}",
    "members_walk",
    "care_relationships_walk",
    "guardian_links_walk",
    "send_ack_small",
    "send_ack_huge",
]


def _sane(name: str, figures: dict[str, Any]) -> None:
    assert figures["samples"] >= 1, (name, figures)
    assert 0 < figures["p50"] <= figures["p95"] <= figures["p99"] <= figures["max"], (name, figures)
    assert isinstance(figures["pass"], bool), (name, figures)
    assert isinstance(figures["target"], str), (name, figures)


def test_clinic_times_every_operation_alone_and_under_load() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from careline.cli import main; main(prog_name='careline')",
            "bench",
            "clinic",
            *("--scale", str(SCALE), "--repeats", "3", "--seconds", "5"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    (line,) = [json.loads(raw) for raw in result.stdout.splitlines() if raw.startswith("{")]
    layout = layout_for(SCALE)
    s, rows = layout.sizes, layout.rows
    names = [
        n.format(a=len(layout.conversations_of(A)), b=len(layout.conversations_of(B)))
        for n in OPERATIONS
    ]
    assert line["scenario"] == "clinic"
    assert line["world"]["people"] == len(layout.roles)
    assert line["world"]["messages"] == sum(c.messages for c in rows.conversations)
    assert isinstance(line["pass"], bool)
    for phase in (line["operations"], line["under_load"]["operations"]):
        assert list(phase) == names
        for name in names:
            _sane(name, phase[name])
        for name in names[9:11]:  # the resumes: every conversation, nothing to replay
            assert phase[name]["ok"] == phase[name]["named"] == int(name.split("_")[1])
            assert phase[name]["replayed"] == 0, phase[name]
    ops = line["operations"]
    for where in ("newest", "middle", "oldest"):
        for conversation in ("huge", "large"):
            history = ops[f"history_{conversation}_{where}"]
            assert history["texts_open"] is True, history
            assert history["items"] == 50, history
    large_unread = s.large - s.large // 5  # the client's, after the clinician's
    assert ops["unread_one"]["unread"] == large_unread
    assert ops["conversation_list"] == ops["conversation_list"] | {
        "conversations": len(layout.conversations_of(C)),
        "unread": large_unread + 10 * s.team_unread,
    }
    assert 0 < ops["mark_read_short"]["unread_left"] < large_unread
    for name in names[9:11]:
        assert ops[name]["pool_peak"] >= 1, ops[name]
    assert ops["members_walk"]["rows"] == len(layout.roles)
    assert ops["care_relationships_walk"]["rows"] == len(rows.care)
    assert ops["guardian_links_walk"]["rows"] == len(rows.links)
    load = line["under_load"]["load"]
    assert load["msgs_per_s"] > 0, load
    assert load["errors"] == 0, load
    assert load["missing_deliveries"] == 0, load
