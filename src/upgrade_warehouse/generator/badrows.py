"""Bad-row injection (``--bad-row-rate``).

Bad rows are EXTRA rows appended after the valid rows of a table (or of a chunk of
product events): mutated copies of valid rows with a fresh id, or exact copies for
``duplicate_id``. No valid row is ever touched, so nothing that references a valid row
is affected, and each injected row fails exactly one of the loader's checks - the
manifest's counts are exactly what the loader must quarantine.

Per table, ``max(#reasons, round(rate * valid rows))`` rows are injected, split evenly
over the reason codes that make sense for the table (for product_events the count is
computed per chunk, with at least one per reason overall).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl
import pyarrow as pa

from ..contract import REASON_CODES, Table
from .fastfmt import numeric_array
from .writer import to_text

Mut = Callable[[pl.DataFrame, pl.Series], pl.DataFrame]


def _set(col: str, value: str | None) -> Mut:
    return lambda df, u: df.with_columns(pl.lit(value, dtype=pl.String).alias(col))


def _unknown(col: str, prefix: str) -> Mut:
    return lambda df, u: df.with_columns((pl.lit(prefix) + u).alias(col))


def _swap(a: str, b: str) -> Mut:
    return lambda df, u: df.with_columns(pl.col(a).alias(b), pl.col(b).alias(a))


def _other_currency(df: pl.DataFrame, u: pl.Series) -> pl.DataFrame:
    to = pl.col("to_plan_id")
    return df.with_columns(
        pl.when(to.str.ends_with("_usd"))
        .then(to.str.replace(r"_usd$", "_eur"))
        .otherwise(to.str.replace(r"_[a-z]{3}$", "_usd"))
        .alias("to_plan_id")
    )


# table -> reason -> variants (columns that must be set in the source row, mutation)
MUTATIONS: dict[str, dict[str, list[tuple[tuple[str, ...], Mut]]]] = {
    "accounts": {
        "missing_required": [((), _set("created_at", None))],
        "bad_type": [((), _set("created_at", "not-a-timestamp"))],
        "bad_value": [((), _set("country", "USA"))],
    },
    "plans": {
        "missing_required": [((), _set("plan_name", None))],
        "bad_type": [((), _set("tier_rank", "two")), ((), _set("self_serve", "maybe"))],
        "bad_value": [((), _set("billing_interval", "week")), ((), _set("currency", "ZZZ"))],
    },
    "subscription_changes": {
        "missing_required": [
            ((), _set("changed_at", None)),
            (("from_plan_id",), _set("from_quantity", None)),
        ],
        "bad_type": [
            ((), _set("changed_at", "not-a-timestamp")),
            (("to_quantity",), _set("to_quantity", "three")),
        ],
        "bad_value": [
            ((), _set("initiated_by", "robot")),
            ((), _set("proration_behavior", "sometimes")),
            (("period_start", "period_end"), _swap("period_start", "period_end")),
        ],
        "currency_mismatch": [(("from_plan_id", "to_plan_id"), _other_currency)],
        "unknown_reference": [((), _unknown("account_id", "acc_unknown_"))],
    },
    "product_events": {
        "missing_required": [((), _set("event_name", None)), ((), _set("account_id", None))],
        "bad_type": [
            ((), _set("properties", '{"entry_point": "pricing_page"')),
            ((), _set("properties", "not json")),
        ],
        "unknown_reference": [((), _unknown("account_id", "acc_unknown_"))],
    },
    "invoice_lines": {
        "missing_required": [((), _set("amount_minor", None))],
        "bad_type": [((), _set("amount_minor", "12,50"))],
        "bad_value": [((), _set("line_type", "refund")), ((), _set("currency", "ZZZ"))],
        "unknown_reference": [
            ((), _unknown("change_id", "chg_unknown_")),
            ((), _unknown("account_id", "acc_unknown_")),
        ],
    },
    "payment_attempts": {
        "missing_required": [((), _set("status", None))],
        "bad_type": [
            ((), _set("attempted_at", "yesterday")),
            (("amount_minor",), _set("amount_minor", "ten")),
        ],
        "bad_value": [((), _set("payment_method", "crypto")), ((), _set("status", "pending"))],
        "unknown_reference": [((), _unknown("account_id", "acc_unknown_"))],
    },
    "crm_opportunities": {
        "missing_required": [((), _set("stage", None))],
        "bad_type": [((), _set("created_at", "soon"))],
        "bad_value": [((), _set("stage", "won")), ((), _set("origin", "partner"))],
        "unknown_reference": [((), _unknown("change_id", "chg_unknown_"))],
    },
    "sync_events": {
        "missing_required": [((), _set("target_system", None))],
        "bad_type": [((), _set("attempt_number", "first"))],
        "bad_value": [((), _set("status", "retrying")), ((), _set("attempt_number", "0"))],
        "unknown_reference": [((), _unknown("change_id", "chg_unknown_"))],
    },
    "eligibility_checks": {
        "missing_required": [((), _set("result", None))],
        "bad_type": [((), _set("checked_at", "n/a"))],
        "bad_value": [((), _set("result", "maybe"))],
        "unknown_reference": [((), _unknown("target_plan_id", "plan_unknown_"))],
    },
    "upsell_offers": {
        "missing_required": [((), _set("trigger", None))],
        "bad_type": [((), _set("offered_at", "n/a"))],
        "bad_value": [((), _set("owner", "partner"))],
        "unknown_reference": [((), _unknown("offered_plan_id", "plan_unknown_"))],
    },
    "order_status_events": {
        "missing_required": [((), _set("status", None))],
        "bad_type": [((), _set("occurred_at", "n/a"))],
        "bad_value": [((), _set("status", "lost"))],
        "unknown_reference": [((), _unknown("account_id", "acc_unknown_"))],
    },
    "fx_rates": {
        "missing_required": [((), _set("currency", None))],
        "bad_type": [((), _set("rate_to_reporting", "n/a"))],
        "bad_value": [((), _set("rate_to_reporting", "0")), ((), _set("currency", "ZZZ"))],
    },
}


def reasons_for(table: Table) -> list[str]:
    spec = MUTATIONS[table.name]
    return [r for r in REASON_CODES if r in spec or r == "duplicate_id"]


# Tables whose bad_type rows are in a text column (invalid JSON): their Parquet file
# can stay typed. Every other table's bad_type rows are in a typed column.
TEXT_BAD_TYPE = frozenset({"product_events"})


def has_bad_type(table: Table, rate: float) -> bool:
    """Whether the table gets bad_type rows in a typed (non-string) column."""
    return rate > 0 and "bad_type" in MUTATIONS[table.name] and table.name not in TEXT_BAD_TYPE


def split(n: int, reasons: list[str], at_least_one: bool) -> dict[str, int]:
    k = len(reasons)
    if at_least_one:
        n = max(n, k)
    base, extra = divmod(n, k)
    return {r: base + (1 if i < extra else 0) for i, r in enumerate(reasons)}


def _fresh_key(table: Table, df: pl.DataFrame, uniq: pl.Series, counter: list[int]) -> pl.DataFrame:
    if table.name == "fx_rates":  # dates long before any real rate
        start = counter[0]
        counter[0] += df.height
        days = np.datetime64("1990-01-01") - np.arange(start + 1, start + 1 + df.height)
        fresh = pl.Series(days.astype("datetime64[D]")).dt.strftime("%Y-%m-%d")
        return df.with_columns(fresh.alias("rate_date"))
    col = "order_id" if table.name == "order_status_events" else table.key[0]
    return df.with_columns((pl.col(col) + pl.lit("_x") + uniq).alias(col))


class RowSource:
    """The valid rows bad rows are derived from: a typed polars frame or an Arrow table."""

    def __init__(self, table: Table, data: pl.DataFrame | pa.Table):
        self.table = table
        self.data = data
        self.height = data.height if isinstance(data, pl.DataFrame) else data.num_rows

    def is_set(self, col: str) -> np.ndarray:
        c = (
            self.data.get_column(col)
            if isinstance(self.data, pl.DataFrame)
            else pl.from_arrow(self.data.column(col))
        )
        return c.is_not_null().to_numpy()

    def text_rows(self, rows: np.ndarray) -> pl.DataFrame:
        if isinstance(self.data, pl.DataFrame):
            df = self.data[rows]
        else:
            df = pl.from_arrow(self.data.take(numeric_array(rows, pa.int64())))
        return to_text(df, self.table)


def make_bad_rows(
    table: Table,
    source: RowSource,
    counts: dict[str, int],
    rng: np.random.Generator,
    tag: str,
    counter: list[int] | None = None,
) -> tuple[pl.DataFrame | None, dict[str, int]]:
    """Bad rows (as CSV text) derived from the valid rows of ``source``, and the number
    actually injected per reason."""
    counter = counter if counter is not None else [0]
    spec = MUTATIONS[table.name]
    parts: list[pl.DataFrame] = []
    done: dict[str, int] = {}
    seq = 0
    if source.height == 0:
        return None, done
    for reason in REASON_CODES:
        n = counts.get(reason, 0)
        if n <= 0:
            continue
        if reason == "duplicate_id":
            rows = np.sort(rng.integers(0, source.height, n))
            parts.append(source.text_rows(rows))
            done[reason] = n
            continue
        usable = []
        for need, mut in spec[reason]:
            mask = np.ones(source.height, dtype=bool)
            for c in need:
                mask &= source.is_set(c)
            elig = np.flatnonzero(mask)
            if elig.size:
                usable.append((elig, mut))
        if not usable:
            continue
        which = np.arange(n) % len(usable)
        for v, (elig, mut) in enumerate(usable):
            cnt = int((which == v).sum())
            if not cnt:
                continue
            rows = np.sort(elig[rng.integers(0, elig.size, cnt)])
            df = source.text_rows(rows)
            uniq = pl.Series([f"{tag}{seq + i}" for i in range(cnt)], dtype=pl.String)
            seq += cnt
            df = _fresh_key(table, df, uniq, counter)
            df = mut(df, uniq)
            parts.append(df.select(table.column_names))
        done[reason] = n
    if not parts:
        return None, done
    bad = pl.concat(parts)
    bad = bad[rng.permutation(bad.height)]
    return bad, done
