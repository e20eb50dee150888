"""``fct_upgrade_attempts`` on a generated data set equals a plain-Python reference of
the spec's attempt rules (tests/attempts_reference.py), attempt by attempt.

The data set is generated here (not a committed snapshot, so it follows the generator),
built once through the CLI, and compared field by field: starts, ends, steps reached,
outcome, escalation, completion change and activation time. ``make bench`` runs the same
comparison on 20,000 accounts (bench/bench_attempts.py); here the size is
``UPGRADE_WAREHOUSE_ATTEMPTS_ACCOUNTS`` (default below) to keep ``make test`` short.
"""

from __future__ import annotations

import os
from collections import Counter

import duckdb
import pytest

from attempts_reference import model_attempts, reference_attempts
from conftest import run_cli

pytestmark = pytest.mark.slow

ACCOUNTS = int(os.environ.get("UPGRADE_WAREHOUSE_ATTEMPTS_ACCOUNTS", "5000"))


@pytest.fixture(scope="session")
def attempts(tmp_path_factory):
    from upgrade_warehouse.generator import GeneratorConfig, generate

    data = tmp_path_factory.mktemp("attempts-data")
    generate(
        data,
        GeneratorConfig(accounts=ACCOUNTS, seed=7, format="parquet").validate(),
        lambda _msg: None,
    )
    path = tmp_path_factory.mktemp("attempts") / "wh.duckdb"
    proc = run_cli("build", "--data-dir", data, "--warehouse", path)
    assert proc.returncode == 0, proc.stderr
    with duckdb.connect(str(path), read_only=True) as con:
        return model_attempts(con), reference_attempts(con)


def test_the_data_set_exercises_every_rule(attempts):
    _, expected = attempts
    outcomes = Counter(a.outcome for a in expected.values())
    assert set(outcomes) == {
        "completed_self_serve",
        "completed_assisted",
        "in_progress",
        "escalated",
        "abandoned",
    }
    per_account = Counter(a.account_id for a in expected.values())
    assert max(per_account.values()) >= 5  # accounts with many attempts in a row
    assert sum(a.activated_at is not None for a in expected.values()) > 0


def test_same_attempts_as_the_reference(attempts):
    model, expected = attempts
    assert len(model) == len(expected) > 1000
    assert set(model) == set(expected)
    wrong = [(expected[k], model[k]) for k in expected if model[k] != expected[k]]
    assert wrong == [], f"{len(wrong)} attempts differ, e.g. {wrong[:2]}"
