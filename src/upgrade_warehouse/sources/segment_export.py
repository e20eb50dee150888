"""A contract data set's product_events and accounts written as a Segment / RudderStack
warehouse layout (``generate --shape segment``, the tests' round trips).

- ``tracks``: one row per event (id, event, event_text, timestamp, received_at, user_id,
  the tool's bookkeeping columns), in the contract file's order.
- one table per event name (its slug), with the event's properties as columns (text in
  CSV; in Parquet a property whose values are all JSON numbers is a numeric column).
- ``groups``: each (user, account) pair's first event links the user to the account;
  every account also gets a row at its created_at carrying its traits (anonymous
  user ``anon_<account_id>``) (persona,
  acquisition_source, segment).

The account of each event is written the three ways sources.md reads it, in turn by the
event's position: an ``account_id`` column of the event table, ``context_group_id`` in
``tracks``, or only through ``groups`` (when the user's latest group at the event is its
account; else ``context_group_id``). Mapping the layout back gives the same rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from .base import contract_text
from .landed import read_landed
from .segment import SHAPES, slug

# the tool's own columns (values irrelevant to the mapping, written for realism)
_BOOKKEEPING = {
    "segment": ("uuid_ts", "loaded_at"),
    "rudderstack": ("uuid_ts",),
}


def _write(frame: pl.DataFrame, out_dir: Path, table: str, fmt: str) -> None:
    if fmt == "parquet":
        frame.write_parquet(out_dir / f"{table}.parquet")
    else:
        frame.write_csv(out_dir / f"{table}.csv")


def _contract(contract_dir: Path, table: str) -> tuple[pl.DataFrame, str]:
    frame = read_landed(contract_dir, table)
    if frame is None:
        raise FileNotFoundError(f"{contract_dir}: no {table} table")
    fmt = "parquet" if (Path(contract_dir) / f"{table}.parquet").exists() else "csv"
    return frame, fmt


def to_events_shape(contract_dir: Path, out_dir: Path, shape: str) -> None:
    """Write ``tracks``, one table per event and ``groups`` to ``out_dir``."""
    if shape not in SHAPES:
        raise ValueError(f"not an events shape: {shape}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    events, fmt = _contract(contract_dir, "product_events")
    accounts, _ = _contract(contract_dir, "accounts")
    events = contract_text(events).drop("_row_number")
    accounts = contract_text(accounts)

    names = events.get_column("event_name").drop_nulls().unique().to_list()
    slugs = {n: slug(n) for n in names}
    # which way each event names its account: 0 event table, 1 context_group_id, 2 groups
    events = events.with_columns(
        pl.col("event_name")
        .replace_strict(slugs, default=None, return_dtype=pl.String)
        .alias("slug"),
        (pl.int_range(pl.len()) % 3).alias("_way"),
        pl.col("occurred_at").str.to_datetime(time_zone="UTC", strict=False).alias("_ts"),
        pl.int_range(pl.len()).alias("_pos"),
    )
    # groups: a (user, account) pair is linked at its first event
    links = (
        events.filter(
            pl.col("user_id").is_not_null()
            & pl.col("account_id").is_not_null()
            & pl.col("_ts").is_not_null()
        )
        .group_by("user_id", "account_id")
        .agg(pl.col("_ts").min(), pl.col("occurred_at").sort_by("_ts").first().alias("timestamp"))
    )
    # an event may rely on groups alone when its user's latest link at or before it is its account
    joined = (
        events.filter(pl.col("_ts").is_not_null() & pl.col("user_id").is_not_null())
        .sort("_ts")
        .join_asof(
            links.rename({"account_id": "_linked"}).sort("_ts").select("user_id", "_ts", "_linked"),
            on="_ts",
            by="user_id",
            strategy="backward",
            check_sortedness=False,
        )
        .select("_pos", "_linked")
    )
    events = events.join(joined, on="_pos", how="left").sort("_pos")
    events = events.with_columns(
        pl.when((pl.col("_way") == 2) & (pl.col("_linked") != pl.col("account_id")).fill_null(True))
        .then(1)
        .otherwise(pl.col("_way"))
        .alias("_way")
    )

    tracks = events.select(
        *_event_columns(original_timestamp=True),
        pl.lit(None, dtype=pl.String).alias("anonymous_id"),
        pl.when(pl.col("_way") == 1).then(pl.col("account_id")).alias("context_group_id"),
        pl.lit("web").alias("context_library_name"),
        *[pl.col("received_at").alias(c) for c in _BOOKKEEPING[shape]],
    )
    _write(tracks, out_dir, "tracks", fmt)

    for (name,), part in events.filter(pl.col("slug").is_not_null()).group_by(
        "slug", maintain_order=True
    ):
        _write(_event_table(part, fmt), out_dir, name, fmt)

    traits = accounts.select(
        pl.col("account_id").alias("group_id"),
        pl.lit(None, dtype=pl.String).alias("user_id"),
        ("anon_" + pl.col("account_id")).alias("anonymous_id"),
        pl.col("created_at").alias("timestamp"),
        pl.col("persona"),
        pl.col("acquisition_source"),
        pl.col("segment"),
    )
    user_links = links.sort("_ts").select(
        pl.col("account_id").alias("group_id"),
        pl.col("user_id"),
        pl.lit(None, dtype=pl.String).alias("anonymous_id"),
        pl.col("timestamp"),
        *[
            pl.lit(None, dtype=pl.String).alias(c)
            for c in ("persona", "acquisition_source", "segment")
        ],
    )
    _write(pl.concat([traits, user_links]), out_dir, "groups", fmt)


def _event_columns(*, original_timestamp: bool) -> list[pl.Expr]:
    """The columns Segment writes for every event, in its order (``tracks`` also has an
    ``original_timestamp``, the same moment)."""
    return [
        pl.col("event_id").alias("id"),
        pl.col("slug").alias("event"),
        pl.col("event_name").alias("event_text"),
        pl.col("occurred_at").alias("timestamp"),
        *([pl.col("occurred_at").alias("original_timestamp")] if original_timestamp else []),
        pl.col("received_at"),
        pl.col("user_id"),
    ]


def _event_table(part: pl.DataFrame, fmt: str) -> pl.DataFrame:
    """One event's table: its standard columns and its properties as columns (CSV: text;
    Parquet: JSON numbers as numeric columns, other values as text)."""
    base = part.select(
        *_event_columns(original_timestamp=False),
        pl.when(pl.col("_way") == 0).then(pl.col("account_id")).alias("account_id"),
    )
    props = part.get_column("properties")
    if props.drop_nulls().len() == 0 or set(props.drop_nulls().unique().to_list()) == {"{}"}:
        return base
    decoded = props.str.json_decode(infer_schema_length=None)
    if not isinstance(decoded.dtype, pl.Struct):
        return base
    columns = []
    for field in decoded.struct.fields:
        if field in base.columns:
            continue
        values = decoded.struct.field(field)
        if (fmt == "parquet" and values.dtype.is_numeric()) or values.dtype == pl.String:
            columns.append(values.alias(field))
        elif values.dtype == pl.Boolean or values.dtype.is_numeric():
            columns.append(values.cast(pl.String).alias(field))
        else:  # nested values: their JSON text
            columns.append(
                pl.Series(
                    field,
                    [None if v is None else json.dumps(v) for v in values.to_list()],
                    dtype=pl.String,
                )
            )
    return base.with_columns(columns) if columns else base
