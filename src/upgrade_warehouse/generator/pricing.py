"""Proration pricing of generated changes.

The expected proration lines come from the simulator's vectorized ``price_batch``
(granularity ``second``, timing ``immediate``). The import lives in
:func:`load_price_batch` only; while the simulator package does not provide it, a local
implementation of the same rules (``simulator.md``) is used instead.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl

from . import catalog as cat
from .timeutil import NULL_TS

NULL_AMOUNT = np.iinfo(np.int64).min


def load_price_batch() -> Callable | None:
    """The simulator's ``price_batch``, or None while it does not exist."""
    try:
        from upgrade_warehouse.simulator import price_batch  # type: ignore[attr-defined]
    except ImportError:
        return None
    return price_batch


def _round_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """round(num / den) half away from zero, exact, for num >= 0 and den > 0."""
    return (2 * num + den) // (2 * den)


def _local_price(from_plan, from_qty, to_plan, to_qty, pstart, pend, at, proration):
    """The simulator's rules for immediate timing and second granularity."""
    rem = pend - at
    total = pend - pstart
    fu = cat.PLAN_UNIT[from_plan] * from_qty
    tu = cat.PLAN_UNIT[to_plan] * to_qty
    credit = -_round_div(fu * rem, total)
    charge = _round_div(tu * rem, total)
    interval_change = cat.PLAN_STEP_MONTHS[from_plan] != cat.PLAN_STEP_MONTHS[to_plan]
    none = proration == 2
    credit = np.where((fu == 0) | none, NULL_AMOUNT, credit)
    charge = np.where((tu == 0) | none | interval_change, NULL_AMOUNT, charge)
    subline = np.where(interval_change, tu, NULL_AMOUNT)
    return credit, charge, subline


def _ts(a: np.ndarray) -> pl.Series:
    return (
        pl.Series(a * 1_000_000, dtype=pl.Int64).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    )


def price(from_plan, from_qty, to_plan, to_qty, pstart, pend, at, proration):
    """Proration credit, proration charge and subscription line of each case (minor
    units; ``NULL_AMOUNT`` where the line is omitted)."""
    n = len(from_plan)
    if n == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z.copy(), z.copy()
    assert (pstart != NULL_TS).all() and (pstart <= at).all() and (at < pend).all()
    price_batch = load_price_batch()
    if price_batch is None:
        return _local_price(from_plan, from_qty, to_plan, to_qty, pstart, pend, at, proration)
    credit, charge, subline = _simulator_price(
        price_batch, from_plan, from_qty, to_plan, to_qty, pstart, pend, at, proration
    )
    # Omitted lines are null (robust to a simulator that reports them as 0).
    interval_change = cat.PLAN_STEP_MONTHS[from_plan] != cat.PLAN_STEP_MONTHS[to_plan]
    none = proration == 2
    credit = np.where((cat.PLAN_UNIT[from_plan] == 0) | none, NULL_AMOUNT, credit)
    charge = np.where((cat.PLAN_UNIT[to_plan] == 0) | none | interval_change, NULL_AMOUNT, charge)
    subline = np.where(interval_change, subline, NULL_AMOUNT)
    return credit, charge, subline


def _simulator_price(
    price_batch, from_plan, from_qty, to_plan, to_qty, pstart, pend, at, proration
):
    n = len(from_plan)
    ids = np.array(cat.PLAN_IDS, dtype=object)
    cases = pl.DataFrame(
        {
            "case_id": pl.Series(np.arange(n), dtype=pl.Int64),
            "from_plan_id": pl.Series(ids[from_plan], dtype=pl.String),
            "from_quantity": pl.Series(from_qty, dtype=pl.Int64),
            "to_plan_id": pl.Series(ids[to_plan], dtype=pl.String),
            "to_quantity": pl.Series(to_qty, dtype=pl.Int64),
            "period_start": _ts(pstart),
            "period_end": _ts(pend),
            "at": _ts(at),
            "proration_behavior": pl.Series(
                np.array(("create_prorations", "always_invoice", "none"), dtype=object)[proration],
                dtype=pl.String,
            ),
            "granularity": pl.Series(["second"] * n, dtype=pl.String),
            "timing": pl.Series(["immediate"] * n, dtype=pl.String),
        }
    )
    out = price_batch(cases, cat.plans_frame())
    out = cases.select("case_id").join(out, on="case_id", how="left", maintain_order="left")
    errors = out.filter(pl.col("error").is_not_null())
    if errors.height:
        first = errors.row(0, named=True)
        raise RuntimeError(f"simulator rejected {errors.height} generated cases, e.g. {first}")

    def col(name):
        return out.get_column(name).cast(pl.Int64).fill_null(NULL_AMOUNT).to_numpy()

    return (
        col("proration_credit_minor"),
        col("proration_charge_minor"),
        col("subscription_line_minor"),
    )
