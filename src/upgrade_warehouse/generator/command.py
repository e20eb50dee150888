"""`upgrade-warehouse generate`: write a synthetic data set in the raw contract's format."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from ..errors import UserError
from ..formats import FileFormat
from .config import DEFAULT_END_DATE, GeneratorConfig, parse_end_date


def generate_command(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the data set to.")],
    accounts: Annotated[int, typer.Option("--accounts", help="Number of accounts.")] = 2000,
    months: Annotated[
        int, typer.Option("--months", help="Months of history before --end-date.")
    ] = 13,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same files.")] = 42,
    bad_row_rate: Annotated[
        float,
        typer.Option(
            "--bad-row-rate", help="Share of extra bad rows injected per table (0 to 0.5)."
        ),
    ] = 0.0,
    fmt: Annotated[FileFormat, typer.Option("--format", help="File format.")] = FileFormat.csv,
    end_date: Annotated[
        str, typer.Option("--end-date", help="Last day of history (YYYY-MM-DD).")
    ] = DEFAULT_END_DATE.isoformat(),
    crm_miscoding_rate: Annotated[
        float,
        typer.Option(
            "--crm-miscoding-rate", help="Share of CRM records of revenue movements miscoded."
        ),
    ] = 0.08,
    billing_error_rate: Annotated[
        float, typer.Option("--billing-error-rate", help="Share of prorated changes billed wrong.")
    ] = 0.02,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress output.")] = False,
    shape: Annotated[
        str | None,
        typer.Option(
            "--shape",
            help="Write one source as a tool lands it, with a sources.yml: billing "
            "(fivetran_stripe, airbyte_stripe), events (segment, rudderstack) or CRM "
            "(fivetran_salesforce, fivetran_hubspot); the rest stays contract-shaped "
            "(docs/sources.md).",
        ),
    ] = None,
) -> None:
    """Write a synthetic data set in the raw contract's format (same seed, same files)."""
    from ..progress import Progress
    from .core import generate

    cfg = GeneratorConfig(
        accounts=accounts,
        months=months,
        seed=seed,
        bad_row_rate=bad_row_rate,
        format=fmt.value,
        end_date=parse_end_date(end_date),
        crm_miscoding_rate=crm_miscoding_rate,
        billing_error_rate=billing_error_rate,
    ).validate()
    writer = None
    if shape is not None:
        from .stripe_shape import SHAPE_WRITERS

        writer = SHAPE_WRITERS.get(shape)
        if writer is None:
            raise UserError(f"--shape {shape}: unknown shape (expected {', '.join(SHAPE_WRITERS)})")
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
        if writer is None:
            manifest = generate(out, cfg, progress.update)
        else:  # the contract-shaped set first, then the shape's files beside sources.yml
            import tempfile

            with tempfile.TemporaryDirectory(prefix="uw-shape-", dir=out) as tmp:
                manifest = generate(Path(tmp), cfg, progress.update)
                progress.update(f"writing the {shape} shape")
                counts = writer(Path(tmp), out)
            typer.echo(
                f"wrote sources.yml ({shape}: {sum(counts.values())} rows in "
                f"{len(counts)} landed tables) to {out}"
            )
            return
    total = sum(manifest["row_counts"].values())
    bad = sum(sum(v.values()) for v in manifest["bad_rows"].values())
    events = manifest["row_counts"]["product_events"]
    typer.echo(
        f"wrote {len(manifest['row_counts'])} tables ({total} rows, {events} product events, "
        f"{bad} injected bad rows) and manifest.json to {out}"
    )
