"""`careline bench [SCENARIO...]`: run scenarios, print one JSON line each and a summary."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import click
import orjson

SCENARIO_NAMES = (
    "quiet",
    "busy",
    "team-saturation",
    "threads-saturation",
    "idle",
    "reconnect",
    "find-max",
    "abuse",
    "clinic",
    "notify",
    "audit",
)


@click.command("bench")
@click.argument("scenarios", nargs=-1, type=click.Choice(SCENARIO_NAMES))
@click.option("--clients", default=2000, show_default=True, help="Sockets for idle/reconnect.")
@click.option("--workers", default=2, show_default=True, help="Load-generator processes.")
@click.option("--seconds", type=float, default=None, help="Shorten or lengthen timed scenarios.")
@click.option("--messages", type=int, default=None, help="Messages for quiet, busy and notify.")
@click.option(
    "--read-every",
    type=float,
    default=1.0,
    show_default=True,
    help="Seconds a client waits before acknowledging what it read.",
)
@click.option(
    "--settle",
    type=float,
    default=None,
    help="abuse: seconds to wait after the last attack before measuring memory [60].",
)
@click.option(
    "--attack",
    "attacks",
    multiple=True,
    help="abuse: run only this attack (repeat for several; default: every one).",
)
@click.option(
    "--scale",
    type=click.FloatRange(min=0.01, max=100),
    default=1.0,
    show_default=True,
    help="clinic: the organisation's size (1: 700 people, 200,000 messages; 10: 7,000).",
)
@click.option(
    "--repeats",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="clinic: the most times each operation is timed with nothing else running.",
)
@click.option(
    "--members",
    type=click.IntRange(min=2),
    default=40,
    show_default=True,
    help="notify: people in the team conversation (all but the sender offline).",
)
@click.option(
    "--push-delay",
    type=click.FloatRange(min=0),
    default=None,
    help="notify: the web push delay in seconds, if not as shipped [30].",
)
@click.option(
    "--jobs-concurrency",
    type=click.IntRange(min=1, max=64),
    default=None,
    help="notify: background jobs run at once, if not as shipped [2].",
)
@click.option(
    "--cost-runs",
    type=click.IntRange(min=2),
    default=4,
    show_default=True,
    help="notify and audit: runs of each part, on/off/off/on..., for what the feature costs.",
)
@click.option(
    "--profile",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write py-spy profiles of the server's measured phases here (needs py-spy).",
)
def bench_command(
    *,
    scenarios: tuple[str, ...],
    clients: int,
    workers: int,
    seconds: float | None,
    messages: int | None,
    read_every: float,
    settle: float | None,
    attacks: tuple[str, ...],
    scale: float,
    repeats: int,
    members: int,
    push_delay: float | None,
    jobs_concurrency: int | None,
    cost_runs: int,
    profile: Path | None,
) -> None:
    """Measure careline: a real server (embedded PostgreSQL, fsync on) driven over real
    WebSockets by separate load-generator processes. With no SCENARIO, runs them all.
    JSON lines go to stdout, progress to stderr (docs/performance.md)."""
    from careline.bench.abuse import summary as abuse_summary
    from careline.bench.audit import summary as audit_summary
    from careline.bench.clinic import summary as clinic_summary
    from careline.bench.harness import Options
    from careline.bench.loadgen import raise_fd_limit
    from careline.bench.metrics import summary
    from careline.bench.notify import summary as notify_summary
    from careline.bench.scenarios import SCENARIOS
    from careline.bench.server import clean_environment

    clean_environment()
    raise_fd_limit()  # inherited by the server and load generators
    options = Options(
        workers=workers,
        clients=clients,
        seconds=seconds,
        messages=messages,
        read_every=read_every,
        settle=settle,
        attacks=attacks,
        scale=scale,
        repeats=repeats,
        members=members,
        push_delay=push_delay,
        jobs_concurrency=jobs_concurrency,
        cost_runs=cost_runs,
        profile=profile.resolve() if profile else None,
    )
    chosen = scenarios or SCENARIO_NAMES
    started = time.monotonic()
    failed = False
    for name in chosen:
        click.echo(f"== {name}", err=True)
        try:
            lines: list[dict[str, Any]] = asyncio.run(SCENARIOS[name](options))
        except Exception as exc:
            failed = True
            click.echo(f"careline bench: {name} failed: {exc}", err=True)
            continue
        for line in lines:
            click.echo(orjson.dumps(line).decode())
            if line["scenario"] == "abuse":
                click.echo(abuse_summary(line))
            elif line["scenario"] == "clinic":
                click.echo(clinic_summary(line))
            elif line["scenario"] == "notify":
                click.echo(notify_summary(line))
            elif line["scenario"] == "audit":
                click.echo(audit_summary(line))
            elif line["scenario"].startswith("audit-history"):
                click.echo(
                    f"{line['scenario']}: {line['reads']} reads of a page of "
                    f"{line['page_size']}, p50 {line['read_ms']['p50']} / "
                    f"p99 {line['read_ms']['p99']} ms"
                )
            elif "delivery_ms" in line:
                click.echo(summary(line))
            else:
                click.echo(
                    f"{line['scenario']}: {line['inserts_per_s']} committed inserts/s from "
                    f"{line['connections']} connections; careline reaches "
                    f"{line['efficiency_pct']}% of it\n"
                    f"  careline's send statements alone (pgbench, RLS on): "
                    f"{line['send_sql_per_s']}/s; careline reaches {line['of_send_sql_pct']}% of it"
                )
            sys.stdout.flush()
    click.echo(f"== done in {time.monotonic() - started:.0f} s", err=True)
    if failed:
        sys.exit(1)
