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
# The fixture warehouses (session fixtures, one per kind of build): tests/fixtures_builds.py;
# the browser (Debian's Chromium through Playwright): tests/dashboard_support.py.
pytest_plugins = ("fixtures_builds", "dashboard_support")


def cli_call(args, env: dict | None = None) -> dict:
    """How the tests start ``upgrade-warehouse ARGS``: the command, its environment and
    folder (for subprocess.run or Popen)."""
    return {
        "args": [CLI, *map(str, args)],
        "text": True,
        "env": {**os.environ, **(env or {})},
        "cwd": REPO,
    }


def run_cli(
    *args, env: dict | None = None, timeout: float = 600, **run
) -> subprocess.CompletedProcess:
    """Run ``upgrade-warehouse ARGS`` in a subprocess, as a user would (``run``:
    subprocess.run's other arguments, e.g. preexec_fn)."""
    return subprocess.run(
        **cli_call(args, env), check=False, capture_output=True, timeout=timeout, **run
    )


def cli_json(*args, **run):
    """Run ``upgrade-warehouse ARGS`` (``run_cli``), expect exit 0, and return what it
    printed, read as JSON."""
    proc = run_cli(*args, **run)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def start_cli(*args, env: dict | None = None, **popen) -> subprocess.Popen:
    """Start ``upgrade-warehouse ARGS`` in the background, as a user would (``popen``:
    subprocess.Popen's other arguments: stdout, stderr, start_new_session...)."""
    return subprocess.Popen(**cli_call(args, env), **popen)


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def serving_copy(warehouse: Path, folder: Path) -> tuple[Path, str]:
    """``folder/serving.duckdb``, a copy of a built warehouse that a test's build must
    leave as it was (a failed or stopped build), and its sha256."""
    serving = Path(folder) / "serving.duckdb"
    shutil.copy(warehouse, serving)
    return serving, sha256(serving)


def project_copy(folder: Path) -> Path:
    """``folder/project``: a copy of the dbt project, for a test that breaks a model (the
    build reads it with ``UPGRADE_WAREHOUSE_PROJECT_DIR``; ``project_build``)."""
    project = Path(folder) / "project"
    project.mkdir()
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(REPO / name, project)
    for name in ("models", "macros", "seeds", "expectations"):
        shutil.copytree(REPO / name, project / name)
    return project


def project_build(data: Path, warehouse: Path, project: Path) -> subprocess.CompletedProcess:
    """``build --format json`` of ``data`` with the dbt project of ``project_copy``."""
    return run_cli(
        "build", "--data-dir", data, "--warehouse", warehouse, "--format", "json",
        env={"UPGRADE_WAREHOUSE_PROJECT_DIR": str(project)},
    )  # fmt: skip


def start_build(data: Path, warehouse: Path) -> subprocess.Popen:
    """``build`` in the background, in a process group of its own, its progress lines on
    a pipe (``proc.stderr``), for a test that stops it."""
    return start_cli(
        *("build", "--data-dir", data, "--warehouse", warehouse),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


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
    "test_movers": "movers",  # test_movers and test_movers_browser: the movers fixture
    # the generated contract set (fixtures_builds.generated_contract) and the Stripe builds
    "test_sources_": "sources",
    "test_mrr_bridge": "sources",
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
# 2026-12-02; the groups added since, marked ~, estimated from their builds at about 20 s
# each): xdist hands groups out in the order of the items (`make test` passes
# --no-loadscope-reorder; by default xdist orders them by their number of tests), so the
# long ones start first and the two processes end close together. Other groups follow
# in file order.
LONGEST_GROUPS = (
    "spark",  # 330 (less the Spark pages' AppTest runs, now in make test-spark)
    "dashboard",  # 280
    "sources",  # ~190: 9 builds (fixtures, generated and mapped sets), 13 early exits
    "basic",  # 150
    "test_quality",  # 120
    "test_winback",  # 110
    "experiments",  # ~100: the demo-size set and the experiments fixture, a browser
    "test_hostile",  # 90
    "movers",  # ~60: 2 builds, a browser
    "test_hostile_round3",  # ~60: 3 builds
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
