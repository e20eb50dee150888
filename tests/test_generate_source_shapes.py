"""`generate --shape` for the events and CRM shapes: the landed tables, the contract
tables beside them and a sources.yml that maps them back with every row accounted for
(docs/sources.md). The full round trip through a build is in
tests/test_sources_events_crm_e2e.py."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from conftest import run_cli
from upgrade_warehouse.sources.config import load_config
from upgrade_warehouse.sources.phase import map_sources

SHAPES = {  # shape -> (the landed folder, the contract table it replaces, its source table)
    "segment": ("segment", "product_events", "tracks"),
    "rudderstack": ("rudderstack", "product_events", "tracks"),
    "fivetran_salesforce": ("salesforce", "crm_opportunities", "opportunity"),
    "fivetran_hubspot": ("hubspot", "crm_opportunities", "deal"),
}


def _rows(path: Path) -> int:
    with open(path, newline="", encoding="utf-8") as f:
        return sum(1 for _ in csv.DictReader(f))


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("contract")
    proc = run_cli("generate", "--out", out, "--accounts", "40", "--months", "2", "--quiet")
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_generate_shape_maps_back_every_row(shape, original, tmp_path):
    folder, replaced, source_table = SHAPES[shape]
    out = tmp_path / shape
    proc = run_cli(
        "generate", "--out", out, "--accounts", "40", "--months", "2", "--shape", shape, "--quiet"
    )
    assert proc.returncode == 0, proc.stderr
    assert f"wrote sources.yml ({shape}:" in proc.stdout
    assert (out / folder).is_dir() and (out / "sources.yml").is_file()
    contract_files = {p.name for p in (out / "contract").iterdir()}
    assert f"{replaced}.csv" not in contract_files  # the shape replaces it
    assert "accounts.csv" in contract_files and "plans.csv" in contract_files

    cfg = load_config(out / "sources.yml", "USD")
    mapped = map_sources(cfg, tmp_path / "mapped")
    counts = mapped.sources[replaced][source_table]
    expected = _rows(original / f"{replaced}.csv")  # same seed: the same rows
    assert counts.read == counts.mapped == expected > 0
    assert counts.balanced() and not counts.skipped and counts.quarantined == 0
