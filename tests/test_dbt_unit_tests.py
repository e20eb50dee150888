"""The dbt unit tests (``unit_tests:`` in models/**/*.yml) pass.

``build`` does not run them: their inputs are fixed rows, so they check the models'
logic, not the data (dbt's advice: run them in development and CI). They run here, with
``dbt test --select test_type:unit`` against a warehouse built from the basic fixture
(dbt reads the input models' columns from it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO

pytestmark = pytest.mark.slow


def declared_unit_tests() -> set[str]:
    names = set()
    for path in (REPO / "models").rglob("*.yml"):
        for test in (yaml.safe_load(path.read_text()) or {}).get("unit_tests", []) or []:
            names.add(test["name"])
    return names


@pytest.fixture(scope="session")
def unit_test_results(tmp_path_factory, basic_warehouse) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("unit")
    db = tmp / "dev.duckdb"
    shutil.copy(basic_warehouse[0], db)
    dbt = Path(sys.executable).with_name("dbt")
    proc = subprocess.run(
        [
            str(dbt),
            "test",
            "--select",
            "test_type:unit",
            "--project-dir",
            str(REPO),
            "--profiles-dir",
            str(REPO),
            "--target-path",
            str(tmp / "target"),
            "--log-path",
            str(tmp / "logs"),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp,
        env={
            **os.environ,
            "UPGRADE_WAREHOUSE_DB": str(db),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        },
    )
    results = json.loads((tmp / "target" / "run_results.json").read_text())["results"]
    assert proc.returncode == 0, proc.stdout[-3000:]
    return {r["unique_id"].split(".")[-1]: r["status"] for r in results}


def test_every_declared_unit_test_ran_and_passed(unit_test_results):
    declared = declared_unit_tests()
    assert len(declared) >= 5
    assert set(unit_test_results) == declared
    assert set(unit_test_results.values()) == {"pass"}
