"""stats.py against metrics.md "Experiments" and "What moved", computed by hand.

Phi(z) = (1 + erf(z / sqrt 2)) / 2, so 2 (1 - Phi(|z|)) = erfc(|z| / sqrt 2); for a
chi-square statistic x with 1 degree of freedom the p-value is erfc(sqrt(x / 2)), with 2
it is exp(-x / 2). The tests use these closed forms (math only), not scipy.
"""

from __future__ import annotations

import math

import pytest

from upgrade_warehouse import stats

Z = 1.959963984540054
# A comparison's fields as metrics.md names them (typed from the spec, not read from stats.py;
# test_experiments_golden uses them too).
COMPARISON_KEYS = (
    "diff",
    "lift",
    "ci_low",
    "ci_high",
    "z",
    "p_value",
    "chance_to_beat_control",
)


def test_two_proportions_founders_against_marketers():
    # Q3 founders 63/426 against marketers 33/372 (issue 32's example).
    xv, xc = 63 / 426, 33 / 372  # 0.1478873, 0.0887097
    se = math.sqrt(xv * (1 - xv) / 426 + xc * (1 - xc) / 372)  # 0.0226523
    c = stats.compare_rates(xv, 426, xc, 372)
    assert c.diff == pytest.approx(0.0591776, abs=1e-7)
    assert c.lift == pytest.approx(0.0591776 / 0.0887097, rel=1e-5)
    assert c.se == pytest.approx(0.0226523, abs=1e-7)
    assert c.z == pytest.approx(2.61244, abs=1e-5)
    assert c.ci_low == pytest.approx(c.diff - Z * se)
    assert c.ci_high == pytest.approx(c.diff + Z * se)
    assert c.p_value == pytest.approx(math.erfc(2.6124353 / math.sqrt(2)), rel=1e-6)
    assert 0.0089 < c.p_value < 0.0091  # beyond noise (issue 32: "but 'no'")
    assert c.chance_to_beat_control == pytest.approx(1 - c.p_value / 2)
    assert c.significant(enough_data=True)
    assert not c.significant(enough_data=False)
    assert set(c.fields()) == set(COMPARISON_KEYS)


def test_se_zero_and_empty_sides():
    same = stats.compare_rates(0.0, 50, 0.0, 60)  # se = 0
    assert (same.diff, same.ci_low, same.ci_high) == (0.0, 0.0, 0.0)
    assert same.lift is None  # x_c = 0
    assert same.z is None and same.p_value is None and same.chance_to_beat_control is None
    assert not same.significant(enough_data=True)
    for empty in (stats.compare_rates(0.5, 0, 0.5, 10), stats.compare_rates(None, 10, 0.5, 10)):
        assert all(v is None for v in empty.fields().values())


def test_means_with_sample_variances():
    v = [0, 0, 10, 20, 0]  # mean 6, variance (36+36+16+196+36)/4 = 80
    c = [0, 0, 0, 0, 5]  # mean 1, variance (1+1+1+1+16)/4 = 5
    assert stats.sample_variance(v) == 80 and stats.sample_variance(c) == 5
    r = stats.compare_means(6, 80, 5, 1, 5, 5)
    assert r.diff == 5 and r.lift == 5
    assert r.se == pytest.approx(math.sqrt(17))  # sqrt(80/5 + 5/5)
    assert r.z == pytest.approx(5 / math.sqrt(17))
    assert r.p_value == pytest.approx(math.erfc(5 / math.sqrt(17) / math.sqrt(2)))
    one = stats.compare_means(6, 80, 5, 1, None, 1)  # a side with fewer than 2
    assert all(x is None for x in one.fields().values())


def test_sample_ratio_mismatch():
    # 600/400 against 500/500: chi2 = 2 * 100^2 / 500 = 40, 1 df
    assert stats.srm_p_value([600, 400]) == pytest.approx(math.erfc(math.sqrt(20)), rel=1e-9)
    assert stats.srm_warning(stats.srm_p_value([600, 400]))
    # 120/90/90 against 100 each: chi2 = (400 + 100 + 100) / 100 = 6, 2 df: exp(-3)
    assert stats.srm_p_value([120, 90, 90]) == pytest.approx(math.exp(-3), rel=1e-9)
    assert not stats.srm_warning(stats.srm_p_value([120, 90, 90]))
    assert stats.srm_p_value([100, 100, 100]) == pytest.approx(1.0)
    assert stats.srm_p_value([7]) is None and stats.srm_p_value([0, 0]) is None
    assert not stats.srm_warning(None)


def test_mover_rule():
    moved = stats.compare_rates(0.5, 100, 0.3, 100)  # z = 0.2 / sqrt(0.0046) = 2.95
    assert stats.is_mover(moved, 100, 100, 30)
    assert not stats.is_mover(moved, 29, 100, 30)  # too few this month
    assert not stats.is_mover(moved, 100, None, 30)
    small = stats.compare_rates(0.35, 100, 0.3, 100)  # z = 0.05 / 0.0666 = 0.75
    assert not stats.is_mover(small, 100, 100, 30)
    # exactly at the edge: |z| >= Z_95 counts
    edge = stats.Comparison(z=-Z)
    assert stats.is_mover(edge, 30, 30, 30)
