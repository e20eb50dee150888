"""Shared test helpers: the CLI as a user runs it, and the fixture data sets."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The dashboard's charts are checked against the Vega-Lite schema in the tests (the app,
# and the servers the tests start, skip the check for speed: dashboard/charts.py).
os.environ.setdefault("UPGRADE_WAREHOUSE_VALIDATE_CHARTS", "1")
FIXTURES = REPO / "tests" / "fixtures"
CLI = str(Path(sys.executable).with_name("upgrade-warehouse"))


def cli_call(args, env: dict | None = None) -> dict:
    """How the tests start ``upgrade-warehouse ARGS``: the command, its environment and
    folder (for subprocess.run or Popen)."""
    return {
        "args": [CLI, *map(str, args)],
        "text": True,
        "env": {**os.environ, **(env or {})},
        "cwd": REPO,
    }


def run_cli(*args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run ``upgrade-warehouse ARGS`` in a subprocess, as a user would."""
    return subprocess.run(**cli_call(args, env), check=False, capture_output=True, timeout=timeout)


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def made_once(tmp_path_factory, name: str, make: Callable[[Path], None]) -> Path:
    """A folder that ``make(folder)`` fills (a fixture warehouse and what its build wrote
    beside it), made once per test session and given to each caller as a copy of its own.

    Under pytest-xdist the session fixtures are per process: the first process to ask
    makes the folder, in the session's shared temporary folder, while the others wait
    for it (a lock file), and every process copies it (some tests open a warehouse for
    writing, which DuckDB allows to one process at a time)."""
    own = tmp_path_factory.mktemp(name)
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        make(own)
        return own
    shared = tmp_path_factory.getbasetemp().parent / "made-once" / name
    shared.parent.mkdir(exist_ok=True)
    with open(shared.parent / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        done = shared.parent / f"{name}.done"
        if not done.exists():
            shutil.rmtree(shared, ignore_errors=True)
            shared.mkdir()
            make(shared)
            done.touch()
    shutil.copytree(shared, own, dirs_exist_ok=True)
    return own


@pytest.fixture(scope="session")
def basic_dir() -> Path:
    return FIXTURES / "basic"


@pytest.fixture(scope="session")
def basic_warehouse(tmp_path_factory, basic_dir) -> tuple[Path, dict]:
    """The basic fixture built once per session, and the report of `build --format json`
    (read it, or copy it before changing it)."""
    import json

    path = tmp_path_factory.mktemp("basic") / "wh.duckdb"
    proc = run_cli("build", "--data-dir", basic_dir, "--warehouse", path, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return path, json.loads(proc.stdout)


@pytest.fixture(scope="session")
def golden_warehouse(tmp_path_factory) -> Path:
    """The golden data set built once per test session (read it, never write to it)."""

    def make(folder: Path) -> None:
        proc = run_cli("build", "--data-dir", FIXTURES / "golden", "--warehouse", folder / name)
        assert proc.returncode == 0, proc.stdout + proc.stderr

    name = "golden.duckdb"
    return made_once(tmp_path_factory, "golden", make) / name


@pytest.fixture(scope="session")
def spark_golden(request, tmp_path_factory) -> tuple[Path, dict, str]:
    """The golden data set built with ``--engine spark`` once per session: the warehouse,
    the JSON report and the build's stderr (test_spark_*.py). The DuckDB build of the
    same set (``golden_warehouse``), which the Spark tests compare with, is made while
    the Spark build runs: the two are independent."""
    from spark_support import SPARK_ENV

    path = tmp_path_factory.mktemp("spark-golden") / "golden.duckdb"
    logs = tmp_path_factory.mktemp("spark-golden-output")  # not beside the warehouse
    args = ["build", "--engine", "spark", "--data-dir", FIXTURES / "golden"]
    args += ["--warehouse", path, "--format", "json"]
    # Output to files, not pipes: nothing reads a pipe while the DuckDB build runs.
    with (logs / "stdout").open("w") as out, (logs / "stderr").open("w") as err:
        proc = subprocess.Popen(**cli_call(args, SPARK_ENV), stdout=out, stderr=err)
        try:
            request.getfixturevalue("golden_warehouse")
            proc.wait(timeout=1400)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    stdout, stderr = (logs / "stdout").read_text(), (logs / "stderr").read_text()
    assert proc.returncode == 0, stderr
    return path, json.loads(stdout), stderr


# `make test` runs the tests on two processes (pytest-xdist, `-n 2 --dist loadgroup`).
# Modules that share a session fixture's build run in one process, so that it is built
# once: the dashboard modules (the fixture warehouse and its live server, with
# test_operations_golden), the modules of the basic fixture's build, the Spark modules
# (one Spark build of the golden set).
XDIST_GROUPS = {
    "test_dashboard_": "dashboard",
    "test_operations_golden": "dashboard",
    "test_build": "basic",  # test_build and test_build_signals
    "test_dbt_unit_tests": "basic",
    "test_spark_": "spark",
    "test_experiments_": "experiments",  # the generated data set with experiments
}


def xdist_group(module: str) -> str:
    for prefix, group in XDIST_GROUPS.items():
        if module.startswith(prefix):
            return group
    return module


def pytest_itemcollected(item):
    """The group marks go on as each test is collected: xdist reads them in its own
    collection hook (a conftest's modifyitems hook runs too late for it)."""
    item.add_marker(pytest.mark.xdist_group(xdist_group(item.module.__name__)))


# The groups that take longest, longest first (seconds of one process in `make test`,
# 2026-12-02): xdist hands groups out in the order of the items (`make test` passes
# --no-loadscope-reorder; by default xdist orders them by their number of tests), so the
# long ones start first and the two processes end close together. Other groups follow
# in file order.
LONGEST_GROUPS = (
    "spark",  # 330
    "dashboard",  # 280
    "basic",  # 150
    "test_quality",  # 120
    "test_winback",  # 110
    "test_hostile",  # 90
    "test_metrics_golden",  # 50
    "test_hygiene",  # 45
    "test_proration_sql",  # 32
    "test_generator",  # 31
    "test_attempts_reference",  # 28
    "test_simulator_batch",  # 21
)


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        group = xdist_group(item.module.__name__)
        return LONGEST_GROUPS.index(group) if group in LONGEST_GROUPS else len(LONGEST_GROUPS)

    items.sort(key=rank)  # stable


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright (never downloaded), one per test module."""
    from playwright.sync_api import sync_playwright

    from dashboard_support import CHROMIUM, launch_chromium

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    with sync_playwright() as pw:
        chromium = launch_chromium(pw)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def experiments_generated(tmp_path_factory) -> Path:
    """The demo's data set (3,000 accounts, 13 months, seed 42: its A/B tests with known
    effects, generator/experiments.py) generated and built once per session: the folder
    holds data/, wh.duckdb and report.json (test_experiments_*.py)."""
    from upgrade_warehouse.generator import GeneratorConfig, generate

    def make(folder: Path) -> None:
        generate(folder / "data", GeneratorConfig(accounts=3000, seed=42))
        proc = run_cli(
            "build", "--data-dir", folder / "data", "--warehouse", folder / "wh.duckdb",
            "--format", "json",
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        (folder / "report.json").write_text(proc.stdout)

    return made_once(tmp_path_factory, "experiments-generated", make)
