"""The map phase of a Stripe-shaped build against the floor (issue 30: at most 0.3x).

    .venv/bin/python bench/bench_sources.py              # 10M events
    .venv/bin/python bench/bench_sources.py --events 1M

The cached contract data set of that size (data/bench/, as bench_scale) is written in
``fivetran_stripe`` shape once (not timed); then, in this one run: the floor of the
contract data set (_measure.floor) and the map phase on the Stripe set (reading the
landed billing tables, rebuilding the change log, writing the mapped Parquet), each in
a fresh process. Printed: both times and their ratio; appended to
bench/results/sources.jsonl.
"""

from __future__ import annotations

import argparse
import sys
import tempfile

from _measure import DATA, dataset, floor, measured, product_events, record

MAP_SCRIPT = r"""
import sys, time
from pathlib import Path
from upgrade_warehouse.sources.config import load_config
from upgrade_warehouse.sources.phase import map_sources
cfg = load_config(Path(sys.argv[1]) / "sources.yml")
start = time.monotonic()
mapped = map_sources(cfg, Path(sys.argv[2]))
print(time.monotonic() - start)
"""


def count(text: str) -> int:
    text = text.strip().upper()
    scale = {"K": 1_000, "M": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("KM")) * scale)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", default="10M")
    args = ap.parse_args()
    data = dataset(events=count(args.events))
    shaped = data.with_name(data.name + "-fivetran_stripe")
    if not (shaped / "sources.yml").is_file():
        from upgrade_warehouse.generator.stripe_shape import write_stripe_shape

        print(f"writing {shaped} ...", flush=True)
        write_stripe_shape(data, shaped, "fivetran_stripe")
    floor_run = floor(data)
    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        run = measured([sys.executable, "-c", MAP_SCRIPT, str(shaped), f"{tmp}/mapped"])
    if run.returncode != 0:
        raise SystemExit(f"map phase failed:\n{run.stderr[-3000:]}")
    ratio = run.seconds / floor_run.seconds
    events = product_events(data)
    print(
        f"{events:,} events: floor {floor_run.seconds:.1f}s, map phase {run.seconds:.1f}s "
        f"({ratio:.2f}x the floor; goal <= 0.30x), peak {run.peak_gb:.2f} GB"
    )
    record(
        "sources",
        {
            "events": events,
            "floor_seconds": round(floor_run.seconds, 2),
            "map_seconds": round(run.seconds, 2),
            "ratio": round(ratio, 3),
            "peak_gb": round(run.peak_gb, 3),
        },
    )


if __name__ == "__main__":
    main()
