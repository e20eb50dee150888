"""The MRR bridge of metrics.md ("Upgrades and revenue") on a generated data set: for
every month and every segment of every dimension, mrr_start + the five movements +
mrr_other = mrr_end (to the 6 decimals the money metrics carry), mrr_start is the
previous month's mrr_end (0 for the first month), arr_end = 12 x mrr_end, and the
segments' mrr_end add up to all accounts'. The golden values are in
test_metrics_golden.py (test_mrr_end_per_month)."""

from __future__ import annotations

import json

import pytest

from conftest import run_cli

pytestmark = pytest.mark.slow
MOVEMENTS = ("mrr_new", "mrr_expansion", "mrr_reactivation", "mrr_contraction", "mrr_churn")


@pytest.fixture(scope="module")
def generated(generated_contract):
    """A generated data set of 150 accounts over 6 months (fixtures_builds.py)."""
    return generated_contract / "wh.duckdb"


def metrics(path, *args) -> dict:
    proc = run_cli("metrics", "--warehouse", path, "--format", "json", *args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def check_bridge(months: list[dict], where: str) -> None:
    previous_end = 0.0
    for m in months:
        here = (where, m["month"])
        assert m["mrr_start"] == pytest.approx(previous_end, abs=1e-9), here
        movements = sum(m[k] for k in MOVEMENTS)
        assert round(movements, 6) == round(m["net_new_mrr"], 6), here
        assert round(m["mrr_start"] + movements + m["mrr_other"], 6) == round(m["mrr_end"], 6), here
        assert m["arr_end"] == pytest.approx(12 * m["mrr_end"], abs=1e-6), here
        previous_end = m["mrr_end"]


def test_the_bridge_holds_for_every_month_and_segment(generated):
    out = metrics(generated)
    assert len(out["months"]) >= 6
    assert out["months"][-1]["mrr_end"] > 0  # the generated set has paying subscriptions
    check_bridge(out["months"], "all")
    for dimension in ("persona", "acquisition_source", "segment", "country"):
        by = metrics(generated, "--by", dimension)
        for segment in by["segments"]:
            check_bridge(segment["months"], f"{dimension}={segment['segment']}")
        for i, total in enumerate(out["months"]):
            parts = [s["months"][i] for s in by["segments"]]
            # Each total is rounded to 6 decimals: half a millionth off at most, each.
            assert sum(p["mrr_end"] for p in parts) == pytest.approx(
                total["mrr_end"], abs=0.5e-6 * (len(parts) + 1)
            ), (dimension, total["month"])
