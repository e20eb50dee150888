"""A contract data set's crm_opportunities written as Fivetran Salesforce or HubSpot
tables (``generate --shape fivetran_salesforce``, the tests' round trips).

Salesforce: ``opportunity`` (Salesforce ids, stage names, flags, the option fields) and
``account`` (one per contract account, the ``salesforce_account_key`` field = account_id;
also one per account an opportunity names that the accounts table lacks, so the loader
sees the same unknown reference). HubSpot: ``deal``, ``deal_company`` (a primary
association), ``company`` (property ``hubspot_account_key``) and ``deal_pipeline_stage``.

MRR is written in major units (minor / 10^exponent, exact decimal text), so mapping the
layout back with the same options gives the contract rows again.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl

from ..currencies import currency_exponent
from .base import contract_text
from .crm import HUBSPOT_PRIMARY_COMPANY_TYPE, SHAPES, fivetran_name
from .landed import read_landed

# the options a converted layout is mapped back with (sources.yml `options:`)
DEFAULT_OPTIONS = {
    "fivetran_salesforce": {
        "salesforce_account_key": "stripe_customer_id_c",
        "crm_change_key": "change_id_c",
        "crm_mrr_key": "mrr_delta_c",
        "crm_self_serve": {"field": "lead_source", "values": ["Self-Serve Sync"]},
        "crm_movement": {
            "field": "type",
            "map": {
                "New Business": "new",
                "Upsell": "expansion",
                "Downgrade": "contraction",
                "Churn": "churn",
                "Renewal": "renewal",
                "Reactivation": "reactivation",
            },
        },
    },
    "fivetran_hubspot": {
        "hubspot_account_key": "account_id",
        "crm_change_key": "change_id",
        "crm_mrr_key": "mrr_delta",
        "crm_self_serve": {"field": "hs_analytics_source", "values": ["SELF_SERVE_SYNC"]},
        "crm_movement": {
            "field": "dealtype",
            "map": {
                "newbusiness": "new",
                "upsell": "expansion",
                "downgrade": "contraction",
                "churn": "churn",
                "renewal": "renewal",
                "reactivation": "reactivation",
            },
        },
    },
}
STAGES = {  # contract stage -> (Salesforce stage name, HubSpot stage id)
    "open": ("Negotiation/Review", "contractsent"),
    "closed_won": ("Closed Won", "closedwon"),
    "closed_lost": ("Closed Lost", "closedlost"),
}


def _major(minor: str | None, currency: str | None) -> str | None:
    if minor is None:
        return None
    return format(Decimal(int(minor)).scaleb(-currency_exponent(currency)), "f")


def _text_frame(frame: pl.DataFrame) -> pl.DataFrame:
    return contract_text(frame).drop("_row_number")


def to_crm_shape(contract_dir: Path, out_dir: Path, shape: str, options: dict) -> None:
    """Write the CRM tables of ``shape`` for the contract's crm_opportunities."""
    if shape not in SHAPES:
        raise ValueError(f"not a CRM shape: {shape}")
    options = {
        **DEFAULT_OPTIONS[shape],
        **{k: v for k, v in (options or {}).items() if v is not None},
    }
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    opportunities = read_landed(contract_dir, "crm_opportunities")
    accounts = read_landed(contract_dir, "accounts")
    if opportunities is None or accounts is None:
        raise FileNotFoundError(f"{contract_dir}: needs crm_opportunities and accounts")
    fmt = "parquet" if (Path(contract_dir) / "crm_opportunities.parquet").exists() else "csv"
    opps = _text_frame(opportunities).to_dicts()
    account_ids = list(
        dict.fromkeys(
            [*_text_frame(accounts)["account_id"].to_list(), *(o["account_id"] for o in opps)]
        )
    )
    account_ids = [a for a in account_ids if a is not None]
    ref = {a: f"{i + 1}" for i, a in enumerate(account_ids)}  # account_id -> CRM account id
    self_serve = options["crm_self_serve"]
    movement_back = {v: k for k, v in options["crm_movement"]["map"].items()}
    tables = (
        _salesforce(opps, account_ids, ref, options, self_serve, movement_back)
        if shape == "fivetran_salesforce"
        else _hubspot(opps, account_ids, ref, options, self_serve, movement_back)
    )
    for name, rows in tables.items():
        frame = pl.DataFrame(
            rows, schema=dict.fromkeys(rows[0], pl.String) if rows else None, orient="row"
        )
        if fmt == "parquet":
            frame.write_parquet(out_dir / f"{name}.parquet")
        else:
            frame.write_csv(out_dir / f"{name}.csv")


def _salesforce(
    opps, account_ids, ref, options, self_serve, movement_back
) -> dict[str, list[dict]]:
    key = fivetran_name(options["salesforce_account_key"])
    change, mrr = fivetran_name(options["crm_change_key"]), fivetran_name(options["crm_mrr_key"])
    lead, kind = fivetran_name(self_serve["field"]), fivetran_name(options["crm_movement"]["field"])
    accounts = [
        {"id": f"001{int(ref[a]):015d}", "name": f"Account {a}", "is_deleted": "false", key: a}
        for a in account_ids
    ]
    rows = []
    for i, o in enumerate(opps):
        rows.append(
            {
                "id": o["opportunity_id"],
                "account_id": f"001{int(ref[o['account_id']]):015d}" if o["account_id"] else None,
                "name": f"Opportunity {i + 1}",
                "created_date": o["created_at"],
                "close_date": (o["closed_at"] or "")[:10] or None,
                "stage_name": STAGES.get(o["stage"], ("Prospecting",))[0],
                "is_closed": "true" if o["stage"] in ("closed_won", "closed_lost") else "false",
                "is_won": "true" if o["stage"] == "closed_won" else "false",
                "is_deleted": "false",
                "owner_id": o["owner_id"],
                "currency_iso_code": o["currency"],
                lead: self_serve["values"][0] if o["origin"] == "self_serve_sync" else "Web",
                kind: movement_back.get(o["movement_type"]),
                mrr: _major(o["mrr_delta_minor"], o["currency"]),
                change: o["change_id"],
                "_fivetran_active": "true",
            }
        )
    return {"opportunity": rows, "account": accounts}


def _hubspot(opps, account_ids, ref, options, self_serve, movement_back) -> dict[str, list[dict]]:
    def prop(name: str) -> str:
        name = fivetran_name(name)
        return name if name.startswith("property_") else "property_" + name

    key = prop(options["hubspot_account_key"])
    companies = [
        {"id": ref[a], "is_deleted": "false", "property_name": f"Account {a}", key: a}
        for a in account_ids
    ]
    stages = [
        {
            "stage_id": stage_id,
            "pipeline_id": "default",
            "label": label,
            "is_closed": "true" if stage != "open" else "false",
            "closed_won": "true" if stage == "closed_won" else "false",
            "_fivetran_deleted": "false",
        }
        for stage, (label, stage_id) in STAGES.items()
    ]
    deals, links = [], []
    for i, o in enumerate(opps):
        deal_id = o["opportunity_id"]
        deals.append(
            {
                "deal_id": deal_id,
                "is_deleted": "false",
                "deal_pipeline_id": "default",
                "deal_pipeline_stage_id": STAGES.get(o["stage"], (None, None))[1],
                "owner_id": o["owner_id"],
                "property_dealname": f"Deal {i + 1}",
                "property_createdate": o["created_at"],
                "property_closedate": o["closed_at"],
                "property_deal_currency_code": o["currency"],
                prop(self_serve["field"]): self_serve["values"][0]
                if o["origin"] == "self_serve_sync"
                else "DIRECT_TRAFFIC",
                prop(options["crm_movement"]["field"]): movement_back.get(o["movement_type"]),
                prop(options["crm_mrr_key"]): _major(o["mrr_delta_minor"], o["currency"]),
                prop(options["crm_change_key"]): o["change_id"],
            }
        )
        if o["account_id"]:
            links.append(
                {
                    "deal_id": deal_id,
                    "company_id": ref[o["account_id"]],
                    "type_id": HUBSPOT_PRIMARY_COMPANY_TYPE,
                    "category": "HUBSPOT_DEFINED",
                }
            )
    return {
        "deal": deals,
        "deal_company": links,
        "company": companies,
        "deal_pipeline_stage": stages,
    }
