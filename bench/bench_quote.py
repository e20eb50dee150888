"""Benchmark of the vectorized batch simulator: quotes per second.

.venv/bin/python bench/bench_quote.py [--n 1000000] [--seed 0] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import polars as pl

from upgrade_warehouse.simulator import load_plans, plans_to_frame, price_batch


def make_cases(n: int, seed: int = 0) -> pl.DataFrame:
    """N random plan changes over the sample catalog (mostly valid, a few invalid)."""
    rng = np.random.default_rng(seed)
    plans = load_plans()
    ids = np.array(list(plans))
    months = np.array([1 if p.billing_interval == "month" else 12 for p in plans.values()])
    fi = rng.integers(0, len(ids), n)
    # The to plan: a random plan in the from plan's currency (about 1% of any currency).
    by_currency = {}
    for i, p in enumerate(plans.values()):
        by_currency.setdefault(p.currency, []).append(i)
    ti = rng.integers(0, len(ids), n)
    currency = np.array([p.currency for p in plans.values()])
    for cur, members in by_currency.items():
        rows = np.flatnonzero((currency[fi] == cur) & (rng.random(n) < 0.99))
        ti[rows] = np.array(members)[rng.integers(0, len(members), len(rows))]
    start = np.datetime64("2024-01-01T00:00:00", "s") + rng.integers(0, 3 * 365 * 86400, n)
    start_m = start.astype("datetime64[M]")
    end = (start_m + months[fi]).astype("datetime64[s]") + (start - start_m.astype("datetime64[s]"))
    length = (end - start).astype(np.int64)
    at = start + (rng.random(n) * length).astype(np.int64)
    lo = np.array([p.min_seats or 1 for p in plans.values()])
    hi = np.array([p.max_seats or 500 for p in plans.values()])
    qf = rng.integers(lo[fi], hi[fi] + 1)
    qt = np.where(rng.random(n) < 0.5, qf, rng.integers(lo[ti], hi[ti] + 1))
    qt = np.where(rng.random(n) < 0.99, np.clip(qt, lo[ti], hi[ti]), qt)
    return pl.DataFrame(
        {
            "case_id": np.arange(n),
            "from_plan_id": ids[fi],
            "from_quantity": qf,
            "to_plan_id": ids[ti],
            "to_quantity": qt,
            "period_start": start.astype("datetime64[us]"),
            "period_end": end.astype("datetime64[us]"),
            "at": at.astype("datetime64[us]"),
            "proration_behavior": np.array(["create_prorations", "always_invoice", "none"])[
                rng.integers(0, 3, n)
            ],
            "granularity": np.array(["second", "day"])[rng.integers(0, 2, n)],
            "timing": np.array(["auto", "immediate", "period_end"])[rng.integers(0, 3, n)],
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cases = make_cases(args.n, args.seed)
    plans = plans_to_frame(load_plans())
    price_batch(cases.head(1000), plans)  # warm-up
    best = float("inf")
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        out = price_batch(cases, plans)
        best = min(best, time.perf_counter() - t0)
    errors = out.get_column("error").is_not_null().sum()
    print(f"cases: {args.n:,} (invalid: {errors:,})")
    print(f"best of {args.repeat}: {best:.3f} s")
    print(f"quotes/s: {args.n / best:,.0f}")


if __name__ == "__main__":
    main()
