"""The plan catalog: loading and validating a ``plans`` table (data contract format)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from ..currencies import currency_exponent  # noqa: F401 - the seed's exponents
from ..errors import UserError

SAMPLE_PLANS_PATH = Path(__file__).with_name("sample_plans.csv")

PLAN_COLUMNS = (
    "plan_id",
    "plan_name",
    "tier_rank",
    "billing_interval",
    "unit_amount_minor",
    "currency",
    "self_serve",
    "min_seats",
    "max_seats",
    "entitlements",
)
REQUIRED_PLAN_COLUMNS = PLAN_COLUMNS[:7]


@dataclass(frozen=True)
class Plan:
    plan_id: str
    plan_name: str
    tier_rank: int
    billing_interval: str  # "month" or "year"
    unit_amount_minor: int  # price of one seat for one interval
    currency: str
    self_serve: bool
    min_seats: int | None = None
    max_seats: int | None = None
    entitlements: tuple[str, ...] = ()

    @property
    def is_free(self) -> bool:
        return self.unit_amount_minor == 0


def load_plans(path: str | Path | None = None) -> dict[str, Plan]:
    """Load a plans table (CSV or Parquet, data contract format) keyed by plan_id.

    Without a path, the sample catalog shipped with the package. Any invalid row is a
    :class:`UserError` naming the file, the row and the column.
    """
    path = Path(path) if path is not None else SAMPLE_PLANS_PATH
    return plans_from_frame(read_table(path, "plans file"), source=str(path))


def load_warehouse_plans(warehouse: str | Path) -> dict[str, Plan]:
    """The plans a published warehouse was built with (its accepted ``raw.plans`` rows)."""
    from ..warehouse import connect

    columns = ", ".join(PLAN_COLUMNS)
    with connect(Path(warehouse)) as con:
        try:
            frame = pl.from_arrow(
                con.sql(f"select {columns} from raw.plans order by plan_id").to_arrow_table()
            )
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserError(f"{warehouse}: has no plans table (raw.plans): {first}") from None
    return plans_from_frame(frame, source=f"{warehouse} (raw.plans)")


def read_table(path: Path, what: str) -> pl.DataFrame:
    """Read a CSV (every column as text) or Parquet file."""
    if not path.exists():
        raise UserError(f"{what} {path} does not exist")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pl.read_csv(path, infer_schema=False)
        if suffix == ".parquet":
            return pl.read_parquet(path)
    except Exception as exc:
        raise UserError(f"{what} {path} cannot be read: {exc}") from None
    raise UserError(f"{what} {path} must be a .csv or .parquet file")


def plans_from_frame(frame: pl.DataFrame, source: str = "plans") -> dict[str, Plan]:
    """Validate a plans DataFrame and return the catalog keyed by plan_id."""
    missing = [c for c in REQUIRED_PLAN_COLUMNS if c not in frame.columns]
    if missing:
        raise UserError(f"{source}: missing required column {missing[0]!r}")
    plans: dict[str, Plan] = {}
    for i, row in enumerate(frame.iter_rows(named=True), start=1):
        where = f"{source}: row {i}"
        plan_id = _text(row["plan_id"], where, "plan_id", required=True)
        where = f"{source}: plan {plan_id!r}"
        if plan_id in plans:
            raise UserError(f"{where}: duplicate plan_id")
        interval = _text(row["billing_interval"], where, "billing_interval", required=True)
        if interval not in ("month", "year"):
            raise UserError(f"{where}: billing_interval must be month or year, not {interval!r}")
        currency = _text(row["currency"], where, "currency", required=True)
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise UserError(f"{where}: currency must be an ISO 4217 code, not {currency!r}")
        min_seats = _int(row.get("min_seats"), where, "min_seats", minimum=1)
        max_seats = _int(row.get("max_seats"), where, "max_seats", minimum=1)
        if min_seats is not None and max_seats is not None and min_seats > max_seats:
            raise UserError(f"{where}: min_seats {min_seats} is above max_seats {max_seats}")
        ents = row.get("entitlements")
        ent_keys = (
            tuple(sorted({e.strip() for e in str(ents).split(";") if e.strip()})) if ents else ()
        )
        plans[plan_id] = Plan(
            plan_id=plan_id,
            plan_name=_text(row["plan_name"], where, "plan_name", required=True),
            tier_rank=_int(row["tier_rank"], where, "tier_rank", minimum=0, required=True),
            billing_interval=interval,
            unit_amount_minor=_int(
                row["unit_amount_minor"], where, "unit_amount_minor", minimum=0, required=True
            ),
            currency=currency,
            self_serve=_bool(row["self_serve"], where, "self_serve"),
            min_seats=min_seats,
            max_seats=max_seats,
            entitlements=ent_keys,
        )
    return plans


def plans_to_frame(plans: dict[str, Plan]) -> pl.DataFrame:
    """The catalog as a typed plans DataFrame (the contract's columns)."""
    rows = list(plans.values())
    return pl.DataFrame(
        {
            "plan_id": [p.plan_id for p in rows],
            "plan_name": [p.plan_name for p in rows],
            "tier_rank": [p.tier_rank for p in rows],
            "billing_interval": [p.billing_interval for p in rows],
            "unit_amount_minor": [p.unit_amount_minor for p in rows],
            "currency": [p.currency for p in rows],
            "self_serve": [p.self_serve for p in rows],
            "min_seats": [p.min_seats for p in rows],
            "max_seats": [p.max_seats for p in rows],
            "entitlements": [";".join(p.entitlements) for p in rows],
        },
        schema={
            "plan_id": pl.Utf8,
            "plan_name": pl.Utf8,
            "tier_rank": pl.Int64,
            "billing_interval": pl.Utf8,
            "unit_amount_minor": pl.Int64,
            "currency": pl.Utf8,
            "self_serve": pl.Boolean,
            "min_seats": pl.Int64,
            "max_seats": pl.Int64,
            "entitlements": pl.Utf8,
        },
    )


def _text(value: Any, where: str, column: str, required: bool = False) -> str:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        if required:
            raise UserError(f"{where}: {column} is required")
        return ""
    return str(value).strip()


def _int(
    value: Any, where: str, column: str, minimum: int | None = None, required: bool = False
) -> Any:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        if required:
            raise UserError(f"{where}: {column} is required")
        return None
    if isinstance(value, bool):
        raise UserError(f"{where}: {column} must be an integer, not {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
        number = int(value.strip())
    else:
        raise UserError(f"{where}: {column} must be an integer, not {value!r}")
    if not -(2**63) <= number < 2**63:
        raise UserError(f"{where}: {column} does not fit a 64-bit integer: {number}")
    if minimum is not None and number < minimum:
        raise UserError(f"{where}: {column} must be >= {minimum}, not {number}")
    return number


def _bool(value: Any, where: str, column: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        v = value.strip().lower()
        if v in ("true", "1"):
            return True
        if v in ("false", "0"):
            return False
        if v == "":
            raise UserError(f"{where}: {column} is required")
    if value is None:
        raise UserError(f"{where}: {column} is required")
    raise UserError(f"{where}: {column} must be true/false or 1/0, not {value!r}")
