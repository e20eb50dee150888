"""Benchmark of `upgrade-warehouse build`: load + dbt + data expectations + publish.

    .venv/bin/python bench/bench_build.py [--accounts N] [--months M] [--format parquet]

Generates a synthetic data set (cached under bench/results/data-<N>-<M>-<fmt>), builds it
into a temporary warehouse through the CLI, and prints the time of each phase, read off
the build's own progress lines, and rows per second. Results are appended to
bench/results/build.jsonl.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).with_name("upgrade-warehouse"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=20000)
    ap.add_argument("--months", type=int, default=13)
    ap.add_argument("--format", default="parquet", choices=["csv", "parquet"])
    args = ap.parse_args()

    data = ROOT / "bench" / "results" / f"data-{args.accounts}-{args.months}-{args.format}"
    if not (data / "manifest.json").is_file():
        t = time.monotonic()
        subprocess.run(
            [CLI, "generate", "--out", str(data), "--accounts", str(args.accounts),
             "--months", str(args.months), "--format", args.format, "--quiet"],
            check=True,
        )
        print(f"generated {data} in {time.monotonic() - t:.1f} s")
    manifest = json.loads((data / "manifest.json").read_text())
    rows = sum(manifest["row_counts"].values())
    events = manifest["row_counts"]["product_events"]

    with tempfile.TemporaryDirectory() as tmp:
        t = time.monotonic()
        proc = subprocess.run(
            [CLI, "build", "--data-dir", str(data), "--warehouse", f"{tmp}/bench.duckdb",
             "--format", "json"],
            capture_output=True, text=True,
        )
        total = time.monotonic() - t
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        sys.exit(1)
    marks = {}
    for line in proc.stderr.splitlines():
        m = re.match(r"\[\s*([0-9.]+)s\] (running dbt|checking data expectations|publishing)", line)
        if m:
            marks[m.group(2)] = float(m.group(1))
    load = marks["running dbt"]
    dbt = marks["checking data expectations"] - load
    gate = marks["publishing"] - marks["checking data expectations"]
    result = {
        "accounts": args.accounts, "months": args.months, "format": args.format,
        "rows": rows, "product_events": events, "load_s": round(load, 1),
        "dbt_s": round(dbt, 1), "expectations_s": round(gate, 1), "total_s": round(total, 1),
        "events_per_s": round(events / total),
    }
    print(f"{events:,} product events, {rows:,} rows in all")
    print(f"load {load:.1f} s | dbt models and tests {dbt:.1f} s | "
          f"expectations {gate:.1f} s | total {total:.1f} s | {events / total:,.0f} events/s")
    out = ROOT / "bench" / "results" / "build.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "a") as f:
        f.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
