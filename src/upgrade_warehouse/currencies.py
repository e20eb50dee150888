"""ISO 4217 minor-unit exponents: one list, ``seeds/currencies.csv`` (the dbt seed the
models join to). The simulator and the dashboard format amounts with it."""

from __future__ import annotations

import csv
import functools

from .paths import project_dir


@functools.cache
def exponents() -> dict[str, int]:
    """Currency code -> number of minor-unit digits, from the seed."""
    with (project_dir() / "seeds" / "currencies.csv").open(newline="") as f:
        return {row["currency"]: int(row["minor_unit_exponent"]) for row in csv.DictReader(f)}


def minor_unit_exponent(currency: str) -> int:
    """The currency's exponent; 2 for a code the seed does not list (the loader
    quarantines unknown currencies, so only hand-made plan files can reach this)."""
    return exponents().get(currency, 2)
