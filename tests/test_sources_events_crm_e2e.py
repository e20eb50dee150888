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
from test_sources_crm import SALESFORCE_OPTIONS
from upgrade_warehouse.sources.crm import map_crm
from upgrade_warehouse.sources.crm_export import DEFAULT_OPTIONS, to_crm_shape
from upgrade_warehouse.sources.segment import map_events
from upgrade_warehouse.sources.segment_export import to_events_shape

pytestmark = pytest.mark.slow

PAIRS = [("segment", "fivetran_salesforce"), ("rudderstack", "fivetran_hubspot")]

VOLATILE = {"warehouse", "generated_at", "built_at"}


def _metrics(warehouse: Path, *args: str) -> dict:
    proc = run_cli("metrics", "--warehouse", warehouse, *args, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = {k: v for k, v in json.loads(proc.stdout).items() if k not in VOLATILE}
    for warning in out.get("warnings", []):  # when each build ran: minutes apart
        if warning["code"] == "stale":
            for key in ("message", "built_at", "age_days"):
                warning.pop(key, None)
    return out


def _build(data_dir: Path, warehouse: Path) -> dict:
    proc = run_cli("build", "--data-dir", data_dir, "--warehouse", warehouse, "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def _contract_copy(data: Path, contract: Path) -> Path:
    """The contract files of ``data`` but the two a shape replaces, copied to ``contract``."""
    contract.mkdir(parents=True)
    for f in data.iterdir():
        if f.stem not in ("product_events", "crm_opportunities") and f.suffix in (
            ".csv",
            ".parquet",
        ):
            shutil.copy(f, contract / f.name)
    return contract


@pytest.fixture(scope="module")
def original(generated_contract):
    """A generated contract data set and its build (fixtures_builds.py), and its metrics."""
    root = generated_contract
    return (
        root / "data",
        _metrics(root / "wh.duckdb"),
        _metrics(root / "wh.duckdb", "--by", "persona"),
    )


@pytest.mark.parametrize(("events", "crm"), PAIRS)
def test_mapped_rows_give_the_same_metrics(original, tmp_path, events, crm):
    data, metrics, by_persona = original
    contract = _contract_copy(data, tmp_path / "contract")
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
    _contract_copy(data, layout / "contract")
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


def test_hand_made_fixtures_give_hand_computed_metrics(tmp_path):
    """The mapped Segment and Salesforce fixtures, with three accounts' billing written
    by hand, built as contract files: funnel and attribution metrics computed by hand."""
    from upgrade_warehouse.sources.crm import map_crm as crm_map

    fixtures = Path(__file__).parent / "fixtures"
    data = tmp_path / "data"
    data.mkdir()
    events = map_events(fixtures / "segment", "segment", {}).tables["product_events"]
    events.drop("_source_table").write_csv(data / "product_events.csv")
    # test_sources_crm's Salesforce options, the currency USD (the fixture has no Churn
    # opportunity, so that entry of the movement map is not used)
    options = {**SALESFORCE_OPTIONS, "crm_currency": "USD"}
    crm = crm_map(fixtures / "salesforce", "fivetran_salesforce", options).tables[
        "crm_opportunities"
    ]
    crm.drop("_source_table").write_csv(data / "crm_opportunities.csv")
    (data / "accounts.csv").write_text(
        "account_id,created_at,persona,acquisition_source,segment,country,account_manager_id\n"
        "acc_A,2026-01-01T00:00:00Z,founder,,,,\nacc_B,2026-01-01T00:00:00Z,marketer,,,,\n"
        "acc_C,2026-01-01T00:00:00Z,engineer,,,,\nacc_J,2026-01-01T00:00:00Z,founder,,,JP,\n"
    )
    (data / "plans.csv").write_text(
        "plan_id,plan_name,tier_rank,billing_interval,unit_amount_minor,currency,self_serve,"
        "min_seats,max_seats,entitlements\n"
        "pro_monthly_usd,Pro,2,month,9900,USD,true,,,\nstarter_monthly_usd,Starter,1,month,1000,USD,true,,,\n"
    )
    (data / "subscription_changes.csv").write_text(
        "change_id,subscription_id,account_id,changed_at,effective_at,from_plan_id,to_plan_id,"
        "from_quantity,to_quantity,initiated_by,channel,period_start,period_end,proration_behavior,reason_code\n"
        # chg_1: created pro x1 = 9900: new, +9900; CRM 006-2 closed_won new 9900 USD: accurate
        "chg_1,sub_A,acc_A,2026-03-10T00:00:00Z,2026-03-10T00:00:00Z,,pro_monthly_usd,,1,customer,,,,,\n"
        # chg_2: pro x1 -> x2: expansion +9900; CRM 006-11 expansion 750: wrong_amount
        "chg_2,sub_A,acc_A,2026-03-15T12:30:00Z,2026-03-15T12:30:00Z,pro_monthly_usd,pro_monthly_usd,1,2,customer,,,,,\n"
        # chg_3: acc_B created starter x1: new +1000, no CRM record: missing_record
        "chg_3,sub_B,acc_B,2026-03-20T00:00:00Z,2026-03-20T00:00:00Z,,starter_monthly_usd,,1,customer,,,,,\n"
        # chg_4: in April (sets as_of = 2026-04-30 so March's attempts have matured)
        "chg_4,sub_C,acc_C,2026-04-30T00:00:00Z,2026-04-30T00:00:00Z,,starter_monthly_usd,,1,customer,,,,,\n"
    )
    _build(data, tmp_path / "wh.duckdb")
    march = next(m for m in _metrics(tmp_path / "wh.duckdb")["months"] if m["month"] == "2026-03")
    # Funnel (steps upgrade_intent, plan_selected, ...). The second m-001 is the loader's
    # duplicate_id. acc_A: intent 03-01T09:00, plan 09:01. acc_B: intent 03-01T10:00,
    # plan 03-06T08:00 (m-009: its event table's account, within 14 days). acc_C: intent
    # 03-05T00:00, plan 03-05T01:00 (m-005, -05:00 offset). 3 attempts, all past their 14
    # days at as_of 04-30, none completed or escalated: 3 abandoned at plan_selected.
    assert march["attempts_started"] == 3
    assert march["upgrade_conversion_rate"] == 0
    assert march["abandonment_by_step"]["plan_selected"] == 1
    assert not march["abandonment_by_step"].get("upgrade_intent")
    # Attribution: March population chg_1, chg_2, chg_3; accurate chg_1 only -> 1/3
    assert march["attributed_changes"] == 3
    assert march["attribution_accuracy"] == pytest.approx(1 / 3)
    assert {k: v for k, v in march["attribution_mismatches"].items() if v} == {
        "missing_record": 1,
        "wrong_amount": 1,
    }
