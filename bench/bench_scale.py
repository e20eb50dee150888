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

from _measure import build, dataset, floor, product_events, record


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
    for target, data in zip(sizes, data_dirs):
        events = product_events(data)
        before = floor(data)
        b = build(data)
        after = floor(data)
        floor_s = (before.seconds + after.seconds) / 2
        print(line(events, floor_s, b), flush=True)
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
                "profile": b.profile,
            },
        )
    print(
        "  floor: mean of one run before and one after the build; ratio = build / floor; "
        "peak mem: all the build's processes together"
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
