"""Benchmark of `upgrade-warehouse generate`: events per second and peak memory.

    .venv/bin/python bench/bench_generate.py [--accounts 200000] [--format parquet] [--keep DIR]

Generates into a temporary directory (removed afterwards unless --keep) and prints the
wall time, product events per second, total rows per second and the peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _measure import generator_arguments

from upgrade_warehouse.generator import GeneratorConfig, generate


def main() -> None:
    ap = argparse.ArgumentParser()
    generator_arguments(ap, accounts=200_000, fmt="parquet", bad_row_rate=0.0)
    ap.add_argument("--keep", type=Path, default=None, help="write here and keep the files")
    args = ap.parse_args()
    out = args.keep or Path(tempfile.mkdtemp(prefix="bench_generate_"))
    cfg = GeneratorConfig(
        accounts=args.accounts,
        months=args.months,
        format=args.format,
        bad_row_rate=args.bad_row_rate,
    )
    marks: dict[str, float] = {}

    journey_steps = ("simulating accounts", "pricing", "simulating upgrade")

    def progress(msg: str) -> None:  # the journeys end when tables and events start
        if not msg.startswith(journey_steps):
            marks.setdefault("written", time.perf_counter())

    t0 = time.perf_counter()
    manifest = generate(out, cfg, progress)
    wall = time.perf_counter() - t0
    t_sim = marks["written"] - t0
    t_write = wall - t_sim
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    size_mb = sum(p.stat().st_size for p in out.iterdir()) / 2**20
    events = manifest["row_counts"]["product_events"]
    rows = sum(manifest["row_counts"].values())
    print(f"accounts            {args.accounts:,} ({args.months} months, {args.format})")
    print(f"product events      {events:,}")
    print(f"rows, all tables    {rows:,}")
    print(
        f"wall time           {wall:.1f} s (journeys {t_sim:.1f} s, then events and other tables "
        f"{t_write:.1f} s)"
    )
    print(
        f"events / second     {events / wall:,.0f} overall, {events / t_write:,.0f} after the "
        f"journey simulation"
    )
    print(f"rows / second       {rows / wall:,.0f}")
    print(f"peak RSS            {peak_mb:,.0f} MiB")
    print(f"output size         {size_mb:,.0f} MiB")
    if args.keep is None:
        shutil.rmtree(out)


if __name__ == "__main__":
    sys.exit(main())
