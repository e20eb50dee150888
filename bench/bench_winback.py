"""Win-back model quality on a generated data set, checked against what really happened.

Generates ``--accounts`` accounts (default 20,000), builds the warehouse with as_of set
``--days-before-end`` days (default 90) before the end of the data, so that the model
is trained only on what happened before as_of, then compares the scored list with the
self-serve upgrades that really happened in (as_of, as_of + horizon_days], read from
the raw tables of the same warehouse (the raw layer keeps every loaded row; the marts
and the model never see rows after as_of). Prints:

- the model's own validation figures (stored in ``marts.winback_model`` by the build);
- on the holdout: AUC, top-decile lift, mean predicted probability vs the observed
  rate, calibration by decile;
- the same holdout for a gradient-boosting model trained on the same snapshots (the
  alternative docs/winback.md compares);
- the time of the training step next to the whole build (same run).

    .venv/bin/python bench/bench_winback.py [--accounts 20000] [--seed 11]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
from _measure import cli_args

# What really happened: self-serve upgrades (metrics.md channel rules, with every CRM
# record of the data set) of the listed accounts in (as_of, as_of + horizon].
OUTCOMES_SQL = """
with plans as (
    select plan_id,
           case when billing_interval = 'year' then unit_amount_minor / 12.0
                else unit_amount_minor * 1.0 end as unit_mrr
    from raw.plans
),
sales as (
    select distinct change_id from raw.crm_opportunities
    where origin = 'sales' and change_id is not null
),
upgrades as (
    select c.account_id, c.changed_at
    from raw.subscription_changes as c
    left join plans as f on f.plan_id = c.from_plan_id
    left join plans as t on t.plan_id = c.to_plan_id
    left join sales as s on s.change_id = c.change_id
    where coalesce(t.unit_mrr * c.to_quantity, 0) - coalesce(f.unit_mrr * c.from_quantity, 0) > 0
      and c.initiated_by = 'customer' and s.change_id is null
)
select s.account_id, s.probability,
       exists (select 1 from upgrades as u
               where u.account_id = s.account_id
                 and u.changed_at > m.as_of
                 and u.changed_at <= m.as_of + to_days(m.horizon_days)) as upgraded
from marts.winback_account_scores as s
cross join marts.winback_model as m
"""


def auc(p: np.ndarray, y: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p))


def lift(p: np.ndarray, y: np.ndarray) -> float:
    k = max(1, math.ceil(p.size / 10))
    top = np.argsort(-p, kind="stable")[:k]
    return float(y[top].mean() / y.mean())


def run(cmd: list[str]) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return time.perf_counter() - t


def time_training_step(warehouse: Path, copy: Path, horizon: int) -> float:
    """Wall time of ``build``'s training step, run again on a copy of the warehouse."""
    import shutil

    from upgrade_warehouse.params import Parameters
    from upgrade_warehouse.winback import train_and_score

    shutil.copy(warehouse, copy)
    t = time.perf_counter()
    train_and_score(copy, Parameters(horizon_days=horizon), lambda _msg: None)
    seconds = time.perf_counter() - t
    copy.unlink()
    return seconds


def gradient_boosting(warehouse: Path, horizon: int, holdout: pl.DataFrame) -> dict:
    """Validation and holdout AUC of HistGradientBoosting on the build's snapshots."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    from upgrade_warehouse.winback import features as ft

    with duckdb.connect(str(warehouse), read_only=True) as con:
        wide, signals = ft.load(con)
    labelled = wide.filter(~pl.col("is_scoring"))
    scoring = wide.filter(pl.col("is_scoring"))
    offsets = labelled.get_column("cutoff_offset_days")
    val = labelled.filter(offsets < 2 * horizon)
    first = val.get_column("cutoff_offset_days").max()
    out = {}
    for name, train, test in (
        ("validation", labelled.filter(offsets >= first + horizon), val),
        ("holdout", labelled, scoring),
    ):
        vocab = ft.Vocabulary.fit(train, signals)
        m_train, m_test = ft.matrix(train, signals, vocab), ft.matrix(test, signals, vocab)
        y = train.get_column("upgraded_within_horizon").cast(pl.Int8).to_numpy()
        t = time.perf_counter()
        with threadpool_limits(limits=1):  # as the build's training step
            model = HistGradientBoostingClassifier(
                learning_rate=0.05,
                max_iter=200,
                max_leaf_nodes=15,
                l2_regularization=1.0,
                early_stopping=True,
                random_state=0,
            ).fit(m_train.x, y)
        fit_s = time.perf_counter() - t
        p = model.predict_proba(m_test.x)[:, 1]
        if name == "validation":
            y_test = test.get_column("upgraded_within_horizon").cast(pl.Int8).to_numpy()
        else:
            truth = dict(zip(holdout["account_id"], holdout["upgraded"]))
            y_test = np.array([truth[a] for a in test["account_id"]], dtype=np.int8)
        out[name] = {
            "auc": auc(p, y_test),
            "lift": lift(p, y_test),
            "mean_p": float(p.mean()),
            "rate": float(y_test.mean()),
            "fit_s": fit_s,
        }
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--accounts", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--days-before-end", type=int, default=90)
    ap.add_argument("--workdir", type=Path, default=None, help="keep data and warehouse here")
    ap.add_argument(
        "--reuse", action="store_true", help="reuse the warehouse already in --workdir (no build)"
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="uw-bench-winback-") as tmp:
        work = args.workdir or Path(tmp)
        data, warehouse = work / "data", work / "winback.duckdb"
        if not (data / "manifest.json").exists():
            run(
                cli_args(
                    "generate",
                    out=data,
                    accounts=args.accounts,
                    seed=args.seed,
                    format="parquet",
                    quiet=True,
                )
            )
        with duckdb.connect() as con:
            end = con.execute(
                "select greatest((select max(occurred_at) from read_parquet(?)), "
                "(select max(changed_at) from read_parquet(?)))",
                [str(data / "product_events.parquet"), str(data / "subscription_changes.parquet")],
            ).fetchall()[0][0]
        as_of = (end - timedelta(days=args.days_before_end)).replace(tzinfo=None)
        as_of_text = as_of.strftime("%Y-%m-%dT%H:%M:%SZ")
        build_s = float("nan")
        if not (args.reuse and warehouse.exists()):
            build_s = run(
                cli_args(
                    "build",
                    data_dir=data,
                    warehouse=warehouse,
                    var=f"as_of={as_of_text}",
                    format="json",
                )
            )
        with duckdb.connect(str(warehouse), read_only=True) as con:
            model = con.sql("select * from marts.winback_model").pl().to_dicts()[0]
            holdout = con.sql(OUTCOMES_SQL).pl()
        p = holdout.get_column("probability").to_numpy()
        y = holdout.get_column("upgraded").cast(pl.Int8).to_numpy()
        print(
            f"data: {args.accounts:,} accounts (seed {args.seed}), end of data {end:%Y-%m-%d %H:%M}"
            f" UTC; as_of {as_of_text} ({args.days_before_end} days before the end)"
        )
        train_s = time_training_step(warehouse, work / "retrain.duckdb", model["horizon_days"])
        print(
            f"build: {build_s:.1f} s in total; the win-back training step (read the "
            f"features, validate, train, score, store) run again alone: {train_s:.1f} s "
            f"({train_s / build_s:.0%} of the build)"
        )
        print(
            f"model: {model['model_kind']}, C = {model['regularization_c']}, "
            f"{model['features']} inputs, trained on {model['training_rows']:,} "
            f"account-snapshots ({model['training_upgrades']:,} upgrades)"
        )
        print(
            f"validation (stored by the build): AUC {model['auc']:.3f}, top-decile lift "
            f"{model['top_decile_lift']:.2f}x, mean probability "
            f"{model['mean_probability']:.4f} vs observed {model['observed_rate']:.4f}; "
            f"{model['validated_on']}"
        )
        rate, mean_p = float(y.mean()), float(p.mean())
        print(
            f"holdout ({p.size:,} listed accounts, {int(y.sum())} self-serve upgrades in the "
            f"{model['horizon_days']} days after as_of):"
        )
        print(f"  AUC {auc(p, y):.3f} (must be >= 0.70)")
        print(f"  top-decile lift {lift(p, y):.2f}x (must be >= 2x)")
        print(
            f"  mean predicted probability {mean_p:.4f} vs observed rate {rate:.4f}: "
            f"{(mean_p - rate) / rate:+.1%} (must be within 30%)"
        )
        order = np.argsort(p, kind="stable")
        print("  calibration by decile of the probability (mean predicted / observed):")
        for b, idx in enumerate(np.array_split(order, 10), 1):
            print(f"    {b:2d}: {p[idx].mean():.4f} / {y[idx].mean():.4f}  ({idx.size} accounts)")
        gb = gradient_boosting(warehouse, model["horizon_days"], holdout)
        print("gradient boosting (HistGradientBoostingClassifier) on the same snapshots:")
        for name, r in gb.items():
            print(
                f"  {name}: AUC {r['auc']:.3f}, top-decile lift {r['lift']:.2f}x, mean "
                f"probability {r['mean_p']:.4f} vs observed {r['rate']:.4f}, fit {r['fit_s']:.1f} s"
            )
        print(
            json.dumps(
                {
                    "holdout_auc": auc(p, y),
                    "holdout_top_decile_lift": lift(p, y),
                    "holdout_mean_probability": mean_p,
                    "holdout_observed_rate": rate,
                    "validation_auc": model["auc"],
                }
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
