"""Fivetran Salesforce / HubSpot tables -> crm_opportunities (sources.md "Salesforce and
HubSpot"; docs/sources.md). The mapping is called directly; the expected rows
are worked out by hand from tests/fixtures/salesforce/ and hubspot/ (comments say how)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from upgrade_warehouse.contract import TABLES_BY_NAME
from upgrade_warehouse.errors import UserError
from upgrade_warehouse.sources.base import QUARANTINE_COLUMNS
from upgrade_warehouse.sources.crm import fivetran_name, map_crm, minor_units

FIXTURES = Path(__file__).parent / "fixtures"
# The contract's columns of crm_opportunities, in its order (the rows below follow it).
COLUMNS = TABLES_BY_NAME["crm_opportunities"].column_names
MOVEMENT_SF = {
    "New Business": "new",
    "Upsell": "expansion",
    "Downgrade": "contraction",
    "Churn": "churn",
}
SALESFORCE_OPTIONS = {
    # Salesforce API names: they match the Fivetran spelling (stripe_customer_id_c,
    # mrr_delta_c, lead_source, type) case-insensitively
    "salesforce_account_key": "Stripe_Customer_Id__c",
    "crm_change_key": "change_id_c",
    "crm_mrr_key": "MRR_Delta__c",
    "crm_currency": "EUR",
    "crm_self_serve": {"field": "LeadSource", "values": ["Self-Serve Sync"]},
    "crm_movement": {"field": "Type", "map": MOVEMENT_SF},
}
HUBSPOT_OPTIONS = {
    "hubspot_account_key": "account_id",
    "crm_change_key": "change_id",
    "crm_mrr_key": "mrr_delta",
    "crm_currency": "USD",
    "crm_self_serve": {"field": "hs_analytics_source", "values": ["SELF_SERVE_SYNC"]},
    "crm_movement": {
        "field": "dealtype",
        "map": {"newbusiness": "new", "upsell": "expansion", "downgrade": "contraction"},
    },
}


def _rows(out) -> list[tuple]:
    return out.tables["crm_opportunities"].select(COLUMNS).rows()


def test_salesforce_fixture():
    out = map_crm(FIXTURES / "salesforce", "fivetran_salesforce", SALESFORCE_OPTIONS)
    assert _rows(out) == [
        # is_closed false -> open whatever the stage name ("Verbal Won"); no closed_at
        # while open; Upsell -> expansion; 120.50 USD x 10^2 = 12050
        (
            "006-1",
            "acc_A",
            None,
            "sales",
            "2026-03-01 10:00:00",
            None,
            "open",
            "expansion",
            "12050",
            "USD",
            "005X",
        ),
        # closed + won; lead_source "Self-Serve Sync" -> self_serve_sync; 99 x 100 = 9900
        (
            "006-2",
            "acc_A",
            "chg_1",
            "self_serve_sync",
            "2026-03-09 08:00:00",
            "2026-03-10",
            "closed_won",
            "new",
            "9900",
            "USD",
            "005X",
        ),
        # closed, not won -> closed_lost; JPY has exponent 0: -500 x 10^0 = -500
        (
            "006-3",
            "acc_J",
            None,
            "sales",
            "2026-03-11 09:00:00",
            "2026-03-20",
            "closed_lost",
            "contraction",
            "-500",
            "JPY",
            "005Y",
        ),
        # 006-4: 1200.5 JPY has a decimal JPY lacks -> bad_type; 006-5 deleted; 006-6
        # account without the key; 006-7 deleted account; 006-8 inactive version
        # no currency_iso_code -> crm_currency EUR; "Cross-sell" not in the map -> null
        (
            "006-9",
            "acc_A",
            None,
            "sales",
            "2026-03-06 09:00:00",
            None,
            "open",
            None,
            None,
            "EUR",
            "005X",
        ),
        # 006-10: no such account. 006-11: TRUE / 1 are booleans, usd upper-cased,
        # 7.5 x 100 = 750 (fewer decimals than USD has is fine)
        (
            "006-11",
            "acc_A",
            "chg_2",
            "sales",
            "2026-03-14 12:30:00",
            "2026-03-15",
            "closed_won",
            "expansion",
            "750",
            "USD",
            "005Y",
        ),
        # 006-12: _fivetran_deleted
    ]
    q = out.quarantine
    assert list(q.columns) == list(QUARANTINE_COLUMNS)
    assert q.select(
        "table_name", "source_file", "row_number", "reason_code", "reason_column"
    ).rows() == [
        ("opportunity", "opportunity.csv", 4, "bad_type", "mrr_delta_c"),
        ("opportunity", "opportunity.csv", 6, "unknown_reference", "stripe_customer_id_c"),
        ("opportunity", "opportunity.csv", 7, "unknown_reference", "stripe_customer_id_c"),
        ("opportunity", "opportunity.csv", 10, "unknown_reference", "stripe_customer_id_c"),
    ]
    raw = json.loads(q["raw_row"][0])
    assert raw["id"] == "006-4" and raw["mrr_delta_c"] == "1200.5" and raw["change_id_c"] is None
    counts = out.sources["crm_opportunities"]["opportunity"]
    # 12 read = 5 mapped + 3 skipped + 4 quarantined
    assert (counts.read, counts.mapped) == (12, 5)
    assert counts.skipped == {"is_deleted": 1, "fivetran_inactive": 1, "fivetran_deleted": 1}
    assert counts.quarantined_by_reason == {"bad_type": 1, "unknown_reference": 3}
    assert counts.balanced()


def test_hubspot_fixture():
    out = map_crm(FIXTURES / "hubspot", "fivetran_hubspot", HUBSPOT_OPTIONS)
    assert _rows(out) == [
        # stage s_open is not closed (its label "Verbal Won" is not read); the primary
        # company (type 5) 101 wins over 99; 120.50 USD -> 12050
        (
            "1",
            "acc_A",
            None,
            "sales",
            "2026-03-01T10:00:00Z",
            None,
            "open",
            "expansion",
            "12050",
            "USD",
            "o1",
        ),
        # no primary company: the first by company id, 99 < 101 as numbers -> acc_O;
        # no currency code -> crm_currency USD; 99 x 100 = 9900; SELF_SERVE_SYNC source
        (
            "2",
            "acc_O",
            "chg_1",
            "self_serve_sync",
            "2026-03-09T08:00:00Z",
            "2026-03-10T09:30:00Z",
            "closed_won",
            "new",
            "9900",
            "USD",
            "o1",
        ),
        # s_lost: closed, not won; JPY -500 x 10^0
        (
            "3",
            "acc_J",
            None,
            "sales",
            "2026-03-11T09:00:00Z",
            "2026-03-20T17:00:00Z",
            "closed_lost",
            "contraction",
            "-500",
            "JPY",
            "o2",
        ),
        # 4: 1200.5 JPY -> bad_type; 5 deleted; 6 company without account_id; 7 deleted
        # company; 8 no company; 9 unknown stage
    ]
    assert out.quarantine.select("row_number", "reason_code", "reason_column").rows() == [
        (4, "bad_type", "property_mrr_delta"),
        (6, "unknown_reference", "property_account_id"),
        (7, "unknown_reference", "property_account_id"),
        (8, "unknown_reference", "property_account_id"),
        (9, "unknown_reference", "deal_pipeline_stage_id"),
    ]
    assert set(out.quarantine["table_name"]) == {"deal"}
    counts = out.sources["crm_opportunities"]["deal"]
    assert (counts.read, counts.mapped, counts.skipped) == (9, 3, {"is_deleted": 1})
    assert counts.quarantined_by_reason == {"bad_type": 1, "unknown_reference": 4}
    assert counts.balanced()


def test_option_naming_a_missing_column_is_a_load_error():
    options = {**SALESFORCE_OPTIONS, "crm_mrr_key": "Amount_MRR__c"}
    with pytest.raises(
        UserError, match=r"option crm_mrr_key: opportunity.csv has no column Amount_MRR__c"
    ):
        map_crm(FIXTURES / "salesforce", "fivetran_salesforce", options)


def test_missing_table_is_a_load_error(tmp_path):
    shutil.copy(FIXTURES / "salesforce" / "opportunity.csv", tmp_path)
    with pytest.raises(UserError, match="account"):
        map_crm(tmp_path, "fivetran_salesforce", SALESFORCE_OPTIONS)


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        ("12.34", "USD", 1234),
        ("12.3", "USD", 1230),
        ("-0.01", "USD", -1),
        ("1200", "JPY", 1200),
        ("1200.0", "JPY", 1200),  # a zero decimal is not a decimal the currency lacks
        ("1.234", "KWD", 1234),  # exponent 3
        ("0.1", "USD", 10),  # decimal arithmetic: 0.1 x 100 is exactly 10
        ("1e2", "USD", 10000),
        (None, "USD", None),
    ],
)
def test_minor_units(value, currency, expected):
    assert minor_units(value, currency) == expected


@pytest.mark.parametrize(
    ("value", "currency"), [("12.345", "USD"), ("1200.5", "JPY"), ("abc", "USD"), ("NaN", "USD")]
)
def test_minor_units_rejects(value, currency):
    with pytest.raises(ValueError):
        minor_units(value, currency)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("LeadSource", "lead_source"),
        ("Stripe_Customer_Id__c", "stripe_customer_id_c"),
        ("lead_source", "lead_source"),
        ("CurrencyIsoCode", "currency_iso_code"),
    ],
)
def test_fivetran_name(name, expected):
    assert fivetran_name(name) == expected


def _seed_folder(tmp_path: Path, repo: str, names: dict[str, str]) -> Path:
    for seed, table in names.items():
        shutil.copy(FIXTURES / repo / f"{seed}.csv", tmp_path / f"{table}.csv")
    return tmp_path


def test_fivetran_salesforce_seeds_every_row_accounted_for(tmp_path):
    """fivetran/dbt_salesforce's integration-test seeds (tests/fixtures/dbt_salesforce_seeds,
    Apache 2.0): no traceback, every opportunity row mapped, skipped or quarantined."""
    folder = _seed_folder(
        tmp_path,
        "dbt_salesforce_seeds",
        {"sf_opportunity_data": "opportunity", "sf_account_data": "account"},
    )
    options = {
        "crm_mrr_key": "amount",
        "crm_currency": "USD",
        "crm_movement": {"field": "type", "map": {}},
    }
    out = map_crm(
        folder,
        "fivetran_salesforce",
        {**options, "crm_self_serve": {"field": "LeadSource", "values": ["x"]}},
    )
    rows = pl.read_csv(folder / "opportunity.csv", infer_schema=False)
    counts = out.sources["crm_opportunities"]["opportunity"]
    assert counts.read == rows.height == 10
    assert counts.balanced()
    assert out.tables["crm_opportunities"].height == counts.mapped
    assert out.quarantine.height == counts.quarantined
    # the seeds' opportunities are old history versions (_fivetran_active false) or
    # deleted: every row is skipped under its rule, nothing is lost
    inactive = rows.filter(pl.col("_fivetran_active") == "false").height
    deleted = rows.filter(
        (pl.col("_fivetran_active") != "false") & (pl.col("is_deleted") == "true")
    ).height
    assert (inactive, deleted) == (2, 8)
    assert counts.skipped == {"fivetran_inactive": inactive, "is_deleted": deleted}
    assert counts.quarantined_by_reason == {}


def test_fivetran_hubspot_seeds_every_row_accounted_for(tmp_path):
    """fivetran/dbt_hubspot's integration-test seeds (tests/fixtures/dbt_hubspot_seeds,
    Apache 2.0): no traceback, every deal row mapped, skipped or quarantined."""
    folder = _seed_folder(
        tmp_path,
        "dbt_hubspot_seeds",
        {
            "deal_data": "deal",
            "deal_company_data": "deal_company",
            "company_data": "company",
            "deal_pipeline_stage_data": "deal_pipeline_stage",
        },
    )
    out = map_crm(folder, "fivetran_hubspot", {"crm_mrr_key": "amount", "crm_currency": "USD"})
    rows = pl.read_csv(folder / "deal.csv", infer_schema=False)
    counts = out.sources["crm_opportunities"]["deal"]
    assert counts.read == rows.height == 44
    assert counts.balanced()
    assert out.tables["crm_opportunities"].height == counts.mapped
    assert out.quarantine.height == counts.quarantined
    # no seed deal has a deal_company row: every live deal is unknown_reference
    deleted = rows.filter(pl.col("is_deleted") == "true").height
    assert counts.skipped.get("is_deleted", 0) == deleted
    assert counts.quarantined_by_reason == {"unknown_reference": rows.height - deleted}


@pytest.mark.parametrize("shape", ["fivetran_salesforce", "fivetran_hubspot"])
def test_round_trip_of_a_generated_data_set(tmp_path, shape):
    """A generated data set's crm_opportunities written as the CRM's tables and mapped
    back with the converter's options gives the same rows (Salesforce's close_date is a
    date: closed_at keeps only its day there)."""
    from upgrade_warehouse.generator import GeneratorConfig, generate
    from upgrade_warehouse.sources.crm_export import DEFAULT_OPTIONS, to_crm_shape

    contract = tmp_path / "contract"
    generate(contract, GeneratorConfig(accounts=80, months=6, seed=11))
    to_crm_shape(contract, tmp_path / "crm", shape, {})
    out = map_crm(tmp_path / "crm", shape, {**DEFAULT_OPTIONS[shape], "crm_currency": "USD"})
    original = pl.read_csv(contract / "crm_opportunities.csv", infer_schema=False)
    assert original.height > 5
    mapped = out.tables["crm_opportunities"]
    same = [c for c in COLUMNS if c != "closed_at"]
    assert mapped.select(same).equals(original.select(same))
    days = original.select(
        pl.when(pl.col("stage") != "open").then(pl.col("closed_at").str.slice(0, 10))
    )
    if shape == "fivetran_hubspot":
        assert (
            mapped["closed_at"].to_list()
            == original.select(pl.when(pl.col("stage") != "open").then(pl.col("closed_at")))[
                :, 0
            ].to_list()
        )
    else:
        assert mapped["closed_at"].to_list() == days[:, 0].to_list()
