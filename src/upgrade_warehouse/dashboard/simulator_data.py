"""The Simulator page's data: the plan catalog and the what-if baseline."""

from __future__ import annotations

from .. import warehouse
from .marts import Ref, _cache

# --------------------------------------------------------------------------- simulator


@_cache
def plans(ref: Ref):
    """The warehouse's plan catalog (``dim_plans``), a polars frame in the contract's
    columns (``upgrade_warehouse.simulator.plans_from_frame`` reads it)."""
    with warehouse.connect(ref.path) as con:
        return con.sql(
            """
            select plan_id, plan_name, tier_rank, billing_interval, unit_amount_minor,
                   currency, self_serve, min_seats, max_seats, entitlements
            from marts.dim_plans
            order by currency, billing_interval, tier_rank, plan_id
            """
        ).pl()


# ---------------------------------------------------------------------------- what-if


def whatif_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("upgrade_warehouse.simulator.whatif") is not None


@_cache
def whatif_baseline(ref: Ref, months: int, end_month: str | None):
    """The what-if baseline (``upgrade_warehouse.simulator.whatif.load_baseline``, which
    reads the marts through the same read-only reader)."""
    from ..simulator.whatif import load_baseline

    return load_baseline(ref.path, months=months, end_month=end_month)
