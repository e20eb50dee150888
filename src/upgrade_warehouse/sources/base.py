"""What a source shape's mapping returns (spec: docs/sources.md; sources.md of the spec).

Every shape module (``stripe.py``, ``segment.py``, ``crm.py``) is a set of pure functions
from the landed tables of one source (a folder: ``<table>.csv`` or ``.parquet``, the
source's own table names) and the ``options`` of sources.yml to a :class:`ShapeOutput`:
contract-shaped rows per contract table, the rows it could not map (quarantined with a
reason, the row as it came) and the counts per source table. The map phase
(``sources/__init__.py``) hands the contract-shaped rows to the loader, which checks them
like a contract file; nothing here writes to a warehouse.

Invariant per source table: ``read = mapped + sum(skipped) + quarantined``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

# raw.quarantine's columns (loader.py), in order
QUARANTINE_COLUMNS = (
    "table_name",  # the source table's name (e.g. "subscription_item")
    "source_file",  # the file it came from (e.g. "subscription_item.csv")
    "row_number",  # 1-based row of that file
    "reason_code",  # missing_required, bad_type, bad_value, unknown_reference, unmappable, ...
    "reason_column",  # the column (or what) at fault
    "raw_row",  # the row as it came: a JSON object of the file's columns (values as text)
)


@dataclass
class SourceCounts:
    """One source table's fate: every row read is mapped, skipped by a named rule
    (``livemode``, ``is_deleted``, ``one_time_price``, ``draft_or_void_invoice``,
    ``pending_charge``, ``fivetran_inactive``, ``merged_customer``, ``never_started``, ...)
    or quarantined by the mapping with a reason."""

    read: int = 0
    mapped: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def quarantined(self) -> int:
        return sum(self.quarantined_by_reason.values())

    def skip(self, rule: str, n: int = 1) -> None:
        if n:
            self.skipped[rule] = self.skipped.get(rule, 0) + n

    def balanced(self) -> bool:
        return self.read == self.mapped + sum(self.skipped.values()) + self.quarantined


@dataclass
class ShapeOutput:
    """One source's mapping.

    - ``tables``: contract table name -> rows with the contract's column names (values
      may be text: the loader parses and checks them); extra columns are ignored by the
      loader, except ``_source_table`` which names the source table a row came from
      (for the per-source report when the loader quarantines a mapped row).
    - ``quarantine``: rows with :data:`QUARANTINE_COLUMNS`.
    - ``sources``: contract table -> source table -> counts (a source table that feeds
      several contract tables is counted under the one it maps to first).
    - ``group_traits``: events shapes only: account_id -> persona, acquisition_source,
      segment from the latest ``groups`` row (used by the billing shape's accounts).
    """

    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    quarantine: pl.DataFrame | None = None
    sources: dict[str, dict[str, SourceCounts]] = field(default_factory=dict)
    group_traits: pl.DataFrame | None = None


def contract_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as contract text (timestamps ISO 8601 with Z): what the exports of
    ``generate --shape`` write from a contract-shaped frame."""
    exprs = []
    for col, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime):
            c = pl.col(col).dt.convert_time_zone("UTC") if dtype.time_zone else pl.col(col)
            exprs.append(c.dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias(col))
        elif dtype != pl.String:
            exprs.append(pl.col(col).cast(pl.String))
    return frame.with_columns(exprs) if exprs else frame
