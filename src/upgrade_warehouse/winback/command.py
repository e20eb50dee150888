"""`upgrade-warehouse winback`: activated accounts that have not upgraded, ranked by their
probability of a self-serve upgrade within horizon_days (``shared/spec/cli.md``)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ..formats import OutputFormat, WarehouseOption
from ..paths import DEFAULT_WAREHOUSE
from ..warehouse import check_version, connect
from .reader import check_built, model_info, read_scores, read_winback, to_csv

MAX_TOP = 1_000_000_000  # far above any account count; a 64-bit LIMIT in SQL


def winback_command(
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
    top: Annotated[
        int | None,
        typer.Option(
            "--top",
            min=1,
            max=MAX_TOP,
            help=f"Only the N accounts with the highest probability (1 to {MAX_TOP:,}).",
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="table, json or csv.")
    ] = OutputFormat.table,
) -> None:
    """Activated accounts with no upgrade at or before as_of, ranked by their probability
    of a self-serve upgrade within horizon_days, with the reasons and a suggested play."""
    with connect(warehouse) as con:
        check_version(con, warehouse)
        check_built(con, warehouse)
        if output_format is OutputFormat.json:
            print(json.dumps(read_winback(con, top), indent=2))
            return
        records = read_scores(con, top)
        if output_format is OutputFormat.csv:
            print(to_csv(records), end="")
            return
        model = model_info(con)
    print_table(records, model)


def print_table(records: list[dict], model: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    from ..formats import format_probability
    from .reader import format_ts

    auc = model["auc"]
    quality = (
        f"validation AUC {auc:.2f}" if auc is not None else "not validated"
    ) + f"; {model['listed_accounts']:,} accounts listed"
    table = Table(
        title=(
            f"Win-back list: self-serve upgrade within {model['horizon_days']} days of as_of "
            f"{format_ts(model['as_of'])}"
        ),
        caption=f"{quality}. {model['validated_on']}.",
    )
    for name, justify in (
        ("#", "right"),
        ("account", "left"),
        ("activated", "left"),
        ("probability", "right"),
        ("reasons", "left"),
        ("play", "left"),
    ):
        table.add_column(name, justify=justify, overflow="fold")
    for r in records:
        p = r["probability"]
        table.add_row(
            str(r["rank"]),
            r["account_id"],
            r["activated_at"].strftime("%Y-%m-%d") if r["activated_at"] else "",
            format_probability(p),
            "; ".join(r["reasons"]),
            f"{r['play_trigger']} · {r['play_owner']} · {r['play_channel']}",
        )
    Console().print(table)
