"""Attempt segmentation at 20,000 accounts: the model against the plain-Python reference.

    .venv/bin/python bench/bench_attempts.py [--accounts 20000]

Builds a generated data set (cached under data/bench/) and compares
``marts.fct_upgrade_attempts`` attempt by attempt with tests/attempts_reference.py (the
spec's rules written out in Python); ``make test`` runs the same comparison on fewer
accounts. Prints the counts, the differences (none expected) and the model's time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import duckdb
from _measure import CLI, DATA, ROOT, dataset, measured, record

sys.path.insert(0, str(ROOT / "tests"))
from attempts_reference import model_attempts, reference_attempts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=20_000)
    args = ap.parse_args()
    data = dataset(accounts=args.accounts)
    DATA.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        wh = Path(tmp) / "wh.duckdb"
        profile = Path(tmp) / "profile.json"
        run = measured(
            [CLI, "build", "--data-dir", str(data), "--warehouse", str(wh)],
            env={"UPGRADE_WAREHOUSE_PROFILE": str(profile)},
        )
        if run.returncode != 0:
            raise SystemExit(run.stderr[-3000:])
        import json

        nodes = json.loads(profile.read_text())["dbt_nodes"]
        seconds = next(n["seconds"] for n in nodes if n["node"].endswith(".int_upgrade_attempts"))
        with duckdb.connect(str(wh), read_only=True) as con:
            model, expected = model_attempts(con), reference_attempts(con)
    differ = [k for k in expected if model.get(k) != expected[k]]
    extra = set(model) - set(expected)
    print(
        f"{args.accounts:,} accounts: {len(expected):,} attempts in the reference, "
        f"{len(model):,} in fct_upgrade_attempts; {len(differ)} differ, {len(extra)} extra; "
        f"int_upgrade_attempts took {seconds:.1f} s"
    )
    record(
        "attempts",
        {
            "accounts": args.accounts,
            "attempts": len(expected),
            "differ": len(differ),
            "extra": len(extra),
            "model_s": seconds,
        },
    )
    if differ or extra:
        sys.exit(1)


if __name__ == "__main__":
    main()
