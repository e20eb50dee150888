"""This checkout's ``build`` against another version's, in one run, builds alternated.

    git worktree add ../baseline <commit> && (cd ../baseline && make install)
    .venv/bin/python bench/bench_versions.py --baseline ../baseline/.venv/bin/upgrade-warehouse

The machine's speed drifts by 2x from run to run (a shared host), so two versions are
only compared inside one run: the builds alternate (baseline, this one, baseline, ...),
the first round only warms each version's dbt parse cache, and the medians of the
others are compared. Printed: median wall time and CPU of all processes of each
version, and their ratio. Data: the demo set (``data/demo``) unless ``--data-dir``.
Results are appended to bench/results/versions.jsonl.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from _measure import CLI, ROOT, record


def timed_build(cli: str, data_dir: Path, warehouse: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, the build and its worker process)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.run(
        [cli, "build", "--data-dir", str(data_dir), "--warehouse", str(warehouse)],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{cli} failed:\n{proc.stderr[-2000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", required=True, help="the other version's upgrade-warehouse")
    ap.add_argument("--data-dir", type=Path, default=ROOT / "data" / "demo")
    ap.add_argument("--rounds", type=int, default=5, help="measured rounds (after one warm-up)")
    args = ap.parse_args()

    versions = {"baseline": args.baseline, "this": CLI}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in versions}
    with tempfile.TemporaryDirectory(prefix="bench-versions-") as tmp:
        for round_no in range(args.rounds + 1):
            for name, cli in versions.items():
                wall, cpu = timed_build(cli, args.data_dir, Path(tmp) / f"{name}.duckdb")
                label = "warm-up" if round_no == 0 else f"round {round_no}"
                print(f"{label:>8} {name:>8}: {wall:6.1f} s wall, {cpu:6.1f} s CPU", flush=True)
                if round_no:
                    times[name].append((wall, cpu))
    medians = {
        name: (statistics.median(w for w, _ in t), statistics.median(c for _, c in t))
        for name, t in times.items()
    }
    (base_wall, base_cpu), (wall, cpu) = medians["baseline"], medians["this"]
    print(
        f"median: baseline {base_wall:.1f} s wall / {base_cpu:.1f} s CPU, this "
        f"{wall:.1f} s / {cpu:.1f} s: this / baseline = {wall / base_wall:.2f} (wall), "
        f"{cpu / base_cpu:.2f} (CPU)"
    )
    record(
        "versions",
        {
            "data_dir": str(args.data_dir),
            "baseline": args.baseline,
            "rounds": args.rounds,
            "median_wall": {"baseline": base_wall, "this": wall},
            "median_cpu": {"baseline": base_cpu, "this": cpu},
        },
    )


if __name__ == "__main__":
    main()
