"""Train, validate and score the win-back propensity model inside ``build``.

Called after dbt (the snapshot marts exist) and before the quality gate, on the new
warehouse file. Everything stays on this machine: the data is read from and the results
written to the warehouse being built (``marts.winback_*``).

Time split (docs/winback.md "Training and validation"), with h = horizon_days:
- labelled snapshots have cutoffs c with c + h <= as_of (dbt made them so);
- validation = the latest of them, cutoffs in (as_of - 2h, as_of - h];
- the validation model is trained on the snapshots whose outcome window ends at or
  before the earliest validation cutoff (c + h <= that cutoff), so it knows nothing
  of the validation period; it picks the regularisation and gives the AUC, log loss,
  Brier score, top-decile lift and calibration that are stored;
- the model that scores the list is then refitted on every labelled snapshot.

Model: L2-regularised logistic regression on standardized inputs (scikit-learn), the
regularisation strength picked from ``C_GRID`` by validation log loss. Why not
gradient boosting: see docs/winback.md "Decisions" (`bench/bench_winback.py` prints
both).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from . import features as ft
from .plays import ROW_COLUMNS, suggest
from .reasons import paused_gc, top_reasons

C_GRID = (0.02, 0.1, 0.5)
DEFAULT_C = 0.1
MIN_UPGRADES = 10  # labelled upgrades (and non-upgrades) needed to fit a model
SCORING_CHUNK_ROWS = 50_000  # accounts scored and explained at a time
SCHEMA = "marts"  # tables winback_<name>, beside the dbt marts
MAX_FIT_WORKERS = 4  # the final model's fit and the C_GRID validation fits at once


def fit_workers() -> int:
    """Threads for the model fits: one per core, at most MAX_FIT_WORKERS."""
    return max(1, min(MAX_FIT_WORKERS, os.cpu_count() or 1))


@dataclass
class Validation:
    snapshots: int
    first_cutoff: object
    last_cutoff: object
    rows: int
    upgrades: int
    training_rows: int
    auc: float | None
    log_loss: float
    brier: float
    base_rate: float
    mean_probability: float
    top_decile_lift: float | None
    c: float
    c_scores: dict[float, float]
    calibration: list[dict]

    def describe(self) -> str:
        return (
            f"{self.snapshots} snapshot{'s' if self.snapshots != 1 else ''} "
            f"{_day(self.first_cutoff)} to {_day(self.last_cutoff)} "
            f"({self.rows:,} account-snapshots, {self.upgrades:,} self-serve upgrades), "
            f"model trained on the {self.training_rows:,} account-snapshots whose outcome "
            "was known before the first of them"
        )


@dataclass
class Result:
    model_kind: str  # logistic_regression | base_rate | none
    validation: Validation | None
    scores: pl.DataFrame
    coefficients: pl.DataFrame
    training_rows: int = 0
    training_upgrades: int = 0
    training_snapshots: int = 0
    features: int = 0
    note: str = ""
    timings: dict = field(default_factory=dict)

    @property
    def validated_on(self) -> str:
        if self.validation is not None:
            return self.validation.describe()
        return self.note


def import_sklearn() -> None:
    """Import the parts of scikit-learn used below (2 s of CPU the first time; the
    functions import them again from the module cache)."""
    import sklearn.linear_model
    import sklearn.metrics
    import sklearn.preprocessing  # noqa: F401


def _day(ts) -> str:
    return ts.strftime("%Y-%m-%d") if ts is not None else "?"


def _fit(x: np.ndarray, y: np.ndarray, c: float):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=c, l1_ratio=0.0, max_iter=2000, solver="lbfgs")
    model.fit(scaler.transform(x), y)
    return scaler, model


def _predict(scaler, model, x: np.ndarray) -> np.ndarray:
    return model.predict_proba(scaler.transform(x))[:, 1]


def calibration_bins(p: np.ndarray, y: np.ndarray) -> list[dict]:
    """Equal-count bins of the predicted probability (10, or 5 below 200 rows)."""
    n_bins = 10 if p.size >= 200 else 5
    order = np.argsort(p, kind="stable")
    out = []
    for b, idx in enumerate(np.array_split(order, n_bins)):
        if idx.size == 0:
            continue
        out.append(
            {
                "bin": b + 1,
                "accounts": int(idx.size),
                "mean_probability": float(p[idx].mean()),
                "observed_rate": float(y[idx].mean()),
                "min_probability": float(p[idx].min()),
                "max_probability": float(p[idx].max()),
            }
        )
    return out


def top_decile_lift(p: np.ndarray, y: np.ndarray) -> float | None:
    base = y.mean()
    if base == 0:
        return None
    k = max(1, math.ceil(p.size / 10))
    top = np.argsort(-p, kind="stable")[:k]
    return float(y[top].mean() / base)


def _validate(
    wide: pl.DataFrame, signals: ft.Signals, horizon: int, pool: Executor
) -> Validation | None:
    """The validation model's fits (one per value of ``C_GRID``) run in ``pool``."""
    offsets = wide.get_column("cutoff_offset_days")
    latest = wide.filter(offsets < 2 * horizon)
    if latest.height == 0:
        return None
    first_val_offset = latest.get_column("cutoff_offset_days").max()
    train = wide.filter(offsets >= first_val_offset + horizon)
    y_train = train.get_column("upgraded_within_horizon").cast(pl.Int8).to_numpy()
    y_val = latest.get_column("upgraded_within_horizon").cast(pl.Int8).to_numpy()
    if min(y_train.sum(), (1 - y_train).sum()) < MIN_UPGRADES or y_val.sum() == 0:
        return None
    vocab = ft.Vocabulary.fit(train, signals)
    m_train = ft.matrix(train, signals, vocab)
    m_val = ft.matrix(latest, signals, vocab)
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

    fits = {c: pool.submit(_fit, m_train.x, y_train, c) for c in C_GRID}
    scores: dict[float, float] = {}
    preds: dict[float, np.ndarray] = {}
    for c in C_GRID:
        scaler, model = fits[c].result()
        preds[c] = _predict(scaler, model, m_val.x)
        scores[c] = float(log_loss(y_val, preds[c], labels=[0, 1]))
    best = min(C_GRID, key=lambda c: (scores[c], c))
    p = preds[best]
    auc = float(roc_auc_score(y_val, p)) if 0 < y_val.sum() < y_val.size else None
    cutoffs = latest.get_column("cutoff_at")
    return Validation(
        snapshots=cutoffs.n_unique(),
        first_cutoff=cutoffs.min(),
        last_cutoff=cutoffs.max(),
        rows=latest.height,
        upgrades=int(y_val.sum()),
        training_rows=train.height,
        auc=auc,
        log_loss=scores[best],
        brier=float(brier_score_loss(y_val, p)),
        base_rate=float(y_val.mean()),
        mean_probability=float(p.mean()),
        top_decile_lift=top_decile_lift(p, y_val),
        c=best,
        c_scores=scores,
        calibration=calibration_bins(p, y_val),
    )


def fit_and_score(
    wide: pl.DataFrame,
    signals: ft.Signals,
    horizon: int,
    steps: list[str],
    progress: Callable[[str], None] = lambda step: None,
) -> Result:
    """Validate, refit on every labelled snapshot and score the scoring snapshot;
    ``progress`` is told each step."""
    timings = {}
    t = time.perf_counter()
    scoring = wide.filter(pl.col("is_scoring"))
    labelled = wide.filter(~pl.col("is_scoring"))
    train = labelled  # bounded in dbt (int_winback__snapshots)
    y = train.get_column("upgraded_within_horizon").cast(pl.Int8).to_numpy()
    upgrades = int(y.sum())
    result_base = {
        "training_rows": train.height,
        "training_upgrades": upgrades,
        "training_snapshots": train.get_column("cutoff_at").n_unique(),
    }
    empty_coefficients = pl.DataFrame(
        schema={
            "feature": pl.String,
            "feature_group": pl.String,
            "coefficient": pl.Float64,
            "mean": pl.Float64,
            "scale": pl.Float64,
        }
    )
    if min(upgrades, train.height - upgrades) < MIN_UPGRADES:
        # No model, so nothing to validate.
        if train.height:
            rate = (upgrades + 0.5) / (train.height + 1)
            kind, note = (
                "base_rate",
                (
                    f"not validated: {upgrades} self-serve upgrades in {train.height:,} labelled "
                    f"account-snapshots are too few for a model (at least {MIN_UPGRADES} of each "
                    "outcome are needed); every account gets the historical rate"
                ),
            )
        else:
            rate, kind, note = (
                None,
                "none",
                (
                    "not validated: no labelled history (the data must span more than "
                    f"horizon_days = {horizon} days of activated accounts)"
                ),
            )
        scores = _scores(
            scoring,
            np.full(scoring.height, rate, dtype=object),
            [[] for _ in range(scoring.height)],
            [None] * scoring.height,
        )
        return Result(
            kind, None, scores, empty_coefficients, note=note, timings=timings, **result_base
        )

    # The fits are independent (each on one BLAS thread): the final model's fit with
    # DEFAULT_C (the value validation picks most often) starts first, beside the
    # validation fits, and is refitted only when validation picks another C. Each fit
    # gives the same coefficients in whichever thread it runs.
    progress(f"validating on {labelled.height:,} labelled snapshots")
    with ThreadPoolExecutor(max_workers=fit_workers()) as pool:
        vocab = ft.Vocabulary.fit(train, signals)
        m_train = ft.matrix(train, signals, vocab)
        default_fit = pool.submit(_fit, m_train.x, y, DEFAULT_C)
        validation = _validate(labelled, signals, horizon, pool)
        timings["validation_seconds"] = time.perf_counter() - t
        t = time.perf_counter()
        c = validation.c if validation is not None else DEFAULT_C
        progress(f"training on {train.height:,} snapshots")
        scaler, model = default_fit.result() if c == DEFAULT_C else _fit(m_train.x, y, c)
    timings["training_seconds"] = time.perf_counter() - t

    t = time.perf_counter()
    progress(f"scoring {scoring.height:,} accounts")
    m_score = ft.matrix(scoring, signals, vocab)
    coef = model.coef_[0]
    probabilities: list[np.ndarray] = []
    reasons: list[list[str]] = []
    first_groups: list[str | None] = []
    # In chunks of rows: the same results, and the arrays of one chunk (standardized
    # inputs, contributions) are a few tens of MB, reused from chunk to chunk, not a
    # few GB touched once (at 440,000 accounts the reasons took 4 s instead of 10 s).
    for start in range(0, scoring.height, SCORING_CHUNK_ROWS):
        part = m_score.rows(start, start + SCORING_CHUNK_ROWS)
        z = scaler.transform(part.x)
        probabilities.append(model.predict_proba(z)[:, 1])
        part_reasons, part_groups = top_reasons(part, z * coef, steps, above_mean=z > 0)
        reasons += part_reasons
        first_groups += part_groups
    p = np.concatenate(probabilities) if probabilities else np.empty(0)
    scores = _scores(scoring, p, reasons, first_groups)
    timings["scoring_seconds"] = time.perf_counter() - t
    coefficients = pl.DataFrame(
        {
            "feature": ["(intercept)", *m_train.names],
            "feature_group": [None, *m_train.groups],
            "coefficient": [float(model.intercept_[0]), *map(float, coef)],
            "mean": [None, *map(float, scaler.mean_)],
            "scale": [None, *map(float, scaler.scale_)],
        },
        schema=empty_coefficients.schema,
    )
    note = (
        ""
        if validation is not None
        else (
            "not validated: the labelled history is shorter than 2 x horizon_days, or its "
            "latest snapshots have no self-serve upgrade"
        )
    )
    return Result(
        "logistic_regression",
        validation,
        scores,
        coefficients,
        note=note,
        features=len(m_train.names),
        timings=timings,
        **result_base,
    )


def _scores(scoring: pl.DataFrame, p, reasons: list[list[str]], first_groups) -> pl.DataFrame:
    # Only the columns a play reads: the whole snapshot row as dicts costs seconds
    # at hundreds of thousands of accounts.
    with paused_gc():
        rows = scoring.select(ROW_COLUMNS).to_dicts()
        plays = [suggest(row, g) for row, g in zip(rows, first_groups)]
        reasons_json = [json.dumps(r) for r in reasons]
    frame = pl.DataFrame(
        {
            "account_id": scoring.get_column("account_id"),
            "activated_at": scoring.get_column("activated_at"),
            "probability": pl.Series(
                [None if v is None else float(v) for v in p], dtype=pl.Float64
            ),
            "reasons": reasons_json,
            "play_trigger": [pl_.trigger for pl_ in plays],
            "play_owner": [pl_.owner for pl_ in plays],
            "play_channel": [pl_.channel for pl_ in plays],
            "persona": scoring.get_column("persona"),
            "acquisition_source": scoring.get_column("acquisition_source"),
            "segment": scoring.get_column("segment"),
            "country": scoring.get_column("country"),
            "plan_id": scoring.get_column("plan_id"),
            "account_manager_id": scoring.get_column("account_manager_id"),
            "days_since_activation": scoring.get_column("days_since_activation").cast(pl.Float64),
        },
        schema_overrides={"reasons": pl.String},
    )
    frame = frame.sort(["probability", "account_id"], descending=[True, False], nulls_last=True)
    return frame.with_columns(pl.int_range(1, frame.height + 1).alias("rank"))


def store(con: duckdb.DuckDBPyConnection, result: Result, as_of, horizon: int) -> None:
    """``marts.winback_account_scores``, ``_model``, ``_calibration`` and
    ``_coefficients`` (replaced on every build)."""
    v = result.validation
    model = pl.DataFrame(
        [
            {
                "as_of": as_of,
                "horizon_days": horizon,
                "model_kind": result.model_kind,
                "auc": v.auc if v else None,
                "validated_on": result.validated_on,
                "validation_snapshots": v.snapshots if v else None,
                "validation_first_cutoff": v.first_cutoff if v else None,
                "validation_last_cutoff": v.last_cutoff if v else None,
                "validation_rows": v.rows if v else None,
                "validation_upgrades": v.upgrades if v else None,
                "validation_training_rows": v.training_rows if v else None,
                "log_loss": v.log_loss if v else None,
                "brier_score": v.brier if v else None,
                "observed_rate": v.base_rate if v else None,
                "mean_probability": v.mean_probability if v else None,
                "top_decile_lift": v.top_decile_lift if v else None,
                "regularization_c": v.c
                if v
                else (DEFAULT_C if result.model_kind == "logistic_regression" else None),
                "training_rows": result.training_rows,
                "training_upgrades": result.training_upgrades,
                "training_snapshots": result.training_snapshots,
                "features": result.features,
                "listed_accounts": result.scores.height,
            }
        ],
        schema_overrides={
            "auc": pl.Float64,
            "log_loss": pl.Float64,
            "brier_score": pl.Float64,
            "observed_rate": pl.Float64,
            "mean_probability": pl.Float64,
            "top_decile_lift": pl.Float64,
            "regularization_c": pl.Float64,
            "validation_snapshots": pl.Int64,
            "validation_rows": pl.Int64,
            "validation_upgrades": pl.Int64,
            "validation_training_rows": pl.Int64,
            "validation_first_cutoff": pl.Datetime("us"),
            "validation_last_cutoff": pl.Datetime("us"),
        },
    )
    calibration = pl.DataFrame(
        v.calibration if v else [],
        schema={
            "bin": pl.Int64,
            "accounts": pl.Int64,
            "mean_probability": pl.Float64,
            "observed_rate": pl.Float64,
            "min_probability": pl.Float64,
            "max_probability": pl.Float64,
        },
    )
    for name, frame in (
        (
            "account_scores",
            result.scores.select("rank", *[c for c in result.scores.columns if c != "rank"]),
        ),
        ("model", model),
        ("calibration", calibration),
        ("coefficients", result.coefficients),
    ):
        arrow = frame.to_arrow()  # noqa: F841 - read by DuckDB below
        con.execute(f"create or replace table {SCHEMA}.winback_{name} as select * from arrow")


def train_and_score(db_path: Path, params, progress: Callable[[str], None]) -> Result:
    """Train, validate and score on the warehouse at ``db_path`` and store the results."""
    progress("reading the snapshots")
    with duckdb.connect(str(db_path)) as con:
        as_of = con.execute("select as_of from intermediate.int_as_of").fetchall()[0][0]
        wide, signals = ft.load(con)
        # One BLAS/OpenMP thread: the matrices are small, and on a busy machine more
        # threads spin and wait (a 10x slowdown measured with two cores and load 8+).
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            result = fit_and_score(
                wide, signals, params.horizon_days, list(params.funnel_steps), progress
            )
        progress("storing the scores")
        store(con, result, as_of, params.horizon_days)
    return result
