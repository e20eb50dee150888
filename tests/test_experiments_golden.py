"""The experiments golden data set (tests/fixtures/experiments) against values computed by
hand from shared/spec/metrics.md "Experiments". Every expected number is derived in its
comment from the fixture rows; none was copied from the code's output. Phi is computed
here from math.erf, independently of the code's scipy.

Build: as_of = 2026-03-31T00:00:00Z, funnel_steps = upgrade_intent, plan_selected,
upgrade_completed (so the step_reach keys are the configured ones), experiment window 14
days, experiment_min_accounts = 4. The fixture:

E1 (control rule 1: the variation `control` is present)
- control: C1 C2 C3 C4, exposed 03-01 10:00, window end 03-15 10:00 <= as_of: matured.
  C1 also has a `treatment` event on 04-05, after as_of: ignored, so C1 is not a
  multiple exposure.
- treatment: T1 T2 T3 T4 exposed 03-01 10:00 (matured); T1 again on 03-05 (a repeated
  exposure: exposed_at stays the first); T5 exposed 03-25 10:00, window end 04-08 10:00
  > as_of: exposed, not matured.
- M1: control 03-01 then treatment 03-02: left out, multiple_exposures = 1.
- L1: its only exposure is on 04-02, after as_of: not exposed.
- X1: three events without both non-empty properties: not exposed.
Per account, in its window [03-01 10:00, 03-15 10:00]:
- C1: intent, plan, completed (03-02); self-serve upgrade c1c +2000 USD minor = +20.00.
- C2: failed payment 03-05 (another on 03-20, outside the window).
- C3: automatic upgrade c3c (system) to a GBP plan: an upgrade; no GBP rate, so C3 is
  left out of mrr_delta_per_account (its own n).
- C4: an intent on 03-16, after its window: nothing.
- T1: intent, plan, completed (03-02); self-serve upgrade t1c +20.00.
- T2: intent, plan, sales_contact_requested (03-03); sales upgrade t2c (03-06) +50.00.
- T3: intent (03-04); failed payment (03-04).
- T4: an intent (02-20) and an upgrade (02-01) before its exposure: nothing.

E2 (control rule 2: `0`): D1 -> 0, D2 -> 1, D3 and D4 -> 2, all matured; D3 an intent.
E3 (control rule 3: smallest in text order): G1 -> beta, G2 -> alpha: control alpha.
"""

from __future__ import annotations

import csv
import io
import json
import math

import pytest

from conftest import FIXTURES, made_once, run_cli
from test_stats import COMPARISON_KEYS

pytestmark = pytest.mark.slow
APPROX = {"rel": 1e-9, "abs": 1e-12}
BUILD_VARS = [
    "--var",
    "as_of=2026-03-31T00:00:00Z",
    "--var",
    "funnel_steps=upgrade_intent,plan_selected,upgrade_completed",
    "--var",
    "experiment_min_accounts=4",
]
Z_95 = 1.959963984540054
METRIC_IDS = [
    "attempt_rate",
    "step_reach.upgrade_intent",
    "step_reach.plan_selected",
    "step_reach.upgrade_completed",
    "self_serve_upgrade_rate",
    "upgrade_rate",
    "account_escalation_rate",
    "account_payment_failure_rate",
    "mrr_delta_per_account",
]
NULL_COMPARISON = dict.fromkeys([*COMPARISON_KEYS, "enough_data", "significant"])


def phi(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def build_args(folder):
    return ["build", "--data-dir", FIXTURES / "experiments", "--warehouse", folder, *BUILD_VARS]


@pytest.fixture(scope="session")
def experiments_warehouse(tmp_path_factory):
    def make(folder):
        proc = run_cli(*build_args(folder / "wh.duckdb"))
        assert proc.returncode == 0, proc.stdout + proc.stderr

    return made_once(tmp_path_factory, "experiments-golden", make) / "wh.duckdb"


def experiments(warehouse, *args):
    proc = run_cli("experiments", "--warehouse", warehouse, "--format", "json", *args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="session")
def result(experiments_warehouse):
    return experiments(experiments_warehouse)


def experiment(result, exp_id, segment="__all__"):
    (e,) = [
        e
        for e in result["experiments"]
        if e["experiment_id"] == exp_id and (segment == "__all__" or e["segment"] == segment)
    ]
    return e


def variation(e, var_id):
    (v,) = [v for v in e["variations"] if v["variation_id"] == var_id]
    return v


def test_header_and_order(result):
    assert {k: result[k] for k in ("as_of", "window_days", "min_accounts")} == {
        "as_of": "2026-03-31T00:00:00Z",
        "window_days": 14,
        "min_accounts": 4,
    }
    assert result["reporting_currency"] == "USD"
    # Ordered by experiment_id; variations control first, then by variation_id.
    assert [e["experiment_id"] for e in result["experiments"]] == ["E1", "E2", "E3"]
    order = {
        e["experiment_id"]: [v["variation_id"] for v in e["variations"]]
        for e in result["experiments"]
    }
    assert order == {"E1": ["control", "treatment"], "E2": ["0", "1", "2"], "E3": ["alpha", "beta"]}
    for e in result["experiments"]:
        assert list(e) == [
            "experiment_id",
            "control",
            "first_exposure",
            "last_exposure",
            "multiple_exposures",
            "srm_p_value",
            "srm_warning",
            "variations",
        ]
        for v in e["variations"]:
            assert list(v["metrics"]) == METRIC_IDS
            for m in v["metrics"].values():
                assert list(m) == ["value", "n", *NULL_COMPARISON]


def test_controls_by_each_rule(result):
    # E1 has `control`; E2 has `0` (no `control`); E3 neither: the smallest, alpha < beta.
    assert [experiment(result, e)["control"] for e in ("E1", "E2", "E3")] == [
        "control",
        "0",
        "alpha",
    ]


def test_exposures_counts_and_maturity(result):
    e1 = experiment(result, "E1")
    # M1 saw control and treatment; C1's treatment event after as_of does not count.
    assert e1["multiple_exposures"] == 1
    # Counted accounts: earliest 03-01 10:00 (C1..T4), latest T5 03-25 10:00 (M1, L1 and
    # X1 are not counted; T1's repeat on 03-05 is not its exposure).
    assert e1["first_exposure"] == "2026-03-01T10:00:00Z"
    assert e1["last_exposure"] == "2026-03-25T10:00:00Z"
    # control C1-C4 (4, matured); treatment T1-T5 exposed (5), T5 not matured (4).
    assert [(v["exposed_accounts"], v["matured_accounts"]) for v in e1["variations"]] == [
        (4, 4),
        (5, 4),
    ]
    e2 = experiment(result, "E2")
    assert [(v["exposed_accounts"], v["matured_accounts"]) for v in e2["variations"]] == [
        (1, 1),
        (1, 1),
        (2, 2),
    ]


def test_control_values_and_null_comparisons(result):
    control = variation(experiment(result, "E1"), "control")["metrics"]
    # C1 attempt and steps 1-3; C1 self-serve; C1 and C3 upgrades; no escalation; C2's
    # failed payment; mrr over C1, C2, C4 (C3 unconvertible): (20 + 0 + 0) / 3.
    expected = {
        "attempt_rate": (1 / 4, 4),
        "step_reach.upgrade_intent": (1 / 4, 4),
        "step_reach.plan_selected": (1 / 4, 4),
        "step_reach.upgrade_completed": (1 / 4, 4),
        "self_serve_upgrade_rate": (1 / 4, 4),
        "upgrade_rate": (2 / 4, 4),
        "account_escalation_rate": (0.0, 4),
        "account_payment_failure_rate": (1 / 4, 4),
        "mrr_delta_per_account": (20 / 3, 3),
    }
    for metric_id, (value, n) in expected.items():
        m = control[metric_id]
        assert m["value"] == pytest.approx(value, **APPROX), metric_id
        assert m["n"] == n, metric_id
        # The control's comparison fields are null.
        assert {k: m[k] for k in NULL_COMPARISON} == NULL_COMPARISON, metric_id


def test_every_field_of_treatment_attempt_rate_by_hand(result):
    e1 = experiment(result, "E1")
    m = variation(e1, "treatment")["metrics"]["attempt_rate"]
    # x_v = 3/4 (T1, T2, T3 started an attempt in their window; T4's was before it), n_v = 4;
    # x_c = 1/4 (C1; C4's intent is after its window), n_c = 4.
    # diff = 0.75 - 0.25 = 0.5; lift = 0.5 / 0.25 = 2.0.
    # se = sqrt(0.75 * 0.25 / 4 + 0.25 * 0.75 / 4) = sqrt(0.09375) = 0.30618621784789724
    # ci = 0.5 -/+ 1.959963984540054 * 0.306186... = 0.5 -/+ 0.6001139595444137
    #    = (-0.1001139595444137, 1.1001139595444137)
    # z = 0.5 / 0.30618621784789724 = 1.632993161855452 (= 4 / sqrt(6))
    # p = 2 (1 - Phi(1.63299)) = 0.10247; chance = Phi(1.63299) = 0.94876
    # enough_data: 4 >= 4 and 4 >= 4; significant: 0.102 >= 0.05, so false.
    se = math.sqrt(0.09375)
    z = 4 / math.sqrt(6)
    assert m["value"] == pytest.approx(0.75, **APPROX)
    assert m["n"] == 4
    assert m["diff"] == pytest.approx(0.5, **APPROX)
    assert m["lift"] == pytest.approx(2.0, **APPROX)
    assert m["ci_low"] == pytest.approx(0.5 - Z_95 * se, **APPROX)
    assert m["ci_high"] == pytest.approx(0.5 + Z_95 * se, **APPROX)
    assert m["ci_low"] == pytest.approx(-0.1001139595, abs=1e-9)
    assert m["z"] == pytest.approx(z, **APPROX)
    assert m["z"] == pytest.approx(1.6329931619, abs=1e-9)
    assert m["p_value"] == pytest.approx(2 * (1 - phi(z)), rel=1e-9)
    assert m["p_value"] == pytest.approx(0.10247, abs=1e-5)
    assert m["chance_to_beat_control"] == pytest.approx(phi(z), rel=1e-9)
    assert m["chance_to_beat_control"] == pytest.approx(0.94876, abs=1e-5)
    assert m["enough_data"] is True
    assert m["significant"] is False
    # Sample ratio: exposed 4 (control) and 5 (treatment, T5 included), expected 4.5 each:
    # chi2 = (0.25 + 0.25) / 4.5 = 1/9, 1 degree of freedom: p = 2 (1 - Phi(sqrt(1/9)))
    # = 2 (1 - Phi(1/3)) = 0.73888.
    assert e1["srm_p_value"] == pytest.approx(2 * (1 - phi(1 / 3)), rel=1e-9)
    assert e1["srm_p_value"] == pytest.approx(0.73888, abs=1e-5)
    assert e1["srm_warning"] is False


def test_other_treatment_metrics_by_hand(result):
    m = variation(experiment(result, "E1"), "treatment")["metrics"]
    # Steps: T1 and T2 reached plan_selected (2/4), T1 completed (1/4).
    assert m["step_reach.upgrade_intent"]["value"] == pytest.approx(0.75, **APPROX)
    assert m["step_reach.plan_selected"]["value"] == pytest.approx(0.5, **APPROX)
    assert m["step_reach.upgrade_completed"]["value"] == pytest.approx(0.25, **APPROX)
    # plan_selected: diff 0.25, se = sqrt(0.5 * 0.5 / 4 + 0.1875 / 4) = sqrt(0.109375),
    # z = 0.25 / 0.330719 = 0.755929.
    assert m["step_reach.plan_selected"]["z"] == pytest.approx(0.25 / math.sqrt(0.109375), **APPROX)
    # Self-serve: T1 only (T2's upgrade is sales-assisted): 1/4 = control's 1/4: diff 0,
    # se = sqrt(2 * 0.1875 / 4) > 0, z = 0, p = 1, chance 0.5.
    s = m["self_serve_upgrade_rate"]
    assert (
        s["value"],
        s["diff"],
        s["lift"],
        s["z"],
        s["p_value"],
        s["chance_to_beat_control"],
    ) == (
        0.25,
        0.0,
        0.0,
        0.0,
        1.0,
        0.5,
    )
    # Any upgrade: T1, T2: 2/4.
    assert m["upgrade_rate"]["value"] == pytest.approx(0.5, **APPROX)
    # Escalation: T2 (1/4) against 0: lift null (x_c = 0); se = sqrt(0.1875 / 4 + 0)
    # = 0.216506, z = 0.25 / 0.216506 = 1.154701 (= 2 / sqrt(3)).
    e = m["account_escalation_rate"]
    assert e["value"] == pytest.approx(0.25, **APPROX) and e["lift"] is None
    assert e["z"] == pytest.approx(2 / math.sqrt(3), **APPROX)
    # Payment failures (the guardrail): T3 1/4, control C2 1/4.
    assert m["account_payment_failure_rate"]["value"] == pytest.approx(0.25, **APPROX)
    # Revenue per account: T1 20, T2 50, T3 0, T4 0 (its change was before the window):
    # mean 17.5, s^2 = (2.5^2 + 32.5^2 + 17.5^2 + 17.5^2) / 3 = 1675 / 3; control C1 20,
    # C2 0, C4 0: mean 20/3, s^2 = ((40/3)^2 + 2 (20/3)^2) / 2 = 400 / 3, its own n = 3.
    # diff = 17.5 - 20/3 = 65/6; se = sqrt(1675/3 / 4 + 400/3 / 3) = sqrt(184.02777...)
    # z = (65/6) / 13.56568 = 0.798584; enough_data false (n_c = 3 < 4).
    r = m["mrr_delta_per_account"]
    se = math.sqrt(1675 / 3 / 4 + 400 / 3 / 3)
    assert r["value"] == pytest.approx(17.5, **APPROX) and r["n"] == 4
    assert r["diff"] == pytest.approx(65 / 6, **APPROX)
    assert r["lift"] == pytest.approx((65 / 6) / (20 / 3), **APPROX)
    assert r["ci_low"] == pytest.approx(65 / 6 - Z_95 * se, **APPROX)
    assert r["z"] == pytest.approx((65 / 6) / se, **APPROX)
    assert r["enough_data"] is False and r["significant"] is False


def test_three_variations(result):
    e2 = experiment(result, "E2")
    # Exposed 1, 1, 2: expected 4/3 each; chi2 = (1/9 + 1/9 + 4/9) / (4/3) = 0.5 with 2
    # degrees of freedom: p = exp(-0.5 / 2) = exp(-0.25) = 0.778801.
    assert e2["srm_p_value"] == pytest.approx(math.exp(-0.25), **APPROX)
    two = variation(e2, "2")["metrics"]["attempt_rate"]
    # D3 of D3, D4: 1/2 against D1's 0/1: diff 0.5, lift null, se = sqrt(0.25 / 2) =
    # 0.353553, z = sqrt(2); n below 4: enough_data false, significant false.
    assert two["value"] == pytest.approx(0.5, **APPROX) and two["lift"] is None
    assert two["z"] == pytest.approx(math.sqrt(2), **APPROX)
    assert (two["enough_data"], two["significant"]) == (False, False)
    one = variation(e2, "1")["metrics"]
    # 0/1 against 0/1: se = 0, so ci = diff = 0 and z, p, chance null.
    a = one["attempt_rate"]
    assert (a["diff"], a["ci_low"], a["ci_high"], a["z"], a["p_value"]) == (
        0.0,
        0.0,
        0.0,
        None,
        None,
    )
    # The mean needs 2 accounts a side: D2 alone, so every comparison field is null.
    assert {k: one["mrr_delta_per_account"][k] for k in NULL_COMPARISON} == NULL_COMPARISON


def test_by_persona(experiments_warehouse):
    out = experiments(experiments_warehouse, "--by", "persona")
    keys = [(e["experiment_id"], e["segment"]) for e in out["experiments"]]
    # E1's exposed accounts: founder C1 C2 T1 T2 M1; marketer C3 C4 T3 T5; null T4.
    # E2 and E3: founders only. experiment_id, then segment, null last.
    assert keys == [
        ("E1", "founder"),
        ("E1", "marketer"),
        ("E1", None),
        ("E2", "founder"),
        ("E3", "founder"),
    ]
    founder = experiment(out, "E1", "founder")
    assert founder["dimension"] == "persona" and founder["control"] == "control"
    assert founder["multiple_exposures"] == 1  # M1
    assert [(v["variation_id"], v["exposed_accounts"]) for v in founder["variations"]] == [
        ("control", 2),
        ("treatment", 2),
    ]
    # null segment (T4 only): every variation listed, control with zero accounts; the
    # rates of a variation with no account are null and so is every comparison field.
    null = experiment(out, "E1", None)
    assert [(v["variation_id"], v["exposed_accounts"]) for v in null["variations"]] == [
        ("control", 0),
        ("treatment", 1),
    ]
    assert variation(null, "control")["metrics"]["attempt_rate"]["value"] is None
    t = variation(null, "treatment")["metrics"]["attempt_rate"]
    assert t["value"] == 0.0 and {k: t[k] for k in NULL_COMPARISON} == NULL_COMPARISON
    # Sample ratio over (0, 1): chi2 = (0.25 + 0.25) / 0.5 = 1, p = 2 (1 - Phi(1)).
    assert null["srm_p_value"] == pytest.approx(2 * (1 - phi(1.0)), rel=1e-9)
    # Founders: T1 T2 attempted (2/2) against C1 (1/2).
    assert variation(founder, "treatment")["metrics"]["attempt_rate"]["value"] == 1.0
    assert variation(founder, "control")["metrics"]["attempt_rate"]["value"] == 0.5


def test_one_experiment_and_errors(experiments_warehouse, tmp_path):
    one = experiments(experiments_warehouse, "--experiment", "E2")
    assert [e["experiment_id"] for e in one["experiments"]] == ["E2"]
    proc = run_cli("experiments", "--warehouse", experiments_warehouse, "--experiment", "NOPE")
    assert proc.returncode == 2 and "NOPE" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    proc = run_cli("experiments", "--warehouse", experiments_warehouse, "--by", "planet")
    assert proc.returncode == 2 and "--by" in proc.stderr
    proc = run_cli("experiments", "--warehouse", tmp_path / "none.duckdb")
    assert proc.returncode == 2 and "no warehouse" in proc.stderr


def test_csv_and_table(experiments_warehouse):
    proc = run_cli("experiments", "--warehouse", experiments_warehouse, "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    records = list(csv.DictReader(io.StringIO(proc.stdout)))
    # 3 experiments: (2 + 3 + 2) variations x 9 metrics.
    assert len(records) == 7 * 9
    row = next(
        r for r in records if r["variation_id"] == "treatment" and r["metric_id"] == "attempt_rate"
    )
    assert float(row["diff"]) == pytest.approx(0.5) and row["significant"] == "false"
    assert row["enough_data"] == "true" and row["lift"] == "2.0"
    control = next(r for r in records if r["variation_id"] == "control")
    assert control["diff"] == "" and control["significant"] == ""
    proc = run_cli("experiments", "--warehouse", experiments_warehouse)
    assert proc.returncode == 0, proc.stderr
    assert "Experiment E1" in proc.stdout and "5 exposed" in proc.stdout
    assert "too few accounts" in proc.stdout  # mrr_delta_per_account: control n = 3 < 4


def test_warehouse_without_experiments(basic_warehouse):
    out = experiments(basic_warehouse[0])
    assert out["experiments"] == [] and out["window_days"] == 14 and out["min_accounts"] == 100


def test_experiment_parameters_are_parsed_and_passed_to_dbt():
    from upgrade_warehouse.errors import UserError
    from upgrade_warehouse.params import parse_vars

    p = parse_vars(
        [
            "experiment_events=experiment_viewed, Experiment Viewed",
            "experiment_window_days=7",
            "experiment_min_accounts=250",
        ]
    )
    assert p.dbt_vars()["experiment_events"] == ["experiment_viewed", "Experiment Viewed"]
    assert (p.dbt_vars()["experiment_window_days"], p.as_json()["experiment_min_accounts"]) == (
        7,
        250,
    )
    with pytest.raises(UserError, match="experiment_window_days"):
        parse_vars(["experiment_window_days=two weeks"])
    with pytest.raises(UserError, match="experiment_events"):
        parse_vars(["experiment_events="])
