"""``sources.yml``: which landed sources a build reads, and how (docs/sources.md).

Read and validated before any work: an unknown role, shape or option, a path that does
not exist, a bad option value or two sources for one contract table is a
:class:`UserError` (exit 2) with one line naming the key. Paths are relative to the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import contract
from ..errors import UserError

SOURCES_FILE = "sources.yml"

# role -> shape -> the contract tables the shape writes
SHAPES: dict[str, dict[str, tuple[str, ...]]] = {
    "billing": {
        "fivetran_stripe": (
            "accounts",
            "plans",
            "subscription_changes",
            "invoice_lines",
            "payment_attempts",
        ),
        "airbyte_stripe": (
            "accounts",
            "plans",
            "subscription_changes",
            "invoice_lines",
            "payment_attempts",
        ),
    },
    "events": {"segment": ("product_events",), "rudderstack": ("product_events",)},
    "crm": {
        "fivetran_salesforce": ("crm_opportunities",),
        "fivetran_hubspot": ("crm_opportunities",),
    },
}
ROLES = ("billing", "events", "crm", "contract", "plans", "options")
INITIATORS = ("customer", "sales", "system")
MOVEMENTS = contract.MOVEMENTS

# A landed column name or a metadata key: letters, digits, _ . - (no quotes, no spaces).
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,127}")
_METADATA = re.compile(r"metadata\.[A-Za-z0-9_\-][A-Za-z0-9_.\-]{0,127}")


# raw.source_report: one row per (contract table, source table) of a mapped build
SOURCE_REPORT_COLUMNS = (
    ("table_name", "varchar"),
    ("source_table", "varchar"),
    ("source_shape", "varchar"),
    ("rows_read", "bigint"),
    ("rows_mapped", "bigint"),
    ("rows_skipped", "bigint"),
    ("rows_quarantined", "bigint"),
    ("skipped_by_rule", "varchar"),
    ("quarantined_by_reason", "varchar"),
)


def create_source_report(con) -> None:
    """``raw.source_report``, empty (a build without sources.yml keeps it empty)."""
    cols = ", ".join(f"{n} {t}" for n, t in SOURCE_REPORT_COLUMNS)
    con.execute(f"create table if not exists raw.source_report ({cols})")


@dataclass(frozen=True)
class SourceRole:
    role: str
    shape: str
    path: Path


@dataclass
class SourcesConfig:
    file: Path
    roles: dict[str, SourceRole] = field(default_factory=dict)  # billing, events, crm
    contract_path: Path | None = None
    contract_tables: dict[str, Path] = field(default_factory=dict)  # table -> file
    plans_overlay: Path | None = None
    options: dict = field(default_factory=dict)

    def provider(self) -> dict[str, str]:
        """contract table -> what provides it (a role, or ``contract``)."""
        out = {}
        for role in self.roles.values():
            for table in SHAPES[role.role][role.shape]:
                out[table] = role.role
        for table in self.contract_tables:
            out[table] = "contract"
        return out


def _fail(key: str, message: str) -> UserError:
    return UserError(f"sources.yml: {key}: {message}")


def _field_value(key: str, value, *, metadata: bool = False) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(f"options.{key}", f"expected a column name, got {value!r}")
    value = value.strip()
    if metadata and value.startswith("metadata."):
        if not _METADATA.fullmatch(value):
            raise _fail(f"options.{key}", f"not a metadata key: {value!r}")
        return value
    if not _FIELD.fullmatch(value):
        raise _fail(f"options.{key}", f"not a column name: {value!r}")
    return value


def _bool(key: str, value) -> bool:
    if isinstance(value, bool):
        return value
    raise _fail(f"options.{key}", f"expected true or false, got {value!r}")


def _currency(key: str, value) -> str:
    from ..currencies import exponents

    if not isinstance(value, str) or value.strip().upper() not in exponents():
        raise _fail(f"options.{key}", f"not an ISO 4217 currency code: {value!r}")
    return value.strip().upper()


def _initiated_by(value) -> str:
    if isinstance(value, str) and value.strip() in INITIATORS:
        return value.strip()
    if isinstance(value, str) and _METADATA.fullmatch(value.strip()):
        return value.strip()
    raise _fail(
        "options.initiated_by",
        f"expected customer, sales, system or metadata.<key>, got {value!r}",
    )


def _self_serve(value) -> dict:
    if not isinstance(value, dict) or set(value) - {"field", "values"} or "field" not in value:
        raise _fail("options.crm_self_serve", "expected {field: <column>, values: [...]}")
    values = value.get("values", [])
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list) or not all(isinstance(v, str | int) for v in values):
        raise _fail("options.crm_self_serve.values", "expected a list of values")
    return {
        "field": _field_value("crm_self_serve.field", value["field"]),
        "values": [str(v) for v in values],
    }


def _movement(value) -> dict:
    if not isinstance(value, dict) or set(value) - {"field", "map"} or "field" not in value:
        raise _fail("options.crm_movement", "expected {field: <column>, map: {value: movement}}")
    mapping = value.get("map", {}) or {}
    if not isinstance(mapping, dict):
        raise _fail("options.crm_movement.map", "expected a mapping of value: movement")
    out = {}
    for k, v in mapping.items():
        if v not in MOVEMENTS:
            raise _fail(
                f"options.crm_movement.map.{k}",
                f"{v!r} is not one of {', '.join(MOVEMENTS)}",
            )
        out[str(k)] = v
    return {"field": _field_value("crm_movement.field", value["field"]), "map": out}


def default_options(reporting_currency: str = "USD") -> dict:
    return {
        "livemode": True,
        "account_key": "id",
        "initiated_by": "customer",
        "salesforce_account_key": "account_id_c",
        "hubspot_account_key": "account_id",
        "crm_change_key": None,
        "crm_mrr_key": None,
        "crm_currency": reporting_currency,
        "crm_self_serve": None,
        "crm_movement": None,
    }


_VALIDATORS = {
    "livemode": lambda v: _bool("livemode", v),
    "account_key": lambda v: _field_value("account_key", v, metadata=True),
    "initiated_by": _initiated_by,
    "salesforce_account_key": lambda v: _field_value("salesforce_account_key", v),
    "hubspot_account_key": lambda v: _field_value("hubspot_account_key", v),
    "crm_change_key": lambda v: _field_value("crm_change_key", v),
    "crm_mrr_key": lambda v: _field_value("crm_mrr_key", v),
    "crm_currency": lambda v: _currency("crm_currency", v),
    "crm_self_serve": _self_serve,
    "crm_movement": _movement,
}
OPTION_KEYS = tuple(_VALIDATORS)


def _path(base: Path, key: str, value, *, folder: bool) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise _fail(key, f"expected a path, got {value!r}")
    path = (base / value.strip()).resolve()
    if folder and not path.is_dir():
        raise _fail(key, f"folder not found: {path}")
    if not folder and not path.is_file():
        raise _fail(key, f"file not found: {path}")
    return path


def find_sources_file(data_dir: Path | None, sources: Path | None) -> Path | None:
    """``--sources FILE``, else ``<data dir>/sources.yml`` when present, else None."""
    if sources is not None:
        if not Path(sources).is_file():
            raise UserError(f"--sources {sources}: file not found")
        return Path(sources)
    if data_dir is not None and (Path(data_dir) / SOURCES_FILE).is_file():
        return Path(data_dir) / SOURCES_FILE
    return None


def load_config(path: Path, reporting_currency: str = "USD") -> SourcesConfig:
    """Read and validate ``sources.yml`` (UserError naming the key on any problem)."""
    import yaml

    path = Path(path).resolve()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the file ({exc})") from None
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0]
        raise UserError(f"{path}: not valid YAML ({first})") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise UserError(f"{path}: expected a mapping of roles (billing, events, crm, ...)")
    base = path.parent
    cfg = SourcesConfig(file=path)
    for key in raw:
        if key not in ROLES:
            raise _fail(str(key), f"unknown key (expected one of {', '.join(ROLES)})")
    for role in ("billing", "events", "crm"):
        if role not in raw or raw[role] is None:
            continue
        value = raw[role]
        if not isinstance(value, dict):
            raise _fail(role, "expected {shape: ..., path: ...}")
        for k in value:
            if k not in ("shape", "path"):
                raise _fail(f"{role}.{k}", "unknown key (expected shape, path)")
        shape = value.get("shape")
        if shape not in SHAPES[role]:
            raise _fail(
                f"{role}.shape", f"unknown shape {shape!r} (expected {', '.join(SHAPES[role])})"
            )
        cfg.roles[role] = SourceRole(
            role, shape, _path(base, f"{role}.path", value.get("path"), folder=True)
        )
        _check_landed(role, shape, cfg.roles[role].path)
    if raw.get("contract") is not None:
        value = raw["contract"]
        if isinstance(value, str):
            value = {"path": value}
        if not isinstance(value, dict) or set(value) - {"path"}:
            raise _fail("contract", "expected {path: ...}")
        cfg.contract_path = _path(base, "contract.path", value.get("path"), folder=True)
        cfg.contract_tables = _contract_tables(cfg.contract_path)
    if raw.get("plans") is not None:
        cfg.plans_overlay = _path(base, "plans", raw["plans"], folder=False)
        if cfg.plans_overlay.suffix not in (".csv", ".parquet"):
            raise _fail("plans", "expected a .csv or .parquet file")
    options = default_options(reporting_currency)
    given = raw.get("options") or {}
    if not isinstance(given, dict):
        raise _fail("options", "expected a mapping of option: value")
    for key, value in given.items():
        if key not in _VALIDATORS:
            raise _fail(
                f"options.{key}", f"unknown option (expected one of {', '.join(OPTION_KEYS)})"
            )
        options[key] = None if value is None and key.startswith("crm_") else _VALIDATORS[key](value)
    if options["crm_currency"] is None:
        options["crm_currency"] = reporting_currency
    cfg.options = options
    _check_tables(cfg)
    return cfg


# The landed tables a shape cannot do without (one of each tuple), beside its folder.
NEEDED = {
    "fivetran_stripe": (("customer",), ("price", "plan"), ("subscription_history", "subscription")),
    "airbyte_stripe": (("customers",), ("prices", "plans"), ("subscriptions",)),
}


def _check_landed(role: str, shape: str, folder: Path) -> None:
    for names in NEEDED.get(shape, ()):
        files = [folder / f"{n}.{ext}" for n in names for ext in ("csv", "parquet")]
        if not any(f.is_file() for f in files):
            raise _fail(
                f"{role}.path",
                f"{' or '.join(n + '.csv' for n in names)} (or .parquet) not found in {folder}",
            )


def _contract_tables(folder: Path) -> dict[str, Path]:
    out = {}
    for table in contract.TABLES:
        files = [
            p
            for p in (folder / f"{table.name}.csv", folder / f"{table.name}.parquet")
            if p.is_file()
        ]
        if len(files) == 2:
            raise _fail(
                "contract.path", f"{table.name} given twice (as CSV and as Parquet) in {folder}"
            )
        if files:
            out[table.name] = files[0]
    return out


def _check_tables(cfg: SourcesConfig) -> None:
    seen: dict[str, str] = {}
    for role in cfg.roles.values():
        for table in SHAPES[role.role][role.shape]:
            seen[table] = role.role
    for table, file in cfg.contract_tables.items():
        if table in seen:
            raise _fail(
                "contract.path",
                f"{file.name}: table {table!r} has two sources ({seen[table]} and contract); "
                "keep one",
            )
        seen[table] = "contract"
    if cfg.plans_overlay is not None and "plans" not in seen:
        raise _fail("plans", "an overlay needs a billing source (it overrides its plans)")
    missing = [t.name for t in contract.TABLES if t.required and t.name not in seen]
    if missing:
        role = "events" if missing == ["product_events"] else "billing"
        raise _fail(
            role,
            f"no source provides the required table(s) {', '.join(missing)} "
            "(add this role, or the contract-shaped file under contract.path)",
        )
