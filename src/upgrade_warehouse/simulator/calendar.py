"""Calendar arithmetic and timestamp parsing shared by the scalar and the batch simulator.

Rules (``shared/spec/simulator.md``):

* Adding n months keeps the time of day and the day of month of the datetime it is
  added to, clamped to the length of the target month (Jan 31 + 1 month = Feb 28/29,
  Jan 31 + 2 months = Mar 31). A year is 12 months, so Feb 29 + 1 year = Feb 28.
* Timestamps are ISO 8601: with ``Z`` or an offset they are converted to UTC, without
  one they are UTC. The simulator works in whole seconds: a fractional second is
  dropped (floored).
"""

from __future__ import annotations

import calendar as _calendar
import re
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl

INTERVAL_MONTHS = {"month": 1, "year": 12}

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MIN_YEAR = 1
MAX_YEAR = 9999

# The accepted ISO 8601 grammar (same in the scalar and the vectorized parser):
# YYYY-MM-DD, optionally followed by T or a space and HH:MM[:SS[.fraction]], optionally
# followed by Z or an offset +HH:MM, +HHMM or +HH.
TS_PATTERN = (
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$"
)
_TS_RE = re.compile(TS_PATTERN)


class TimestampError(ValueError):
    """A timestamp that cannot be parsed or is out of range."""


def add_months(dt: datetime, months: int) -> datetime:
    """``dt`` plus ``months`` calendar months, day of month clamped to the target month."""
    total = dt.year * 12 + (dt.month - 1) + months
    year, month0 = divmod(total, 12)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise TimestampError(f"{format_ts(dt)} plus {months} months is out of range")
    day = min(dt.day, _calendar.monthrange(year, month0 + 1)[1])
    return dt.replace(year=year, month=month0 + 1, day=day)


def add_interval(dt: datetime, interval: str, count: int = 1) -> datetime:
    """``dt`` plus ``count`` billing intervals (``month`` or ``year``)."""
    return add_months(dt, INTERVAL_MONTHS[interval] * count)


def to_utc_seconds(dt: datetime) -> datetime:
    """A datetime as aware UTC with the sub-second part dropped (naive = UTC)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    else:
        dt = dt.astimezone(UTC)
    return dt.replace(microsecond=0)


def parse_timestamp(value: str | datetime | date, name: str = "timestamp") -> datetime:
    """Parse an ISO 8601 timestamp (or take a datetime) as aware UTC, whole seconds."""
    if isinstance(value, datetime):
        return to_utc_seconds(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    bad = TimestampError(f"{name} is not a valid ISO 8601 timestamp: '{value}'")
    if not isinstance(value, str):
        raise bad
    m = _TS_RE.match(value.strip())
    if not m:
        raise bad
    y, mo, d, hh, mi, ss, _frac, _z, sign, oh, om = m.groups()
    try:
        dt = datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0), tzinfo=UTC)
        if sign:
            offset = timedelta(hours=int(oh), minutes=int(om or 0))
            if offset >= timedelta(hours=24):
                raise bad
            dt = dt - offset if sign == "+" else dt + offset
    except (ValueError, OverflowError):
        raise bad from None
    return dt


def format_ts(dt: datetime) -> str:
    """ISO 8601 UTC with a ``Z``: ``2026-03-16T12:00:00Z``."""
    dt = to_utc_seconds(dt)
    return (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}Z"
    )


def epoch_seconds(dt: datetime) -> int:
    return (to_utc_seconds(dt) - EPOCH) // timedelta(seconds=1)


def from_epoch_seconds(seconds: int) -> datetime:
    return EPOCH + timedelta(seconds=int(seconds))


# ---------------------------------------------------------------------------------------
# Vectorized versions (numpy on int64 epoch seconds)
# ---------------------------------------------------------------------------------------

SECONDS_PER_DAY = 86_400
# Epoch seconds of 0001-01-01T00:00:00 and 10000-01-01T00:00:00 (the supported range).
MIN_EPOCH_SECONDS = -62_135_596_800
MAX_EPOCH_SECONDS_EXCL = 253_402_300_800


def add_months_np(seconds: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """Vectorized :func:`add_months` on int64 epoch seconds (UTC)."""
    seconds = np.asarray(seconds, dtype=np.int64)
    days = seconds // SECONDS_PER_DAY
    sod = seconds - days * SECONDS_PER_DAY
    d64 = days.astype("datetime64[D]")
    month_start = d64.astype("datetime64[M]")
    day_offset = (d64 - month_start.astype("datetime64[D]")).astype(np.int64)
    target = month_start + np.asarray(months, dtype=np.int64).astype("timedelta64[M]")
    target_days = target.astype("datetime64[D]")
    month_len = ((target + np.timedelta64(1, "M")).astype("datetime64[D]") - target_days).astype(
        np.int64
    )
    new_days = target_days.astype(np.int64) + np.minimum(day_offset, month_len - 1)
    return new_days * SECONDS_PER_DAY + sod


def parse_ts_series(s: pl.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorized timestamp parsing to int64 epoch seconds.

    Returns ``(seconds, present, valid)``: ``present`` = the input was not null,
    ``valid`` = it parsed to a timestamp in the supported range. ``seconds`` is 0 where
    not valid.
    """
    n = len(s)
    dtype = s.dtype
    if dtype == pl.Null:
        zeros = np.zeros(n, dtype=np.int64)
        false = np.zeros(n, dtype=bool)
        return zeros, false, false.copy()
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is not None:
            s = s.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        us = s.dt.cast_time_unit("us").cast(pl.Int64)
    elif dtype == pl.Date:
        us = s.cast(pl.Datetime("us")).cast(pl.Int64)
    elif dtype in (pl.Utf8, pl.Categorical) or isinstance(dtype, pl.Enum):
        us = _parse_iso_strings(s.cast(pl.Utf8))
    else:
        raise TypeError(f"unsupported timestamp column type {dtype}")
    present = s.is_not_null().to_numpy()
    valid = us.is_not_null().to_numpy() & present
    raw = us.fill_null(0).to_numpy().astype(np.int64, copy=False)
    seconds = raw // 1_000_000
    valid &= (seconds >= MIN_EPOCH_SECONDS) & (seconds < MAX_EPOCH_SECONDS_EXCL)
    seconds = np.where(valid, seconds, 0)
    return seconds, present, valid


# The common form ``2026-03-16T12:00:00Z`` has a fast path (a subset of TS_PATTERN).
_FAST_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:[0-5]\dZ$"


def _parse_iso_strings(s: pl.Series) -> pl.Series:
    """ISO 8601 strings (the :data:`TS_PATTERN` grammar) -> epoch microseconds, null if bad."""
    s = s.str.strip_chars()
    fast = s.str.contains(_FAST_PATTERN).fill_null(False)
    if not fast.any():
        return _parse_iso_general(s)
    out = (
        s.str.to_datetime(format="%Y-%m-%dT%H:%M:%SZ", strict=False, time_unit="us")
        .cast(pl.Int64)
        .zip_with(fast, pl.Series([None], dtype=pl.Int64).extend_constant(None, len(s) - 1))
    )
    rest = (~fast & s.is_not_null()).arg_true()
    if len(rest):
        out = out.scatter(rest, _parse_iso_general(s.gather(rest)))
    return out


def _parse_iso_general(s: pl.Series) -> pl.Series:
    frame = pl.DataFrame({"v": s.str.strip_chars()})
    g = frame.select(pl.col("v").str.extract_groups(TS_PATTERN).alias("g")).unnest("g")
    g.columns = ["y", "mo", "d", "hh", "mi", "ss", "frac", "z", "sign", "oh", "om"]
    normalized = g.select(
        pl.concat_str(
            [
                pl.col("y"),
                pl.lit("-"),
                pl.col("mo"),
                pl.lit("-"),
                pl.col("d"),
                pl.lit("T"),
                pl.col("hh").fill_null("00"),
                pl.lit(":"),
                pl.col("mi").fill_null("00"),
                pl.lit(":"),
                pl.col("ss").fill_null("00"),
            ]
        )
        .str.to_datetime(format="%Y-%m-%dT%H:%M:%S", strict=False, time_unit="us")
        .cast(pl.Int64)
        .alias("naive"),
        (
            pl.col("oh").cast(pl.Int64, strict=False) * 3600
            + pl.col("om").cast(pl.Int64, strict=False).fill_null(0) * 60
        )
        .fill_null(0)
        .alias("off"),
        pl.col("sign").fill_null("+").alias("sign"),
        # chrono accepts a leap second (:60); Python's datetime (the scalar path) does not.
        (pl.col("ss").cast(pl.Int64, strict=False).fill_null(0) > 59).alias("leap"),
    )
    result = normalized.select(
        pl.when((pl.col("off") >= 86_400) | pl.col("leap"))
        .then(None)
        .when(pl.col("sign") == "+")
        .then(pl.col("naive") - pl.col("off") * 1_000_000)
        .otherwise(pl.col("naive") + pl.col("off") * 1_000_000)
        .alias("us")
    )
    return result.get_column("us")
