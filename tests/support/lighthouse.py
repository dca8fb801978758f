"""Lighthouse (npm's `lighthouse`, installed by `make lighthouse-install` into
.venv/lighthouse) run against Debian's chromium: used by tests/e2e/test_lighthouse.py
(accessibility and best practices, which do not depend on timing) and by
`make lighthouse` (the mobile performance score, a timing, printed and never asserted).

    python -m tests.support.lighthouse     (what `make lighthouse` runs)

starts careline with the demo organisation in a temporary data directory, signs in as
the demo clinician and prints the mobile scores of the sign-in page and the inbox."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
LIGHTHOUSE = ROOT / ".venv" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = os.environ.get("CARELINE_CHROMIUM", "/usr/bin/chromium")
# Those of tests/e2e/conftest.py, headless: nothing but careline on the network.
CHROME_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@dataclass(frozen=True)
class Report:
    scores: dict[str, float]
    # Audits outside performance that did not pass, id -> title, to say what to fix.
    failing: dict[str, str]
    console: list[str]
    metrics: dict[str, str]
    # Performance opportunities Lighthouse still sees, id -> its estimate.
    opportunities: dict[str, str]


def missing() -> str | None:
    """Why Lighthouse cannot run here, or None."""
    if not LIGHTHOUSE.exists():
        return f"{LIGHTHOUSE} is missing: `make test` installs it (make lighthouse-install)"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing: `make test` installs it (scripts/system-packages.txt)"
    return None


async def run(
    url: str,
    *,
    categories: tuple[str, ...],
    cookie: str | None = None,
    desktop: bool = False,
) -> Report:
    """One Lighthouse run (mobile unless `desktop`); `cookie` signs the page in."""
    with tempfile.TemporaryDirectory(prefix="careline-lighthouse-") as scratch:
        output = Path(scratch) / "report.json"
        args = [
            str(LIGHTHOUSE),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={output}",
            f"--only-categories={','.join(categories)}",
            f"--chrome-flags={' '.join([*CHROME_FLAGS, f'--user-data-dir={scratch}/profile'])}",
        ]
        if desktop:
            args.append("--preset=desktop")
        if cookie is not None:
            args.append(f"--extra-headers={json.dumps({'Cookie': cookie})}")
        process = await asyncio.create_subprocess_exec(
            *args,
            env={**os.environ, "CHROME_PATH": CHROMIUM},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _out, err = await process.communicate()
        if process.returncode != 0 or not output.exists():
            raise RuntimeError(f"lighthouse failed ({process.returncode}): {err.decode()[-2000:]}")
        result = json.loads(output.read_text())
    if result.get("runtimeError"):
        raise RuntimeError(f"lighthouse: {result['runtimeError']}")
    scores = {name: c["score"] for name, c in result["categories"].items()}
    refs = {
        r["id"]
        for name, c in result["categories"].items()
        if name != "performance"
        for r in c["auditRefs"]
    }
    failing = {
        a["id"]: " ".join([a["title"], *_nodes(a)])
        for a in result["audits"].values()
        if a["id"] in refs
        and a.get("score") is not None
        and a["score"] < 1
        and a.get("scoreDisplayMode") in ("binary", "numeric", "metricSavings")
    }
    metrics = {
        m: result["audits"][m]["displayValue"]
        for m in ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time")
        if m in result["audits"]
    }
    errors = result["audits"].get("errors-in-console", {}).get("details", {}).get("items", [])
    opportunities = {
        a["id"]: a.get("displayValue", "")
        for a in result["audits"].values()
        if a.get("score") is not None
        and a["score"] < 0.9
        and a.get("details", {}).get("type") == "opportunity"
    }
    return Report(
        scores, failing, [str(e.get("description", e)) for e in errors], metrics, opportunities
    )


def _nodes(audit: dict[str, Any]) -> list[str]:
    """The first few elements an audit points at, to find them."""
    items = audit.get("details", {}).get("items", [])
    nodes = [i.get("node", {}) for i in items if isinstance(i, dict)]
    return [str(n.get("snippet", ""))[:200] for n in nodes[:3] if n]


async def session_cookie(base_url: str, email: str, password: str) -> str:
    """A signed-in browser session's Cookie header, through the real sign-in."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        response = await http.post(
            "/api/v1/auth/login", json={"email": email, "password": password}
        )
        response.raise_for_status()
        return "; ".join(f"{k}={v}" for k, v in response.cookies.items())


async def _measure(base_url: str) -> None:
    from careline.demo import PASSWORD, PEOPLE

    sam = next(p for p in PEOPLE if p.key == "sam")
    cookie = await session_cookie(base_url, sam.email, PASSWORD)
    for name, path, signed_in in (("sign-in", "/signin", False), ("inbox", "/", True)):
        for desktop in (False, True):
            report = await run(
                base_url + path,
                categories=("performance", "accessibility", "best-practices"),
                cookie=cookie if signed_in else None,
                desktop=desktop,
            )
            figures = "  ".join(f"{k} {round(v * 100)}" for k, v in report.scores.items())
            print(f"{name:8} {'desktop' if desktop else 'mobile':8} {figures}")
            print(f"{'':17} {'  '.join(f'{k} {v}' for k, v in report.metrics.items())}")
            for audit, title in sorted(report.failing.items()):
                print(f"    failing: {audit}: {title}")
            for audit, saving in sorted(report.opportunities.items()):
                print(f"    opportunity: {audit} {saving}")


def main() -> int:
    problem = missing()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    port = int(os.environ.get("CARELINE_LIGHTHOUSE_PORT", "8491"))
    with tempfile.TemporaryDirectory(prefix="careline-lighthouse-data-") as data:
        env = {
            **os.environ,
            "CARELINE_DATA_DIR": data,
            "CARELINE_PORT": str(port),
            "CARELINE_DATABASE_DURABLE": "false",
        }
        careline = str(ROOT / ".venv" / "bin" / "careline")
        subprocess.run([careline, "demo"], env=env, check=True, stdout=subprocess.DEVNULL)
        server = subprocess.Popen(
            [careline, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            asyncio.run(_wait_ready(base_url))
            asyncio.run(_measure(base_url))
        finally:
            server.terminate()
            server.wait(timeout=60)
    return 0


async def _wait_ready(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as http:
        for _ in range(600):
            try:
                if (await http.get("/health/ready")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("careline did not become ready")


if __name__ == "__main__":
    sys.exit(main())
