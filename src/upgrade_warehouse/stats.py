"""The one statistics module: two-sample comparisons of metrics.md "Experiments" (used as
well by "What moved" and the dashboard's compare mode) and the sample-ratio check.

Pure functions of counts, rates, means and variances; the normal and chi-square
distributions come from ``scipy.stats`` (SQL has no normal CDF). Nothing here reads a
warehouse: the dbt marts give each side's value and population, this module compares.

metrics.md "Experiments", for values x_v, x_c over n_v, n_c accounts:

- ``diff`` = x_v - x_c; ``lift`` = diff / x_c (None when x_c = 0);
- ``se`` = sqrt(x_v (1 - x_v) / n_v + x_c (1 - x_c) / n_c) for rates, and
  sqrt(s_v^2 / n_v + s_c^2 / n_c) with sample variances (divisor n - 1) for means;
- ``ci_low``, ``ci_high`` = diff -/+ Z_95 se; ``z`` = diff / se;
- ``p_value`` = 2 (1 - Phi(|z|)); ``chance_to_beat_control`` = Phi(z);
- se = 0: ci_low = ci_high = diff, and z, p_value, chance_to_beat_control are None;
- a side with no account (for a mean: fewer than 2): every field is None.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

Z_95 = 1.959963984540054  # the 97.5th percentile of the standard normal distribution
SIGNIFICANCE = 0.05  # p_value below this is "significant" (with enough data)
SRM_THRESHOLD = 0.001  # srm_p_value below this: the assignment is broken

COMPARISON_FIELDS = (
    "diff",
    "lift",
    "ci_low",
    "ci_high",
    "z",
    "p_value",
    "chance_to_beat_control",
)


@dataclass(frozen=True)
class Comparison:
    """One variation (or month) against its control (or the previous month)."""

    diff: float | None = None
    lift: float | None = None
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    z: float | None = None
    p_value: float | None = None
    chance_to_beat_control: float | None = None

    def fields(self) -> dict:
        """The comparison fields of the experiments JSON (se is not one of them)."""
        values = asdict(self)
        return {k: values[k] for k in COMPARISON_FIELDS}

    def significant(self, enough_data: bool) -> bool:
        """metrics.md: enough_data and p_value < 0.05 (false when p_value is None)."""
        return bool(enough_data and self.p_value is not None and self.p_value < SIGNIFICANCE)


NO_COMPARISON = Comparison()


def normal_cdf(z: float) -> float:
    """Phi, the standard normal CDF."""
    from scipy.stats import norm

    return float(norm.cdf(z))


def two_sided_p(z: float) -> float:
    """2 (1 - Phi(|z|)), computed as 2 * the survival function (no loss of digits in
    the far tail, where 1 - Phi rounds to 0)."""
    from scipy.stats import norm

    return float(2.0 * norm.sf(abs(z)))


def _finish(diff: float, se: float, control: float) -> Comparison:
    lift = None if control == 0 else diff / control
    if se == 0 or not math.isfinite(se):
        return Comparison(diff=diff, lift=lift, se=se, ci_low=diff, ci_high=diff)
    z = diff / se
    return Comparison(
        diff=diff,
        lift=lift,
        se=se,
        ci_low=diff - Z_95 * se,
        ci_high=diff + Z_95 * se,
        z=z,
        p_value=two_sided_p(z),
        chance_to_beat_control=normal_cdf(z),
    )


def compare_rates(
    x_v: float | None, n_v: int | None, x_c: float | None, n_c: int | None
) -> Comparison:
    """Two proportions x_v over n_v and x_c over n_c (metrics.md "Experiments")."""
    if not n_v or not n_c or x_v is None or x_c is None:
        return NO_COMPARISON
    se = math.sqrt(x_v * (1 - x_v) / n_v + x_c * (1 - x_c) / n_c)
    return _finish(x_v - x_c, se, x_c)


def compare_means(
    mean_v: float | None,
    var_v: float | None,
    n_v: int | None,
    mean_c: float | None,
    var_c: float | None,
    n_c: int | None,
) -> Comparison:
    """Two means with their sample variances (divisor n - 1); None fields when a side
    has fewer than 2 cases."""
    if n_v is None or n_c is None or n_v < 2 or n_c < 2 or None in (mean_v, mean_c, var_v, var_c):
        return NO_COMPARISON
    se = math.sqrt(var_v / n_v + var_c / n_c)
    return _finish(mean_v - mean_c, se, mean_c)


def sample_variance(values: Sequence[float]) -> float | None:
    """The sample variance (divisor n - 1); None below 2 values."""
    n = len(values)
    if n < 2:
        return None
    mean = sum(values) / n
    return sum((v - mean) ** 2 for v in values) / (n - 1)


def srm_p_value(counts: Sequence[int]) -> float | None:
    """Sample ratio mismatch: the chi-square goodness-of-fit p-value of the exposed
    accounts per variation against an equal split (k - 1 degrees of freedom). None with
    fewer than two variations or no account."""
    total = sum(counts)
    k = len(counts)
    if k < 2 or total == 0:
        return None
    from scipy.stats import chisquare

    return float(chisquare(list(counts)).pvalue)


def srm_warning(p_value: float | None) -> bool:
    """metrics.md: srm_p_value < 0.001 (the assignment is broken)."""
    return p_value is not None and p_value < SRM_THRESHOLD


def is_mover(comparison: Comparison, n: int | None, previous_n: int | None, min_count: int) -> bool:
    """metrics.md "What moved": both denominators >= min_count and |z| >= Z_95."""
    return (
        n is not None
        and previous_n is not None
        and n >= min_count
        and previous_n >= min_count
        and comparison.z is not None
        and abs(comparison.z) >= Z_95
    )
