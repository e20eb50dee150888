"""Parameters of one generated data set, their validation and the random streams."""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import UserError
from ..formats import FileFormat
from .timeutil import DAY, add_months, epoch

FORMATS = tuple(f.value for f in FileFormat)
DEFAULT_END_DATE = dt.date(2026, 10, 31)
MAX_MONTHS = 120


@dataclass(frozen=True)
class GeneratorConfig:
    accounts: int = 2000
    months: int = 13
    seed: int = 42
    bad_row_rate: float = 0.0
    format: str = "csv"
    end_date: dt.date = DEFAULT_END_DATE
    # Share of CRM records of revenue movements that are miscoded (wrong movement,
    # wrong direction, wrong amount or missing).
    crm_miscoding_rate: float = 0.08
    # Share of priced changes whose proration lines were billed wrong.
    billing_error_rate: float = 0.02

    def validate(self) -> GeneratorConfig:
        if self.accounts < 1:
            raise UserError(f"--accounts must be at least 1 (got {self.accounts})")
        if self.accounts > 50_000_000:
            raise UserError(f"--accounts must be at most 50000000 (got {self.accounts})")
        if not 1 <= self.months <= MAX_MONTHS:
            raise UserError(f"--months must be between 1 and {MAX_MONTHS} (got {self.months})")
        if not 0 <= self.seed < 2**63:
            raise UserError(f"--seed must be a non-negative integer (got {self.seed})")
        if not 0.0 <= self.bad_row_rate <= 0.5:
            raise UserError(f"--bad-row-rate must be between 0 and 0.5 (got {self.bad_row_rate})")
        if self.format not in FORMATS:
            raise UserError(f"--format must be csv or parquet (got {self.format!r})")
        for name in ("crm_miscoding_rate", "billing_error_rate"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                flag = "--" + name.replace("_", "-")
                raise UserError(f"{flag} must be between 0 and 1 (got {v})")
        if not dt.date(1971, 1, 1) <= self.end_date <= dt.date(2200, 12, 31):
            raise UserError(f"--end-date out of range: {self.end_date}")
        return self

    # The simulated window: [start_ts, end_ts), end_ts = the day after end_date, 00:00Z.
    @property
    def end_ts(self) -> int:
        return epoch(self.end_date) + DAY

    @property
    def start_ts(self) -> int:
        return int(add_months(np.array([self.end_ts]), -self.months)[0])

    def as_manifest(self) -> dict:
        d = asdict(self)
        d["end_date"] = self.end_date.isoformat()
        d["window_start"] = _iso(self.start_ts)
        d["window_end"] = _iso(self.end_ts)
        return d


def _iso(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_end_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError(f"--end-date must be a date YYYY-MM-DD (got {value!r})") from None


class Streams:
    """Independent, named random streams derived from the seed.

    Each part of the generator draws from its own stream, so changing one part does not
    shift the random numbers of the others, and chunks of product events are
    reproducible on their own."""

    def __init__(self, seed: int):
        self.seed = seed

    def get(self, name: str, *keys: int) -> np.random.Generator:
        entropy = [self.seed, zlib.crc32(name.encode()), *keys]
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))
