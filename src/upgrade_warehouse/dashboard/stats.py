"""Noise on rates, for the dashboard's segment views and compare mode (the one place
where the dashboard does arithmetic on numbers; pages do none).

A rate of metrics.md is ``numerator / denominator`` (the marts carry both counts with it).
Below ``min_count`` cases (``dashboards/config.toml``) a rate is "too few" and is not
shown as a number. Two rates differ beyond noise when the two-proportion comparison of
metrics.md "Experiments" (:func:`upgrade_warehouse.stats.compare_rates`, the one
statistics module, also behind `experiments` and `movers`) gives p_value < 0.05, both
rates having at least ``min_count`` cases. (Until issue 32 the rule was "the 95% Wilson
intervals do not overlap", which missed real differences such as 63/426 vs 33/372: z =
2.6, p = 0.009.) The Wilson interval stays for the error bars of single rates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .. import stats as shared_stats

Z_95 = 1.959963984540054  # the 97.5th percentile of the standard normal distribution
TOO_FEW = "too few"


def enough(denominator: int | None, min_count: int) -> bool:
    """Whether a rate over ``denominator`` cases is shown as a number."""
    return denominator is not None and denominator >= max(1, min_count)


def wilson_interval(
    rate: float | None, n: int | None, z: float = Z_95
) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion ``rate`` observed over ``n`` cases
    (None without cases)."""
    if rate is None or not n:
        return None
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (rate + z2 / (2 * n)) / denominator
    half = z * math.sqrt(rate * (1 - rate) / n + z2 / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class RateComparison:
    """Two rates side by side: A, B, A - B and whether that difference is beyond noise."""

    a: float | None
    b: float | None
    a_n: int | None
    b_n: int | None
    a_interval: tuple[float, float] | None
    b_interval: tuple[float, float] | None
    too_few: bool  # one of the two has fewer cases than min_count
    difference: float | None  # a - b; None when a rate is missing or too few
    beyond_noise: bool | None  # None when the difference is None
    z: float | None = None  # (a - b) / se of metrics.md "Experiments"
    p_value: float | None = None


def compare_rates(
    a: float | None,
    a_n: int | None,
    b: float | None,
    b_n: int | None,
    min_count: int,
    z: float = Z_95,
) -> RateComparison:
    """A (as the variation) against B (as the control): beyond noise when both have
    ``min_count`` cases and the two-proportion test's p_value < 0.05."""
    a_interval, b_interval = wilson_interval(a, a_n, z), wilson_interval(b, b_n, z)
    too_few = not (enough(a_n, min_count) and enough(b_n, min_count))
    if too_few or a is None or b is None:
        return RateComparison(a, b, a_n, b_n, a_interval, b_interval, too_few, None, None)
    c = shared_stats.compare_rates(a, a_n, b, b_n)
    beyond = c.significant(enough_data=True)
    return RateComparison(
        a, b, a_n, b_n, a_interval, b_interval, False, a - b, beyond, c.z, c.p_value
    )
