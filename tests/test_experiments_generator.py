"""The generator's A/B tests have known true effects (generator/experiments.py), and the
warehouse finds them (issue 33), with fixed seeds:

- pricing_copy raises plan_selected for marketers only: significant in that persona, in
  no other (this test fails when the planted effect is removed);
- checkout_button has no effect: nothing significant; some accounts saw both variations;
- annual_nudge assigns 60/40: the sample-ratio warning;
- upgrade_modal has three variations and is still running: unmatured accounts.

The experiments draw from a stream of their own: every other row of the data set is the
same without them.
"""

from __future__ import annotations

import json

import polars as pl
import pytest

from conftest import run_cli
from upgrade_warehouse.generator import GeneratorConfig, generate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_like(experiments_generated):
    """The demo's data set built once per session (conftest.experiments_generated)."""
    return experiments_generated


def experiments(folder, *args):
    proc = run_cli("experiments", "--warehouse", folder / "wh.duckdb", "--format", "json", *args)
    assert proc.returncode == 0, proc.stderr
    return {
        (e["experiment_id"], e.get("segment")): e for e in json.loads(proc.stdout)["experiments"]
    }


def treatment(e):
    (v,) = [v for v in e["variations"] if v["variation_id"] == "treatment"]
    return v["metrics"]


def test_every_exposure_event_is_loaded(demo_like):
    report = json.loads((demo_like / "report.json").read_text())
    manifest = json.loads((demo_like / "data" / "manifest.json").read_text())
    events = report["tables"]["product_events"]
    assert events["quarantined"] == 0
    assert events["read"] == manifest["row_counts"]["product_events"]


def test_persona_specific_effect_is_found_in_that_persona_only(demo_like):
    by_persona = experiments(demo_like, "--by", "persona")
    personas = [s for (exp, s) in by_persona if exp == "pricing_copy"]
    assert "marketer" in personas and len(personas) >= 6
    for persona in personas:
        reach = treatment(by_persona["pricing_copy", persona])["step_reach.plan_selected"]
        if persona == "marketer":
            # EFFECT_PROBABILITY = 0.35 of treated marketers select a plan after exposure:
            # a rise of about 30 points, far beyond noise at ~150 accounts a side.
            assert reach["significant"] is True, reach
            assert reach["diff"] > 0.15 and reach["ci_low"] > 0
        else:
            assert reach["significant"] is False, (persona, reach)
            assert reach["ci_low"] < 0 < reach["ci_high"] or reach["diff"] == 0, (persona, reach)


def test_no_effect_experiment_is_not_significant(demo_like):
    overall = experiments(demo_like)
    e = overall["checkout_button", None]
    for metric_id, m in treatment(e).items():
        assert m["significant"] is False, (metric_id, m)
        assert m["enough_data"] is True, metric_id
    # LEAK_SHARE = 2% of its exposed accounts also saw the other variation: left out.
    assert e["multiple_exposures"] > 0
    assert e["srm_warning"] is False


def test_broken_assignment_raises_the_srm_warning(demo_like):
    overall = experiments(demo_like)
    broken = overall["annual_nudge", None]
    control, treated = (v["exposed_accounts"] for v in broken["variations"])
    assert 0.55 < control / (control + treated) < 0.65  # 60/40
    assert broken["srm_warning"] is True and broken["srm_p_value"] < 1e-3
    for exp in ("pricing_copy", "checkout_button", "upgrade_modal"):
        assert overall[exp, None]["srm_warning"] is False, exp


def test_three_variations_still_running_and_repeated_exposures(demo_like):
    overall = experiments(demo_like)
    e = overall["upgrade_modal", None]
    assert e["control"] == "0"
    assert [v["variation_id"] for v in e["variations"]] == ["0", "1", "2"]
    # It runs until the end of the window: its latest accounts have not matured.
    assert all(v["matured_accounts"] < v["exposed_accounts"] for v in e["variations"])
    events = pl.read_csv(demo_like / "data" / "product_events.csv", infer_schema=False).filter(
        pl.col("event_name") == "experiment_viewed"
    )
    exposed = sum(v["exposed_accounts"] for e in overall.values() for v in e["variations"])
    multiple = sum(e["multiple_exposures"] for e in overall.values())
    # 1-4 views per exposed account: more events than accounts.
    assert events.height > 1.5 * (exposed + multiple)


def test_experiments_leave_every_other_row_unchanged(tmp_path, monkeypatch):
    from upgrade_warehouse.generator import experiments as gen_experiments

    cfg = GeneratorConfig(accounts=300, months=6, seed=3)
    generate(tmp_path / "with", cfg)
    monkeypatch.setattr(gen_experiments, "EXPERIMENTS", ())
    generate(tmp_path / "without", cfg)
    for path in sorted((tmp_path / "with").iterdir()):
        other = tmp_path / "without" / path.name
        if path.name == "product_events.csv":
            with_rows = path.read_text().splitlines()
            without_rows = other.read_text().splitlines()
            added = [r for r in with_rows if r.startswith("xev_")]
            assert added, "no experiment events"
            assert [r for r in with_rows if not r.startswith("xev_")] == without_rows
        elif path.name == "manifest.json":
            continue
        else:
            assert path.read_bytes() == other.read_bytes(), path.name
