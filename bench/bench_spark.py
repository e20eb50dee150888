"""The Spark engine against the DuckDB engine on the same generated data set.

    .venv/bin/python bench/bench_spark.py [--accounts N] [--months M] [--format csv|parquet]
        [--bad-row-rate R] [--spark-master URL]

Generates a data set (cached under bench/results/data-<N>-<M>-<fmt>-bad<R>), builds it
with `build --engine duckdb` and with `build --engine spark` through the CLI, and checks
that the two warehouses agree: every value of `metrics --format json` (the whole text),
the build reports (rows read, accepted and quarantined by reason, per table), the
quarantined rows and every mart (as sets of rows). Prints both builds' times and their
ratio; appends them to bench/results/spark.jsonl. Exits 1 on any difference.

`make bench` runs it on the generator's default 2,000-account set with 1% bad rows (the
documented parity check of issue 14); the README's 1M-event timings come from
`--accounts 17000 --format parquet`.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
from _measure import ROOT, cli_args, generator_arguments


def generate(args) -> Path:
    name = f"data-{args.accounts}-{args.months}-{args.format}-bad{args.bad_row_rate:g}"
    data = ROOT / "bench" / "results" / name
    if not (data / "manifest.json").is_file():
        t = time.monotonic()
        subprocess.run(
            cli_args(
                "generate",
                out=data,
                accounts=args.accounts,
                months=args.months,
                format=args.format,
                bad_row_rate=args.bad_row_rate,
                quiet=True,
            ),
            check=True,
        )
        print(f"generated {data} in {time.monotonic() - t:.1f} s")
    return data


def build(engine: str, data: Path, warehouse: Path, extra: list[str]) -> tuple[dict, float]:
    t = time.monotonic()
    proc = subprocess.run(
        [
            *cli_args("build", engine=engine, data_dir=data, warehouse=warehouse, format="json"),
            *extra,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.monotonic() - t
    if proc.returncode != 0:
        print(proc.stderr[-4000:], file=sys.stderr)
        sys.exit(f"{engine} build failed")
    return json.loads(proc.stdout), elapsed


def metrics(warehouse: Path) -> str:
    proc = subprocess.run(
        cli_args("metrics", warehouse=warehouse, format="json"),
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout


def differences(duck: Path, spark: Path) -> list[str]:
    """Tables of the Spark warehouse whose rows differ from the DuckDB warehouse's."""
    out = []
    with duckdb.connect(str(spark), read_only=True) as con:
        con.execute(f"attach '{duck}' as duck (read_only)")
        names = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() and table_schema <> 'quality'"
        ).fetchall()
        for schema, table in names:
            extra, missing = con.execute(
                f"select (select count(*) from (select * from {schema}.{table} except all "
                f"select * from duck.{schema}.{table})), "
                f"(select count(*) from (select * from duck.{schema}.{table} except all "
                f"select * from {schema}.{table}))"
            ).fetchone()
            if extra or missing:
                beyond = _beyond_rounding(con, f"{schema}.{table}", f"duck.{schema}.{table}")
                if beyond:
                    out.append(
                        f"{schema}.{table}: {extra} rows only on Spark, {missing} only on "
                        f"DuckDB; {beyond}"
                    )
                else:
                    print(
                        f"  {schema}.{table}: {extra} rows differ in the last bits of a "
                        "double only (relative 1e-9: sums in another order)"
                    )
    return out


def _beyond_rounding(con, spark_table: str, duck_table: str) -> str | None:
    """The first difference beyond a relative 1e-9 on doubles (sums of doubles in
    another order differ in the last bits), or None."""
    columns = con.execute(f"select * from {spark_table} limit 0").description
    doubles = {c[0] for c in columns if str(c[1]).upper() in ("DOUBLE", "FLOAT")}
    keys = [c[0] for c in columns if c[0] not in doubles]
    order = ", ".join(f'"{k}"' for k in keys) or "all"
    spark_rows = con.execute(f"select * from {spark_table} order by {order}").fetchall()
    duck_rows = con.execute(f"select * from {duck_table} order by {order}").fetchall()
    if len(spark_rows) != len(duck_rows):
        return f"{len(spark_rows)} rows on Spark, {len(duck_rows)} on DuckDB"
    names = [c[0] for c in columns]
    for a, b in zip(spark_rows, duck_rows, strict=True):
        for name, x, y in zip(names, a, b, strict=True):
            if isinstance(x, float) and isinstance(y, float):
                if not math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12):
                    return f"{name}: {x!r} on Spark, {y!r} on DuckDB"
            elif x != y:
                return f"{name}: {x!r} on Spark, {y!r} on DuckDB (row {a[:4]!r})"
    return None


def main() -> None:
    ap = argparse.ArgumentParser()
    generator_arguments(ap, accounts=2000, fmt="csv", bad_row_rate=0.01)
    ap.add_argument("--spark-master", default=None)
    args = ap.parse_args()

    data = generate(args)
    manifest = json.loads((data / "manifest.json").read_text())
    events = manifest["row_counts"]["product_events"]
    spark_args = ["--spark-master", args.spark_master] if args.spark_master else []
    with tempfile.TemporaryDirectory(prefix="bench-spark-") as tmp:
        duck_wh, spark_wh = Path(tmp) / "duckdb" / "w.duckdb", Path(tmp) / "spark" / "w.duckdb"
        duck_report, duck_s = build("duckdb", data, duck_wh, [])
        print(f"duckdb build {duck_s:.1f} s")
        spark_report, spark_s = build("spark", data, spark_wh, spark_args)
        print(f"spark build  {spark_s:.1f} s")
        problems = []
        if duck_report["tables"] != spark_report["tables"]:
            problems.append("build reports differ (rows read / accepted / quarantined)")
        duck_metrics, spark_metrics = metrics(duck_wh), metrics(spark_wh)
        if duck_metrics != spark_metrics:
            problems.append("metrics --format json differs")
        problems += differences(duck_wh, spark_wh)
    quarantined = sum(t["quarantined"] for t in duck_report["tables"].values())
    values = sum(len(m) - 1 for m in json.loads(duck_metrics)["months"])
    result = {
        "accounts": args.accounts,
        "months": args.months,
        "format": args.format,
        "bad_row_rate": args.bad_row_rate,
        "product_events": events,
        "quarantined": quarantined,
        "duckdb_s": round(duck_s, 1),
        "spark_s": round(spark_s, 1),
        "spark_over_duckdb": round(spark_s / duck_s, 2),
        "metric_values": values,
        "equal": not problems,
    }
    print(
        f"{events:,} product events, {quarantined:,} rows quarantined; "
        f"spark / duckdb = {spark_s / duck_s:.2f}"
    )
    out = ROOT / "bench" / "results" / "spark.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "a") as f:
        f.write(json.dumps(result) + "\n")
    if problems:
        print("DIFFERENCES:\n" + "\n".join(problems), file=sys.stderr)
        sys.exit(1)
    print(
        f"equal: the whole metrics JSON ({values:,} metric values), the load report, "
        "the quarantine and every mart"
    )


if __name__ == "__main__":
    main()
