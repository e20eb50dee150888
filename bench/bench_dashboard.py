"""Dashboard page times in the browser, on the demo warehouse and on a 10M-event one.

    .venv/bin/python bench/bench_dashboard.py                    # demo and 10M events
    .venv/bin/python bench/bench_dashboard.py --sizes demo       # the demo only
    make bench-dashboard

What a user waits for: ``upgrade-warehouse dashboard`` serves the warehouse, Debian's
Chromium (Playwright, never downloaded) at 1280 x 900 opens the app and visits every
page once through the sidebar (the first visit fills the query caches), then
``--rounds`` more times. A page's time is from the click on its sidebar link until its
title is shown and Streamlit reports the script run finished (``notRunning``): the
*second and later* visits, as a user moving between pages. Printed per warehouse: each
page's median over the rounds, and the median and maximum over the pages. Goal: median
<= 300 ms, every page <= 500 ms.

The warehouses are built once and cached under ``data/bench/dashboard/`` (keyed by the
generator's and the project's code): the demo data set (3,000 accounts, as ``make
demo``) and the Parquet data set of about 10M product events of ``bench_scale.py``.
Results are appended to ``bench/results/dashboard.jsonl``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _measure import CLI, DATA, ROOT, dataset, measured, product_events, record

sys.path.insert(0, str(ROOT / "tests"))
from dashboard_support import PAGES, DashboardServer, launch_chromium, wait_rendered

OUT = DATA / "dashboard"
GOAL_MEDIAN_MS, GOAL_MAX_MS = 300, 500


def _code_hash() -> str:
    """The code a warehouse depends on (not the dashboard's): the generator, the loader,
    the build and its gate, the win-back model, models, macros, seeds."""
    digest = hashlib.sha256()
    package = ROOT / "src" / "upgrade_warehouse"
    paths = [
        *sorted((package / "generator").rglob("*.py")),
        *sorted((package / "winback").rglob("*.py")),
        *[package / f for f in ("loader.py", "build.py", "quality.py", "contract.py")],
    ]
    for folder in ("models", "macros", "seeds"):
        paths += sorted(p for p in (ROOT / folder).rglob("*") if p.is_file())
    for path in [*paths, ROOT / "dbt_project.yml"]:
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def warehouse(size: str) -> tuple[Path, int]:
    """(a built warehouse of ``size``: demo or NM events, its product events), cached."""
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"{size}-{_code_hash()}.duckdb"
    if size == "demo":
        args = []
        events_of = ROOT / "data" / "demo"
    else:
        data = dataset(events=int(float(size.rstrip("Mm")) * 1_000_000))
        args = ["--data-dir", str(data)]
        events_of = data
    if not target.is_file():
        print(f"building the {size} warehouse into {target} ...", flush=True)
        run = measured([CLI, "build", *args, "--warehouse", str(target)])
        if run.returncode != 0:
            raise SystemExit(f"build failed:\n{run.stderr[-3000:]}")
        print(f"  built in {run.seconds:.0f} s", flush=True)
    return target, product_events(events_of)


def visit(page, path: str) -> float:
    """Milliseconds from the sidebar click to the page's title shown and the run done."""
    link = page.locator(f"[data-testid='stSidebarNav'] a[href$='/{path}']").first
    started = time.perf_counter()
    link.click()
    wait_rendered(page, PAGES[path], timeout=60_000)
    return (time.perf_counter() - started) * 1000


def measure(path: Path, rounds: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    times: dict[str, list[float]] = {title: [] for title in PAGES.values()}
    with tempfile.TemporaryDirectory() as tmp:
        server = DashboardServer(path, Path(tmp) / "server.log").start()
        try:
            with sync_playwright() as pw:
                browser = launch_chromium(pw)
                try:
                    context = browser.new_context(viewport={"width": 1280, "height": 900})
                    page = context.new_page()
                    page.goto(server.url)
                    wait_rendered(page, PAGES[""], timeout=120_000)
                    order = [p for p in PAGES if p] + [""]
                    for p in order:  # first visits: the caches fill
                        visit(page, p)
                    for _ in range(rounds):
                        for p in order:
                            times[PAGES[p]].append(visit(page, p))
                finally:
                    browser.close()
        finally:
            server.stop()
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="demo,10M", help="demo and/or NM (million events)")
    ap.add_argument("--rounds", type=int, default=3, help="second and later visits per page")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    failed = False
    for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        path, events = warehouse(size)
        times = measure(path, args.rounds)
        per_page = {title: statistics.median(v) for title, v in times.items()}
        median = statistics.median(per_page.values())
        worst = max(per_page, key=per_page.get)
        print(
            f"\n{size} warehouse ({events:,} product events): page time, median of "
            f"{args.rounds} visits after the first"
        )
        for title, ms in per_page.items():
            flag = "" if ms <= GOAL_MAX_MS else f"  > {GOAL_MAX_MS} ms"
            print(f"  {title:<26} {ms:7.0f} ms{flag}")
        ok = median <= GOAL_MEDIAN_MS and per_page[worst] <= GOAL_MAX_MS
        failed |= not ok
        print(f"  {'median':<26} {median:7.0f} ms   (goal <= {GOAL_MEDIAN_MS} ms)")
        print(
            f"  {'slowest: ' + worst:<26} {per_page[worst]:7.0f} ms   "
            f"(goal <= {GOAL_MAX_MS} ms){'' if ok else '   GOAL MISSED'}"
        )
        record(
            "dashboard",
            {
                "size": size,
                "product_events": events,
                "rounds": args.rounds,
                "median_ms": round(median),
                "max_ms": round(per_page[worst]),
                "pages_ms": {t: round(ms) for t, ms in per_page.items()},
                "load_average": round(os.getloadavg()[0], 2),
            },
        )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
