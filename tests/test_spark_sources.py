"""`build --engine spark` from a sources.yml: the map phase hands Spark the same mapped
tables as DuckDB, and the mapping's quarantine and counts reach the Spark warehouse."""

from __future__ import annotations

import json

import duckdb
import pytest

from conftest import FIXTURES, run_cli
from spark_support import SPARK_ENV

pytestmark = [pytest.mark.slow, pytest.mark.spark_parity, pytest.mark.timeout(1500)]

AS_OF = "2024-03-31T00:00:00Z"
SAME = (  # what a Spark warehouse holds of raw (engines/spark.py READER_EXPORTS) and marts
    "raw.plans",
    "raw.quarantine",
    "raw.load_report",
    "raw.source_report",
    "marts.fct_source_report",
    "marts.fct_monthly_metrics",
)


def test_spark_build_of_stripe_sources_equals_duckdb(tmp_path):
    reports = {}
    for engine in ("duckdb", "spark"):
        proc = run_cli(
            "build", "--engine", engine, "--data-dir", FIXTURES / "stripe_fivetran",
            "--warehouse", tmp_path / f"{engine}.duckdb", "--format", "json",
            "--var", f"as_of={AS_OF}",
            env=SPARK_ENV if engine == "spark" else None,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        reports[engine] = json.loads(proc.stdout)["tables"]
    assert reports["spark"] == reports["duckdb"]
    assert reports["spark"]["plans"]["sources"]["price"]["quarantined_by_reason"] == {
        "unmappable": 1,
        "unsupported_interval": 1,
    }
    with (
        duckdb.connect(str(tmp_path / "duckdb.duckdb"), read_only=True) as d,
        duckdb.connect(str(tmp_path / "spark.duckdb"), read_only=True) as s,
    ):
        for table in SAME:
            sql = f"select * from {table} order by all"
            assert s.execute(sql).fetchall() == d.execute(sql).fetchall(), table
