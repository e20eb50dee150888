"""`upgrade-warehouse generate`: write a synthetic data set in the raw contract's format."""
# ruff: noqa: B008  (typer.Option in defaults is typer's idiom)

from __future__ import annotations

import os
from pathlib import Path

import typer

from ..errors import UserError
from .config import DEFAULT_END_DATE, GeneratorConfig, parse_end_date


def generate_command(
    out: Path = typer.Option(..., "--out", help="Directory to write the data set to."),
    accounts: int = typer.Option(2000, "--accounts", help="Number of accounts."),
    months: int = typer.Option(13, "--months", help="Months of history before --end-date."),
    seed: int = typer.Option(42, "--seed", help="Random seed: same seed, same files."),
    bad_row_rate: float = typer.Option(
        0.0, "--bad-row-rate", help="Share of extra bad rows injected per table (0 to 0.5)."
    ),
    fmt: str = typer.Option("csv", "--format", help="File format: csv or parquet."),
    end_date: str = typer.Option(
        DEFAULT_END_DATE.isoformat(), "--end-date", help="Last day of history (YYYY-MM-DD)."
    ),
    crm_miscoding_rate: float = typer.Option(
        0.08, "--crm-miscoding-rate", help="Share of CRM records of revenue movements miscoded."
    ),
    billing_error_rate: float = typer.Option(
        0.02, "--billing-error-rate", help="Share of prorated changes billed wrong."
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No progress output."),
) -> None:
    """Write a synthetic data set in the raw contract's format (same seed, same files)."""
    from ..progress import Progress
    from .core import generate

    cfg = GeneratorConfig(
        accounts=accounts,
        months=months,
        seed=seed,
        bad_row_rate=bad_row_rate,
        format=fmt.lower(),
        end_date=parse_end_date(end_date),
        crm_miscoding_rate=crm_miscoding_rate,
        billing_error_rate=billing_error_rate,
    ).validate()
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} exists and is not a directory")
    try:  # a folder that cannot be made or written to is bad input, found before any work
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise UserError(f"--out {out}: cannot write there ({exc.strerror})") from None
    with Progress(enabled=not quiet) as progress:
        manifest = generate(out, cfg, progress.update)
    total = sum(manifest["row_counts"].values())
    bad = sum(sum(v.values()) for v in manifest["bad_rows"].values())
    events = manifest["row_counts"]["product_events"]
    typer.echo(
        f"wrote {len(manifest['row_counts'])} tables ({total} rows, {events} product events, "
        f"{bad} injected bad rows) and manifest.json to {out}"
    )
