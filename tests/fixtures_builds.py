"""The fixture warehouses, one session fixture per kind of build, shared by every test
module that reads it (DuckDB and Spark tests alike; tests/conftest.py loads this module).

Each is built through the CLI as a user builds it, once per test session
(``conftest.made_once``: under pytest-xdist the first process builds, the other copies),
and is read-only for its readers unless its docstring says otherwise: a test that writes
copies it first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import FIXTURES, made_once, run_cli, start_cli


@pytest.fixture(scope="session")
def basic_dir() -> Path:
    return FIXTURES / "basic"


@pytest.fixture(scope="session")
def basic_warehouse(tmp_path_factory, basic_dir) -> tuple[Path, dict]:
    """The basic fixture built once per session, and the report of `build --format json`
    (read it, or copy it before changing it)."""

    def make(folder: Path) -> None:
        args = ("--warehouse", folder / "wh.duckdb", "--format", "json")
        proc = run_cli("build", "--data-dir", basic_dir, *args)
        assert proc.returncode == 0, proc.stderr
        (folder / "report.json").write_text(proc.stdout)
        # Where it was built (under pytest-xdist a shared folder, not the caller's copy):
        # the report must name this path, resolved.
        (folder / "built_as.txt").write_text(str(folder / "wh.duckdb"))

    folder = made_once(tmp_path_factory, "basic", make)
    return folder / "wh.duckdb", json.loads((folder / "report.json").read_text())


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
        proc = start_cli(*args, env=SPARK_ENV, stdout=out, stderr=err)
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


@pytest.fixture(scope="session")
def movers_warehouse(tmp_path_factory) -> Path:
    """tests/fixtures/movers built once per session (test_movers.py and
    test_movers_browser.py; each process gets its own copy)."""

    def make(folder: Path) -> None:
        proc = run_cli("build", "--data-dir", FIXTURES / "movers", "--warehouse", folder / name)
        assert proc.returncode == 0, proc.stdout + proc.stderr

    name = "wh.duckdb"
    return made_once(tmp_path_factory, "movers", make) / name


# The generated contract data set that the round trips through other shapes start from
# (test_sources_stripe: Stripe's shape, test_sources_events_crm_e2e: the events and CRM
# shapes) and that test_mrr_bridge checks the bridge on: ``generate`` with these options.
GENERATED_OPTIONS = ("--accounts", "150", "--months", "6", "--seed", "7")


@pytest.fixture(scope="session")
def generated_contract(tmp_path_factory) -> Path:
    """``generate GENERATED_OPTIONS`` built once per session: the folder holds data/ (the
    contract files), wh.duckdb and report.json (`build --format json`)."""

    def make(folder: Path) -> None:
        proc = run_cli("generate", "--out", folder / "data", *GENERATED_OPTIONS, "--quiet")
        assert proc.returncode == 0, proc.stderr
        args = ("--warehouse", folder / "wh.duckdb", "--format", "json")
        proc = run_cli("build", "--data-dir", folder / "data", *args)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        (folder / "report.json").write_text(proc.stdout)

    return made_once(tmp_path_factory, "generated-contract", make)
