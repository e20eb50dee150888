"""Benchmark of `upgrade-warehouse build` at one size: where the time goes.

    .venv/bin/python bench/bench_build.py [--accounts N] [--format parquet]

Generates a synthetic data set (cached under data/bench/), builds it into a temporary
warehouse through the CLI with ``UPGRADE_WAREHOUSE_PROFILE`` set, and prints the time of
each phase, the loader's time per table, the slowest dbt nodes and the peak memory of
all the build's processes together. Results are appended to bench/results/build.jsonl.
For the ratio to the floor at 1M and 10M events see bench_scale.py.
"""

from __future__ import annotations

import argparse

from _measure import build, dataset, product_events, record


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=20000)
    ap.add_argument("--format", default="parquet", choices=["csv", "parquet"])
    ap.add_argument("--top", type=int, default=10, help="slowest dbt nodes to list")
    args = ap.parse_args()

    data = dataset(accounts=args.accounts, fmt=args.format)
    events = product_events(data)
    b = build(data)
    p = b.profile
    print(
        f"{args.accounts:,} accounts, {events:,} product events ({args.format}): "
        f"build {b.run.seconds:.1f} s, peak memory {b.run.peak_gb:.2f} GB (all processes)"
    )
    for phase in p["phases"]:
        print(
            f"  {phase['phase']:<13} {phase['seconds']:6.1f} s  {phase['amount']:>12,} "
            f"{phase['unit']}  ({events / max(phase['seconds'], 1e-9):,.0f} events/s)"
        )
    step = b.winback_step()
    print(
        f"  win-back step {step:.1f} s ({step / b.run.seconds:.0%} of the build): models and "
        f"their tests {step - b.phase('win-back'):.1f} s, training and scoring "
        f"{b.phase('win-back'):.1f} s (goals against the floor: bench_scale.py)"
    )
    print("  loader, per table (seconds per pass):")
    for table, t in p["load"].items():
        passes = ", ".join(f"{k} {v:.2f}" for k, v in t.items() if k != "rows")
        print(f"    {table:<22} {t['rows']:>12,} rows  {passes}")
    print(
        f"  dbt, slowest {args.top} of {len(p['dbt_nodes'])} nodes "
        f"(parse cache {'hit' if p.get('dbt_parse_cache_hit') else 'miss'}):"
    )
    for node in p["dbt_nodes"][: args.top]:
        print(f"    {node['seconds']:7.2f} s  {node['node']}")
    record(
        "build",
        {
            "accounts": args.accounts,
            "format": args.format,
            "product_events": events,
            "build_s": round(b.run.seconds, 2),
            "peak_gb": round(b.run.peak_gb, 2),
            "winback_step_s": round(step, 2),
            "profile": p,
        },
    )


if __name__ == "__main__":
    main()
