"""ISO 4217 minor-unit exponents: the one list is the currency seed
(``seeds/currencies.csv``, in the warehouse as ``reference.currencies``).

Read once per process with the csv module (no polars or duckdb import), so that the CLI
and the dashboard format money without loading anything heavy.
"""

from __future__ import annotations

import csv
from functools import lru_cache

from .paths import project_dir

DEFAULT_EXPONENT = 2


@lru_cache(maxsize=1)
def exponents() -> dict[str, int]:
    """currency -> minor-unit exponent, from the seed."""
    path = project_dir() / "seeds" / "currencies.csv"
    with path.open(newline="") as handle:
        return {row["currency"]: int(row["minor_unit_exponent"]) for row in csv.DictReader(handle)}


def currency_exponent(currency: str | None) -> int:
    """The exponent of ``currency`` (2 for a code the seed does not know)."""
    return exponents().get(currency or "", DEFAULT_EXPONENT)
