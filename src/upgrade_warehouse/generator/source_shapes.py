"""`generate --shape` for the events and CRM shapes (segment, rudderstack,
fivetran_salesforce, fivetran_hubspot): the generated contract data set with one table
given as that tool lands it, the others contract-shaped, and the sources.yml that maps
it back (docs/sources.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

# shape -> (sources.yml role, the contract table the shape replaces, its folder)
ROLES = {
    "segment": ("events", "product_events", "segment"),
    "rudderstack": ("events", "product_events", "rudderstack"),
    "fivetran_salesforce": ("crm", "crm_opportunities", "salesforce"),
    "fivetran_hubspot": ("crm", "crm_opportunities", "hubspot"),
}


def write_source_shape(contract_dir: Path, out: Path, shape: str) -> dict[str, int]:
    """``out/<folder>/`` (the landed tables of ``shape``), ``out/contract/`` (every other
    table), ``out/sources.yml``. Returns rows per landed table."""
    role, replaced, folder = ROLES[shape]
    landed = out / folder
    landed.mkdir(parents=True, exist_ok=True)
    options: dict = {}
    if role == "events":
        from ..sources.segment_export import to_events_shape

        to_events_shape(contract_dir, landed, shape)
    else:
        from ..sources.crm_export import DEFAULT_OPTIONS, to_crm_shape

        options = DEFAULT_OPTIONS[shape]
        to_crm_shape(contract_dir, landed, shape, {})
    contract = out / "contract"
    contract.mkdir(parents=True, exist_ok=True)
    for path in sorted(contract_dir.iterdir()):
        if path.is_file() and path.name.split(".")[0] != replaced and path.suffix != ".json":
            shutil.copy2(path, contract / path.name)
    spec = {role: {"shape": shape, "path": folder}, "contract": {"path": "contract"}}
    if options:
        spec["options"] = options
    text = f"# Written by `upgrade-warehouse generate --shape {shape}` (docs/sources.md).\n"
    (out / "sources.yml").write_text(text + yaml.safe_dump(spec, sort_keys=False))
    counts: dict[str, int] = {}
    for path in sorted(landed.iterdir()):
        if path.suffix == ".csv":
            with open(path, "rb") as f:
                counts[path.stem] = max(sum(1 for _ in f) - 1, 0)
        else:
            import polars as pl

            counts[path.stem] = pl.read_parquet(path).height
    return counts


def _writer(shape: str):
    return lambda contract_dir, out: write_source_shape(contract_dir, out, shape)


WRITERS = {shape: _writer(shape) for shape in ROLES}
