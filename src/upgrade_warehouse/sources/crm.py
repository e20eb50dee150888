"""Salesforce and HubSpot tables landed by Fivetran -> crm_opportunities (sources.md
"Salesforce and HubSpot"; docs/sources.md).

CRM tables are small (thousands to a few hundred thousand rows): the mapping runs over
the rows in Python, with the MRR conversion in decimal arithmetic.

- Salesforce: ``opportunity`` + ``account`` (the account field ``salesforce_account_key``
  holds our account_id).
- HubSpot: ``deal`` + ``deal_company`` + ``company`` (property ``hubspot_account_key``) +
  ``deal_pipeline_stage`` (is_closed / closed_won).

Stage comes from the closed / won flags, never from the org's own stage names.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl

from ..contract import TABLES_BY_NAME
from ..currencies import currency_exponent
from ..errors import UserError
from .base import QUARANTINE_COLUMNS, ShapeOutput, SourceCounts
from .landed import read_landed

ROW_NUMBER = "_row_number"  # read_landed's 1-based row number column
ADDED = frozenset({ROW_NUMBER, "_source_file"})  # columns read_landed may add

SHAPES = ("fivetran_salesforce", "fivetran_hubspot")
OUTPUT_COLUMNS = tuple(TABLES_BY_NAME["crm_opportunities"].column_names)
# HubSpot's association type of a deal's primary company (deal_company.type_id)
HUBSPOT_PRIMARY_COMPANY_TYPE = "5"
TRUE_TEXT = {"true", "1", "t", "yes"}
FALSE_TEXT = {"false", "0", "f", "no"}


def fivetran_name(name: str) -> str:
    """How Fivetran names a Salesforce field: ``LeadSource`` -> ``lead_source``,
    ``Stripe_Customer_Id__c`` -> ``stripe_customer_id_c``, ``lead_source`` unchanged."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    return re.sub(r"_+", "_", text.lower()).strip("_")


def _text(value) -> str | None:
    """A landed value as contract text (None for null or blank)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return text if text.strip() else None


def _flag(value) -> bool | None:
    """A landed boolean: True, False, or None when null or not a boolean."""
    if isinstance(value, bool):
        return value
    text = _text(value)
    if text is None:
        return None
    low = text.strip().lower()
    return True if low in TRUE_TEXT else False if low in FALSE_TEXT else None


def _raw_row(row: dict) -> str:
    """The row as it came: its columns (not the row number) as text, in file order."""
    return json.dumps(
        {k: (None if v is None else _text(v) or str(v)) for k, v in row.items() if k not in ADDED}
    )


def minor_units(value, currency: str) -> int | None:
    """``value`` (major units, text or number) x 10^exponent of ``currency``, exactly;
    ValueError when it is not a number or has more decimals than the currency has."""
    text = _text(value)
    if text is None:
        return None
    try:
        amount = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(text) from None
    if not amount.is_finite():
        raise ValueError(text)
    scaled = amount.scaleb(currency_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(text)
    return int(scaled)


@dataclass
class _Table:
    name: str
    path: Path
    rows: list[dict]
    columns: list[str]


def _read(folder: Path, table: str, required: bool) -> _Table | None:
    frame = read_landed(folder, table)
    if frame is None:
        if required:
            raise UserError(
                f"{Path(folder) / (table + '.csv')}: missing (the CRM source needs its {table} table)"
            )
        return None
    parquet = Path(folder) / f"{table}.parquet"
    return _Table(
        table,
        parquet if parquet.exists() else Path(folder) / f"{table}.csv",
        frame.to_dicts(),
        [c for c in frame.columns if c not in ADDED],
    )


def _require(table: _Table, *columns: str) -> None:
    for col in columns:
        if col not in table.columns:
            raise UserError(f"{table.path}: missing required column {col}")


def _skip_rule(row: dict) -> str | None:
    """The rule that skips a row (sources.md): inactive history version, deleted."""
    if "_fivetran_active" in row and _flag(row["_fivetran_active"]) is False:
        return "fivetran_inactive"
    if _flag(row.get("is_deleted")) is True:
        return "is_deleted"
    if _flag(row.get("_fivetran_deleted")) is True:
        return "fivetran_deleted"
    return None


def _live(table: _Table | None) -> list[dict]:
    return [] if table is None else [r for r in table.rows if _skip_rule(r) is None]


def _column(table: _Table, option: str, field: str, hubspot: bool) -> str:
    """The landed column an option's field names: its Fivetran spelling (a Salesforce API
    name matches case-insensitively); for HubSpot, ``property_<field>`` (or the column)."""
    wanted = {fivetran_name(field)}
    if hubspot and not fivetran_name(field).startswith("property_"):
        wanted = {"property_" + fivetran_name(field), fivetran_name(field)}
    by_name = {fivetran_name(c): c for c in table.columns}
    for name in sorted(wanted, key=lambda n: not n.startswith("property_")):
        if name in by_name:
            return by_name[name]
    raise UserError(f"sources.yml: option {option}: {table.path.name} has no column {field}")


def _option_field(options: dict, key: str) -> str | None:
    value = options.get(key)
    if isinstance(value, dict):
        value = value.get("field")
    return str(value) if value not in (None, "") else None


def map_crm(folder: Path, shape: str, options: dict) -> ShapeOutput:
    """crm_opportunities from a Fivetran Salesforce or HubSpot folder."""
    if shape not in SHAPES:
        raise ValueError(f"not a CRM shape: {shape}")
    folder = Path(folder)
    hubspot = shape == "fivetran_hubspot"
    if hubspot:
        main = _read(folder, "deal", required=True)
        _require(main, "deal_id")
        id_col, created_col, closed_col = "deal_id", "property_createdate", "property_closedate"
        currency_col = "property_deal_currency_code"
        owner_col = "owner_id" if "owner_id" in main.columns else "property_hubspot_owner_id"
        account_of, key_col = _hubspot_accounts(folder, options)
        stage_of = _hubspot_stages(folder, main)
    else:
        main = _read(folder, "opportunity", required=True)
        _require(main, "id", "account_id", "is_closed", "is_won")
        id_col, created_col, closed_col = "id", "created_date", "close_date"
        currency_col = "currency_iso_code"
        owner_col = "owner_id"
        account_of, key_col = _salesforce_accounts(folder, options)
        stage_of = None

    def field(option: str) -> str | None:
        name = _option_field(options, option)
        return None if name is None else _column(main, option, name, hubspot)

    change_col, mrr_col = field("crm_change_key"), field("crm_mrr_key")
    self_serve_col, movement_col = field("crm_self_serve"), field("crm_movement")
    self_serve_values = {str(v) for v in (options.get("crm_self_serve") or {}).get("values", [])}
    movement_map = {
        str(k): str(v) for k, v in ((options.get("crm_movement") or {}).get("map") or {}).items()
    }
    default_currency = (options.get("crm_currency") or "").strip().upper() or None

    counts = SourceCounts(read=len(main.rows))
    out: list[dict] = []
    quarantine: list[dict] = []

    def reject(row: dict, reason: str, column: str) -> None:
        counts.quarantined_by_reason[reason] = counts.quarantined_by_reason.get(reason, 0) + 1
        quarantine.append(
            {
                "table_name": main.name,
                "source_file": main.path.name,
                "row_number": row[ROW_NUMBER],
                "reason_code": reason,
                "reason_column": column,
                "raw_row": _raw_row(row),
            }
        )

    for row in main.rows:
        rule = _skip_rule(row)
        if rule:
            counts.skip(rule)
            continue
        record_id = _text(row.get(id_col))
        account = account_of(row)
        if account is None:
            reject(row, "unknown_reference", key_col)
            continue
        if hubspot:
            stage_row = stage_of(row)
            if stage_row is None:
                reject(row, "unknown_reference", "deal_pipeline_stage_id")
                continue
            closed, won = stage_row
        else:
            closed, won = _flag(row.get("is_closed")), _flag(row.get("is_won"))
            if closed is None and _text(row.get("is_closed")) is not None:
                reject(row, "bad_type", "is_closed")
                continue
        stage = "open" if not closed else "closed_won" if won else "closed_lost"
        currency = (_text(row.get(currency_col)) or "").strip().upper() or default_currency
        try:
            mrr = minor_units(row.get(mrr_col), currency or "") if mrr_col else None
        except ValueError:
            reject(row, "bad_type", mrr_col)
            continue
        origin = "sales"
        if self_serve_col and _text(row.get(self_serve_col)) in self_serve_values:
            origin = "self_serve_sync"
        movement = movement_map.get(_text(row.get(movement_col)) or "") if movement_col else None
        out.append(
            {
                "opportunity_id": record_id,
                "account_id": account,
                "change_id": _text(row.get(change_col)) if change_col else None,
                "origin": origin,
                "created_at": _text(row.get(created_col)),
                "closed_at": _text(row.get(closed_col)) if closed else None,
                "stage": stage,
                "movement_type": movement,
                "mrr_delta_minor": None if mrr is None else str(mrr),
                "currency": currency,
                "owner_id": _text(row.get(owner_col)),
                "_source_table": main.name,
            }
        )
    counts.mapped = len(out)
    schema = dict.fromkeys((*OUTPUT_COLUMNS, "_source_table"), pl.String)
    q_schema = {c: (pl.Int64 if c == "row_number" else pl.String) for c in QUARANTINE_COLUMNS}
    return ShapeOutput(
        tables={"crm_opportunities": pl.DataFrame(out, schema=schema, orient="row")},
        quarantine=pl.DataFrame(quarantine, schema=q_schema, orient="row"),
        sources={"crm_opportunities": {main.name: counts}},
    )


def _salesforce_accounts(folder: Path, options: dict):
    """opportunity row -> account_id (the account's key field), and that field's name."""
    accounts = _read(folder, "account", required=True)
    _require(accounts, "id")
    key = _option_field(options, "salesforce_account_key") or "id"
    key_col = _column(accounts, "salesforce_account_key", key, hubspot=False)
    by_id = {_text(r["id"]): _text(r.get(key_col)) for r in _live(accounts)}

    def account_of(row: dict) -> str | None:
        return by_id.get(_text(row.get("account_id")))

    return account_of, key_col


def _hubspot_accounts(folder: Path, options: dict):
    """deal row -> account_id (its primary company's key property, else the first
    company's by company id), and that property's column."""
    companies = _read(folder, "company", required=True)
    links = _read(folder, "deal_company", required=True)
    _require(companies, "id")
    _require(links, "deal_id", "company_id")
    key = _option_field(options, "hubspot_account_key") or "id"
    key_col = _column(companies, "hubspot_account_key", key, hubspot=True)
    key_of = {_text(r["id"]): _text(r.get(key_col)) for r in _live(companies)}

    def order(company_id: str) -> tuple:
        return (0, int(company_id), "") if company_id.isdigit() else (1, 0, company_id)

    chosen: dict[str, tuple] = {}  # deal -> (not primary, company order, company id)
    for link in _live(links):
        deal, company = _text(link.get("deal_id")), _text(link.get("company_id"))
        if deal is None or company is None:
            continue
        primary = (
            _flag(link.get("is_primary")) is True
            or _text(link.get("type_id")) == HUBSPOT_PRIMARY_COMPANY_TYPE
        )
        rank = (not primary, order(company), company)
        if deal not in chosen or rank < chosen[deal]:
            chosen[deal] = rank

    def account_of(row: dict) -> str | None:
        pick = chosen.get(_text(row.get("deal_id")))
        return None if pick is None else key_of.get(pick[2])

    return account_of, key_col


def _hubspot_stages(folder: Path, deals: _Table):
    """deal row -> (is_closed, closed_won) of its pipeline stage, None when unknown."""
    stages = _read(folder, "deal_pipeline_stage", required=True)
    _require(stages, "stage_id")
    flags: dict[tuple, tuple[bool, bool]] = {}
    for r in _live(stages):
        won = _flag(r.get("closed_won")) is True
        closed = _flag(r.get("is_closed"))
        if closed is None:  # older connectors: no is_closed column; won or 0% is closed
            try:
                zero = Decimal(_text(r.get("probability")) or "nan") == 0
            except InvalidOperation:
                zero = False
            closed = won or zero
        flags[(_text(r.get("pipeline_id")), _text(r["stage_id"]))] = (closed, won)
        flags.setdefault((None, _text(r["stage_id"])), (closed, won))

    def stage_of(row: dict) -> tuple[bool, bool] | None:
        stage = _text(row.get("deal_pipeline_stage_id"))
        pipeline = _text(row.get("deal_pipeline_id"))
        return flags.get((pipeline, stage)) or flags.get((None, stage))

    return stage_of
