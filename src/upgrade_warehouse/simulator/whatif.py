"""What-if projections of the upgrade funnel, for the dashboard.

Two steps:

1. :func:`load_baseline` reads the recent baseline from a published warehouse (one
   short-lived read-only connection of :mod:`upgrade_warehouse.warehouse`): attempts
   started per month, the step-to-step conversion rates along ``funnel_steps``, the
   average MRR delta per upgrade in the reporting currency, and the channel mix of
   upgrades, from the counts of the marts (no fact is counted here).
2. :func:`project` projects that baseline forward month by month under a scenario (step
   conversion overrides, a price change) next to the unchanged baseline, and the delta.

The model is a steady state: every projected month has the baseline's attempts;
completed upgrades = attempts x the product of the step conversions (steps 2..n);
expansion MRR = completed upgrades x average MRR delta per upgrade x (1 + price change).
Rates are fractions in [0, 1], money is in major units of the reporting currency. No
Streamlit here: the dashboard renders what this returns.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from ..errors import UserError
from ..warehouse import check_version, connect, read_build

CHANNELS = ("self_serve", "sales_assisted", "automatic")


# --------------------------------------------------------------------------- months


def _month_label(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def _parse_month(value: str | date, name: str) -> date:
    if isinstance(value, date):
        return date(value.year, value.month, 1)
    try:
        parsed = datetime.strptime(str(value), "%Y-%m")
    except ValueError:
        raise UserError(f"{name} must be YYYY-MM, not {value!r}") from None
    return date(parsed.year, parsed.month, 1)


def _add_months(d: date, n: int) -> date:
    total = d.year * 12 + d.month - 1 + n
    return date(total // 12, total % 12 + 1, 1)


# --------------------------------------------------------------------------- baseline


@dataclass(frozen=True)
class Baseline:
    """The recent baseline the projection starts from.

    Only ``funnel_steps``, ``attempts_per_month``, ``step_conversion`` and
    ``avg_mrr_delta_per_upgrade`` are needed by :func:`project`; the rest describes
    where the numbers came from (filled by :func:`load_baseline`).
    """

    funnel_steps: tuple[str, ...]
    attempts_per_month: float
    # Steps 2..n: share of the resolved attempts that reached step k-1 and also reached
    # step k. None = no resolved attempt reached step k-1 in the baseline months.
    step_conversion: Mapping[str, float | None]
    # Mean mrr_delta_reporting of upgrades (major units); None = no converted upgrade.
    avg_mrr_delta_per_upgrade: float | None
    # Share of upgrades by channel (self_serve, sales_assisted, automatic); empty = none.
    channel_mix: Mapping[str, float] = field(default_factory=dict)
    reporting_currency: str = "USD"
    as_of: datetime | None = None
    months: tuple[str, ...] = ()  # the baseline months, YYYY-MM
    attempts_started: int = 0  # in the baseline months
    resolved_attempts: int = 0
    steps_reached: Mapping[str, int] = field(default_factory=dict)  # resolved attempts
    upgrades: int = 0
    converted_upgrades: int = 0  # upgrades with a reporting-currency delta

    @property
    def completion_rate(self) -> float | None:
        """Product of the step conversions (= completed / resolved attempts)."""
        rates = [self.step_conversion.get(s) for s in self.funnel_steps[1:]]
        if any(r is None for r in rates):
            return None
        return math.prod(rates)


def _full_resolved_end(as_of: datetime, window_days: int) -> date:
    """The latest month all of whose attempts are resolved at as_of: every attempt started
    in it has its window closed (next month's start + window <= as_of)."""
    month = date(as_of.year, as_of.month, 1)
    while (
        datetime.combine(_add_months(month, 1), datetime.min.time()) + timedelta(days=window_days)
        > as_of
    ):
        month = _add_months(month, -1)
    return month


def load_baseline(
    warehouse: str | Path,
    months: int = 3,
    end_month: str | date | None = None,
) -> Baseline:
    """The baseline of a published warehouse over ``months`` months ending at
    ``end_month`` (YYYY-MM; default: the last full resolved month, i.e. the latest month
    whose attempts' conversion windows have all closed by as_of). Months before the first
    month of the warehouse are not counted (``Baseline.months`` lists the months used).

    Every count comes from the marts (all accounts), summed over the baseline months:

    - attempts_per_month: attempts started (``fct_funnel_steps``, step 1) / months;
    - step_conversion: resolved attempts reaching step k / reaching step k-1
      (``fct_funnel_steps.resolved_attempts_reached``);
    - avg_mrr_delta_per_upgrade: the reporting-currency sum over the number of converted
      upgrades (the counts behind ``arpu_per_upgrade``); channel_mix: upgrades by channel
      / upgrades (``fct_monthly_metrics_by_segment``).
    """
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise UserError(f"months must be a whole number >= 1, not {months!r}")
    with connect(Path(warehouse)) as con:
        try:
            check_version(con, warehouse)
            build = read_build(con)
            spine = [
                r[0]
                for r in con.execute(
                    "select month from marts.fct_monthly_metrics order by month"
                ).fetchall()
            ]
            params = build.parameters
            as_of = build.as_of
            steps = tuple(params["funnel_steps"])
            window_days = int(params["conversion_window_days"])
            last = (
                _full_resolved_end(as_of, window_days)
                if end_month is None
                else _parse_month(end_month, "end_month")
            )
            first_wanted = _add_months(last, -(months - 1))
            used = [m for m in spine if first_wanted <= m <= last]
            if not used:
                span = f"{_month_label(spine[0])} to {_month_label(spine[-1])}" if spine else "none"
                what = (
                    f"end_month {_month_label(last)}"
                    if end_month is not None
                    else f"no month is full and resolved yet (last candidate {_month_label(last)})"
                )
                raise UserError(
                    f"{warehouse}: no baseline months: {what}; the warehouse has months {span}"
                )
            lo, hi = used[0], used[-1]
            step_rows = con.execute(
                "select step_index, sum(attempts_reached), sum(resolved_attempts_reached) "
                "from marts.fct_funnel_steps "
                "where segment_dimension = 'all' and month between ? and ? "
                "group by step_index order by step_index",
                [lo, hi],
            ).fetchall()
            channel_columns = ", ".join(f"sum({c}_upgrades)" for c in CHANNELS)
            upgrades, mrr_sum, converted, *by_channel = con.execute(
                "select sum(upgrades), sum(arpu_per_upgrade__numerator), "
                f"sum(arpu_per_upgrade__denominator), {channel_columns} "
                "from marts.fct_monthly_metrics_by_segment "
                "where segment_dimension = 'all' and month between ? and ?",
                [lo, hi],
            ).fetchone()
        except (duckdb.Error, KeyError, TypeError, ValueError) as exc:
            # a warehouse of another version, a missing mart or parameter
            raise UserError(f"{warehouse}: cannot read the baseline: {exc}") from None

    started = {int(k): int(n) for k, n, _ in step_rows}
    resolved_reached = {int(k): int(r) for k, _, r in step_rows}
    reached = {s: resolved_reached.get(k, 0) for k, s in enumerate(steps, start=1)}
    conversion: dict[str, float | None] = {}
    for k in range(1, len(steps)):
        before, now = reached[steps[k - 1]], reached[steps[k]]
        conversion[steps[k]] = now / before if before else None
    upgrades, converted = int(upgrades or 0), int(converted or 0)
    mix = (
        {c: int(n or 0) / upgrades for c, n in zip(CHANNELS, by_channel, strict=True)}
        if upgrades
        else {}
    )
    attempts_started = started.get(1, 0)
    return Baseline(
        funnel_steps=steps,
        attempts_per_month=attempts_started / len(used),
        step_conversion=conversion,
        avg_mrr_delta_per_upgrade=float(mrr_sum) / converted if converted else None,
        channel_mix=mix,
        reporting_currency=build.reporting_currency,
        as_of=as_of,
        months=tuple(_month_label(m) for m in used),
        attempts_started=attempts_started,
        resolved_attempts=resolved_reached.get(1, 0),
        steps_reached=reached,
        upgrades=upgrades,
        converted_upgrades=converted,
    )


# --------------------------------------------------------------------------- projection


@dataclass(frozen=True)
class ProjectedMonth:
    month_index: int  # 1 = the first month after the baseline's as_of month
    month: str | None  # YYYY-MM; None when the baseline has no as_of
    attempts: float
    completed_upgrades: float
    expansion_mrr: float | None  # major units of the reporting currency
    cumulative_expansion_mrr: float | None
    upgrades_by_channel: Mapping[str, float]  # completed_upgrades x channel mix


@dataclass(frozen=True)
class Series:
    rows: tuple[ProjectedMonth, ...]

    @property
    def total_completed_upgrades(self) -> float:
        return sum(r.completed_upgrades for r in self.rows)

    @property
    def total_expansion_mrr(self) -> float | None:
        return self.rows[-1].cumulative_expansion_mrr if self.rows else 0.0


@dataclass(frozen=True)
class Projection:
    months: int
    price_change_pct: float
    step_conversion: Mapping[str, float]  # the scenario's rates (overrides applied)
    baseline_step_conversion: Mapping[str, float]
    completion_rate: float  # product of the scenario's step conversions
    baseline_completion_rate: float
    revenue_per_upgrade: float | None  # avg MRR delta x (1 + price change)
    baseline_revenue_per_upgrade: float | None
    scenario: Series
    baseline: Series
    delta: Series  # scenario - baseline, month by month

    def to_records(self) -> list[dict[str, Any]]:
        """Long form for charts: one dict per (series, month)."""
        out = []
        for name, series in (
            ("scenario", self.scenario),
            ("baseline", self.baseline),
            ("delta", self.delta),
        ):
            for r in series.rows:
                out.append(
                    {
                        "series": name,
                        "month_index": r.month_index,
                        "month": r.month,
                        "attempts": r.attempts,
                        "completed_upgrades": r.completed_upgrades,
                        "expansion_mrr": r.expansion_mrr,
                        "cumulative_expansion_mrr": r.cumulative_expansion_mrr,
                    }
                )
        return out


def _rate(step: str, value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise UserError(f"{what} for step '{step}' must be a number in [0, 1], not {value!r}")
    if not 0.0 <= value <= 1.0:
        raise UserError(f"{what} for step '{step}' must be in [0, 1], not {value!r}")
    return float(value)


def _rates(baseline: Baseline, overrides: Mapping[str, Any]) -> tuple[dict, dict]:
    steps = baseline.funnel_steps
    if len(steps) < 2:
        raise UserError("the funnel needs at least two steps to have a conversion")
    for step in overrides:
        if step not in steps:
            raise UserError(f"unknown funnel step '{step}' (steps: {', '.join(steps)})")
        if step == steps[0]:
            raise UserError(
                f"'{step}' is the first funnel step: every attempt starts there, it has no "
                f"conversion (override one of: {', '.join(steps[1:])})"
            )
    base: dict[str, float] = {}
    scenario: dict[str, float] = {}
    for step in steps[1:]:
        value = baseline.step_conversion.get(step)
        if value is None:
            if step not in overrides:
                raise UserError(
                    f"no baseline conversion for step '{step}' (no resolved attempt reached "
                    f"the step before it in the baseline months); give it an override"
                )
            # The baseline itself cannot be projected without it: use the override there
            # too, so that the delta shows only what the other overrides change.
            value = overrides[step]
        base[step] = _rate(step, value, "the baseline conversion")
        scenario[step] = _rate(step, overrides.get(step, value), "the conversion override")
    return base, scenario


def _series(baseline: Baseline, completion: float, revenue: float | None, months: int) -> Series:
    first = (
        _add_months(date(baseline.as_of.year, baseline.as_of.month, 1), 1)
        if baseline.as_of is not None
        else None
    )
    attempts = float(baseline.attempts_per_month)
    upgrades = attempts * completion
    mrr = None if revenue is None else upgrades * revenue
    rows = []
    for i in range(1, months + 1):
        rows.append(
            ProjectedMonth(
                month_index=i,
                month=_month_label(_add_months(first, i - 1)) if first else None,
                attempts=attempts,
                completed_upgrades=upgrades,
                expansion_mrr=mrr,
                cumulative_expansion_mrr=None if mrr is None else mrr * i,
                upgrades_by_channel={c: upgrades * s for c, s in baseline.channel_mix.items()},
            )
        )
    return Series(tuple(rows))


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _delta(scenario: Series, base: Series) -> Series:
    return Series(
        tuple(
            ProjectedMonth(
                month_index=s.month_index,
                month=s.month,
                attempts=s.attempts - b.attempts,
                completed_upgrades=s.completed_upgrades - b.completed_upgrades,
                expansion_mrr=_minus(s.expansion_mrr, b.expansion_mrr),
                cumulative_expansion_mrr=_minus(
                    s.cumulative_expansion_mrr, b.cumulative_expansion_mrr
                ),
                upgrades_by_channel={
                    c: s.upgrades_by_channel[c] - b.upgrades_by_channel[c]
                    for c in s.upgrades_by_channel
                },
            )
            for s, b in zip(scenario.rows, base.rows, strict=True)
        )
    )


def project(
    baseline: Baseline,
    step_conversion_overrides: Mapping[str, float] | None = None,
    price_change_pct: float = 0.0,
    months: int = 12,
) -> Projection:
    """Project ``baseline`` over ``months`` months under a scenario.

    ``step_conversion_overrides``: step name -> conversion rate in [0, 1] replacing the
    baseline's (share of the attempts reaching the step before that also reach this one;
    the first step has none). ``price_change_pct``: the price change as a fraction,
    like every rate here (0.10 = prices 10% higher; >= -1): it scales the MRR per
    upgrade, not the conversions. Raises :class:`UserError` for an unknown step, a rate
    outside [0, 1], a step without a baseline rate and no override, or bad arguments.
    Expansion MRR is None when the baseline has no average MRR per upgrade.
    """
    overrides = dict(step_conversion_overrides or {})
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise UserError(f"months must be a whole number >= 1, not {months!r}")
    if (
        isinstance(price_change_pct, bool)
        or not isinstance(price_change_pct, int | float)
        or not math.isfinite(price_change_pct)
        or price_change_pct < -1
    ):
        raise UserError(
            f"price_change_pct must be a fraction >= -1 (0.10 = +10%), not {price_change_pct!r}"
        )
    if not isinstance(baseline.attempts_per_month, int | float) or not (
        math.isfinite(baseline.attempts_per_month) and baseline.attempts_per_month >= 0
    ):
        raise UserError(
            f"attempts_per_month must be a number >= 0, not {baseline.attempts_per_month!r}"
        )
    base_rates, scenario_rates = _rates(baseline, overrides)
    base_completion = math.prod(base_rates.values())
    scenario_completion = math.prod(scenario_rates.values())
    avg = baseline.avg_mrr_delta_per_upgrade
    base_revenue = None if avg is None else float(avg)
    scenario_revenue = None if avg is None else float(avg) * (1.0 + price_change_pct)
    base_series = _series(baseline, base_completion, base_revenue, months)
    scenario_series = _series(baseline, scenario_completion, scenario_revenue, months)
    return Projection(
        months=months,
        price_change_pct=float(price_change_pct),
        step_conversion=scenario_rates,
        baseline_step_conversion=base_rates,
        completion_rate=scenario_completion,
        baseline_completion_rate=base_completion,
        revenue_per_upgrade=scenario_revenue,
        baseline_revenue_per_upgrade=base_revenue,
        scenario=scenario_series,
        baseline=base_series,
        delta=_delta(scenario_series, base_series),
    )
