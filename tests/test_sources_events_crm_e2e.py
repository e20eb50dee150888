"""End to end: a generated contract data set converted to the Segment + Salesforce layout
(and RudderStack + HubSpot) by the converters gives exactly the metrics of the original
(`metrics` and `metrics --by persona`):

- built through sources.yml (runs once the sources.yml framework of issue 30 is in:
  skipped without it);
- the mapping's rows written as contract files and built as today (runs now)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import run_cli
from upgrade_warehouse.generator import GeneratorConfig, generate
from upgrade_warehouse.sources.crm import map_crm
from upgrade_warehouse.sources.crm_export import DEFAULT_OPTIONS, to_crm_shape
from upgrade_warehouse.sources.segment import map_events
from upgrade_warehouse.sources.segment_export import to_events_shape

PAIRS = [("segment", "fivetran_salesforce"), ("rudderstack", "fivetran_hubspot")]

VOLATILE = {"warehouse", "generated_at", "built_at"}


def _metrics(warehouse: Path, *args: str) -> dict:
    proc = run_cli("metrics", "--warehouse", warehouse, *args, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return {k: v for k, v in json.loads(proc.stdout).items() if k not in VOLATILE}


def _build(data_dir: Path, warehouse: Path) -> dict:
    proc = run_cli("build", "--data-dir", data_dir, "--warehouse", warehouse, "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    root = tmp_path_factory.mktemp("original")
    generate(root / "data", GeneratorConfig(accounts=150, months=4, seed=21))
    _build(root / "data", root / "wh.duckdb")
    return (
        root / "data",
        _metrics(root / "wh.duckdb"),
        _metrics(root / "wh.duckdb", "--by", "persona"),
    )


@pytest.mark.parametrize(("events", "crm"), PAIRS)
def test_mapped_rows_give_the_same_metrics(original, tmp_path, events, crm):
    data, metrics, by_persona = original
    contract = tmp_path / "contract"
    contract.mkdir()
    for f in data.iterdir():
        if f.stem not in ("product_events", "crm_opportunities") and f.suffix in (
            ".csv",
            ".parquet",
        ):
            shutil.copy(f, contract / f.name)
    to_events_shape(data, tmp_path / "events", events)
    to_crm_shape(data, tmp_path / "crm", crm, {})
    mapped = map_events(tmp_path / "events", events, {})
    assert mapped.quarantine.height == 0
    mapped.tables["product_events"].drop("_source_table").write_csv(contract / "product_events.csv")
    crm_out = map_crm(tmp_path / "crm", crm, {**DEFAULT_OPTIONS[crm], "crm_currency": "USD"})
    assert crm_out.quarantine.height == 0
    crm_out.tables["crm_opportunities"].drop("_source_table").write_csv(
        contract / "crm_opportunities.csv"
    )
    _build(contract, tmp_path / "wh.duckdb")
    assert _metrics(tmp_path / "wh.duckdb") == metrics
    assert _metrics(tmp_path / "wh.duckdb", "--by", "persona") == by_persona


@pytest.mark.parametrize(("events", "crm"), PAIRS)
def test_converted_layout_gives_the_same_metrics(original, tmp_path, events, crm):
    pytest.importorskip("upgrade_warehouse.sources.config")
    data, metrics, by_persona = original
    layout = tmp_path / "layout"
    contract = layout / "contract"
    contract.mkdir(parents=True)
    for f in data.iterdir():
        if f.stem not in ("product_events", "crm_opportunities") and f.suffix in (
            ".csv",
            ".parquet",
        ):
            shutil.copy(f, contract / f.name)
    to_events_shape(data, layout / "events", events)
    options = {**DEFAULT_OPTIONS[crm]}
    to_crm_shape(data, layout / "crm", crm, options)
    (layout / "sources.yml").write_text(
        yaml.safe_dump(
            {
                "events": {"shape": events, "path": "events"},
                "crm": {"shape": crm, "path": "crm"},
                "contract": {"path": "contract"},
                "options": options,
            }
        )
    )
    report = _build(layout, tmp_path / "wh.duckdb")
    pe = report["tables"]["product_events"]
    assert pe["sources"]["tracks"]["read"] == pe["sources"]["tracks"]["mapped"]
    assert _metrics(tmp_path / "wh.duckdb") == metrics
    assert _metrics(tmp_path / "wh.duckdb", "--by", "persona") == by_persona
