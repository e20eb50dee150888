"""Build time against the floor, at 1M and 10M product events (and a demo-size build).

    .venv/bin/python bench/bench_scale.py                 # 1M and 10M events, demo size
    .venv/bin/python bench/bench_scale.py --events 100M --no-demo   # by hand: ~1.7M accounts

For each size: a generated Parquet data set (cached under data/bench/), the floor (DuckDB
creating a table from each file in a new database file plus one GROUP BY per table, see
_measure.py) measured before and after the build, and ``upgrade-warehouse build`` itself,
in this one run. Printed: the times, the build's ratio to the mean of the two floors, the
peak memory of all the build's processes together, and each phase's product events per
second. The demo size (3,000 accounts, CSV, as ``make demo``) is built twice: the first
build parses the dbt project (a new project or a changed one), the second uses the parse
cache, as every later build does. Results are appended to bench/results/scale.jsonl.
"""

from __future__ import annotations

import argparse
import os
import tempfile

import duckdb
from _measure import build, dataset, floor, product_events, record

# The held-out AUC of the win-back model on the generated 10M-event set (145,519
# accounts, 10,592,107 product events), before its training set was bounded: measured
# 2026-12-07 05:20-05:30 UTC on main 1fbe0cc (`marts.winback_model.auc` of a
# `bench_scale.py`-style build of that set: 72,829 validation snapshots, 1,134 upgrades;
# the fits then used 300,000 of all 300,437 labelled snapshots). The AUC of the same
# code and data is the same on every run (deterministic sample, fixed solver).
BASELINE_AUC = 0.8921
AUC_TOLERANCE = 0.01
BUILD_GOAL = 3.0  # x the floor, at 10M and 100M events
WINBACK_GOAL = 0.5  # x the floor, at 10M events
MEMORY_GOAL_GB = 12.0  # at 100M events
BY_HAND = ".venv/bin/python bench/bench_scale.py --events 100M --no-demo"


def count(text: str) -> int:
    text = text.strip().upper()
    scale = {"K": 1_000, "M": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("KM")) * scale)


def rate(events: int, seconds: float) -> str:
    per_s = events / seconds if seconds > 0 else 0
    return f"{per_s / 1e6:.2f}M/s" if per_s >= 1e6 else f"{per_s / 1e3:.0f}k/s"


HEADER = (
    f"{'events':>12} {'floor':>8} {'build':>8} {'ratio':>6} {'peak mem':>9}   "
    f"{'load':>17} {'dbt':>17} {'win-back':>9} {'expectations':>13}"
)


def line(events: int, floor_s: float | None, b) -> str:
    load, dbt, gx = b.phase("load"), b.phase("dbt"), b.phase("expectations")
    winback = b.phase("win-back")
    ratio = f"{b.run.seconds / floor_s:5.2f}x" if floor_s else "     -"
    floor_text = f"{floor_s:7.1f}s" if floor_s else "       -"
    return (
        f"{events:>12,} {floor_text} {b.run.seconds:7.1f}s {ratio} {b.run.peak_gb:7.2f}GB   "
        f"{load:6.1f}s {rate(events, load):>9} {dbt:6.1f}s {rate(events, dbt):>9} "
        f"{winback:8.1f}s {gx:12.1f}s"
    )


def model_auc(warehouse) -> float | None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select auc from marts.winback_model").fetchall()[0][0]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def goals(target: int, floor_s: float, b) -> list[str]:
    """The goal lines of one size (10M: build, win-back step, AUC; 100M: build, memory)."""
    lines = []
    ratio = b.run.seconds / floor_s
    if target in (10_000_000, 100_000_000):
        lines.append(
            f"goal {target // 1_000_000}M build <= {BUILD_GOAL:g}x floor: {ratio:.2f}x "
            f"({b.run.seconds:.1f} s / {floor_s:.1f} s) {verdict(ratio <= BUILD_GOAL)}"
        )
    if target == 10_000_000:
        step = b.winback_step()
        lines.append(
            f"goal 10M win-back step <= {WINBACK_GOAL:g}x floor: {step / floor_s:.2f}x "
            f"({step:.1f} s: models and tests {step - b.phase('win-back'):.1f} s, training "
            f"and scoring {b.phase('win-back'):.1f} s) {verdict(step / floor_s <= WINBACK_GOAL)}"
        )
        auc = b.inspected
        ok = auc is not None and abs(auc - BASELINE_AUC) <= AUC_TOLERANCE
        shown = "none" if auc is None else f"{auc:.4f} ({auc - BASELINE_AUC:+.4f})"
        lines.append(
            f"goal 10M win-back held-out AUC within {AUC_TOLERANCE} of {BASELINE_AUC}: "
            f"{shown} {verdict(ok)}"
        )
    if target == 100_000_000:
        lines.append(
            f"goal 100M peak memory <= {MEMORY_GOAL_GB:g} GB: {b.run.peak_gb:.2f} GB "
            f"{verdict(b.run.peak_gb <= MEMORY_GOAL_GB)}"
        )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", default="1M,10M", help="sizes, comma separated (1M, 10M, 100M)")
    ap.add_argument("--demo", action=argparse.BooleanOptionalAction, default=True)
    args = ap.parse_args()

    sizes = [count(s) for s in args.events.split(",") if s.strip()]
    data_dirs = [dataset(events=n) for n in sizes]
    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start "
        "(other work on the machine slows every time below, the floor's as well)"
    )
    print(HEADER)
    goal_lines = []
    for target, data in zip(sizes, data_dirs):
        events = product_events(data)
        before = floor(data)
        b = build(data, inspect=model_auc)
        after = floor(data)
        floor_s = (before.seconds + after.seconds) / 2
        print(line(events, floor_s, b), flush=True)
        goal_lines += goals(target, floor_s, b)
        record(
            "scale",
            {
                "target_events": target,
                "product_events": events,
                "data": data.name,
                "floor_s": [round(before.seconds, 2), round(after.seconds, 2)],
                "floor_peak_gb": round(max(before.peak_gb, after.peak_gb), 2),
                "build_s": round(b.run.seconds, 2),
                "ratio": round(b.run.seconds / floor_s, 2),
                "build_peak_gb": round(b.run.peak_gb, 2),
                "winback_step_s": round(b.winback_step(), 2),
                "winback_auc": b.inspected,
                "profile": b.profile,
            },
        )
    print(
        "  floor: mean of one run before and one after the build; ratio = build / floor; "
        "peak mem: all the build's processes together"
    )
    for goal in goal_lines:
        print(f"{goal}   (load average {os.getloadavg()[0]:.1f})")
    if 100_000_000 not in sizes:
        print(
            f"goal 100M build <= {BUILD_GOAL:g}x floor in {MEMORY_GOAL_GB:g} GB: by hand, {BY_HAND}"
        )
    if args.demo:
        data = dataset(accounts=3000, fmt="csv")
        events = product_events(data)
        with tempfile.TemporaryDirectory() as cache:
            cold = build(data, {"UPGRADE_WAREHOUSE_CACHE_DIR": cache})
            warm = build(data, {"UPGRADE_WAREHOUSE_CACHE_DIR": cache})
        print(line(events, None, cold) + "   <- demo size (3,000 accounts, CSV), no parse cache")
        print(line(events, None, warm) + "   <- demo size, parse cache as in every later build")
        record(
            "demo",
            {
                "product_events": events,
                "cold_s": round(cold.run.seconds, 2),
                "warm_s": round(warm.run.seconds, 2),
                "peak_gb": round(warm.run.peak_gb, 2),
                "profile": warm.profile,
            },
        )
    print(f"machine: load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
