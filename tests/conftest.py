"""Shared test helpers: the CLI as a user runs it, and the fixture data sets."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The dashboard's charts are checked against the Vega-Lite schema in the tests (the app,
# and the servers the tests start, skip the check for speed: dashboard/charts.py).
os.environ.setdefault("UPGRADE_WAREHOUSE_VALIDATE_CHARTS", "1")
FIXTURES = REPO / "tests" / "fixtures"
CLI = str(Path(sys.executable).with_name("upgrade-warehouse"))


def run_cli(*args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run ``upgrade-warehouse ARGS`` in a subprocess, as a user would."""
    return subprocess.run(
        [CLI, *map(str, args)],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=REPO,
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def basic_dir() -> Path:
    return FIXTURES / "basic"


@pytest.fixture(scope="session")
def golden_warehouse(tmp_path_factory) -> Path:
    """The golden data set built once per test session (read it, never write to it)."""
    path = tmp_path_factory.mktemp("golden") / "golden.duckdb"
    proc = run_cli("build", "--data-dir", FIXTURES / "golden", "--warehouse", path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return path


@pytest.fixture(scope="session")
def spark_golden(tmp_path_factory) -> tuple[Path, dict, str]:
    """The golden data set built with ``--engine spark`` once per session: the warehouse,
    the JSON report and the build's stderr (test_spark_*.py)."""
    from spark_support import SPARK_ENV

    path = tmp_path_factory.mktemp("spark-golden") / "golden.duckdb"
    proc = run_cli(
        "build",
        "--engine",
        "spark",
        "--data-dir",
        FIXTURES / "golden",
        "--warehouse",
        path,
        "--format",
        "json",
        env=SPARK_ENV,
        timeout=1400,
    )
    assert proc.returncode == 0, proc.stderr
    return path, json.loads(proc.stdout), proc.stderr
