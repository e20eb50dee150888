"""The dashboard's settings (``dashboards/config.toml``): headline KPIs, trends, targets and
the minimum count below which a rate says "too few". Labels, units and which way a
metric is good news come from the metric catalog, not from here."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError
from ..paths import project_dir

CONFIG_ENV = "UPGRADE_WAREHOUSE_DASHBOARD_CONFIG"
DEFAULT_TTL_SECONDS = 60
DEFAULT_MIN_COUNT = 30


@dataclass(frozen=True)
class Target:
    """A goal for one metric: at least ``minimum`` and/or at most ``maximum``."""

    metric_id: str
    minimum: float | None = None
    maximum: float | None = None
    note: str = ""

    def met(self, value: float | None) -> bool | None:
        """True/False, or None when the metric has no value."""
        if value is None:
            return None
        if self.minimum is not None and value < self.minimum:
            return False
        return self.maximum is None or value <= self.maximum


@dataclass(frozen=True)
class DashboardConfig:
    cache_ttl_seconds: float = DEFAULT_TTL_SECONDS
    headline: tuple[str, ...] = ()
    trends: tuple[str, ...] = ()
    # A rate over fewer cases than this says "too few" in segment views, compare mode
    # and cohort cells (the all-accounts metrics are always shown).
    min_count: int = DEFAULT_MIN_COUNT
    targets: dict[str, Target] = field(default_factory=dict)

    def target(self, metric_id: str) -> Target | None:
        return self.targets.get(metric_id)


def config_path() -> Path:
    override = os.environ.get(CONFIG_ENV)
    return Path(override) if override else project_dir() / "dashboards" / "config.toml"


def _number(value, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UserError(f"{where} must be a number, not {value!r}")
    return float(value)


def parse_config(data: dict, source: str = "config") -> DashboardConfig:
    """Validate the TOML document (raises :class:`UserError` naming the bad key)."""
    section = data.get("dashboard", {})
    ttl = _number(
        section.get("cache_ttl_seconds", DEFAULT_TTL_SECONDS),
        f"{source}: dashboard.cache_ttl_seconds",
    )
    min_count = section.get("min_count", DEFAULT_MIN_COUNT)
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        raise UserError(
            f"{source}: dashboard.min_count must be a whole number >= 1, not {min_count!r}"
        )
    lists = {}
    for key in ("headline", "trends"):
        value = section.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise UserError(f"{source}: dashboard.{key} must be a list of metric ids")
        lists[key] = value
    targets = {}
    for metric_id, spec in data.get("targets", {}).items():
        where = f"{source}: targets.{metric_id}"
        if not isinstance(spec, dict):
            raise UserError(f"{where} must be a table with min and/or max")
        unknown = set(spec) - {"min", "max", "note"}
        if unknown:
            raise UserError(f"{where}: unknown key {min(unknown)!r} (min, max, note)")
        minimum = _number(spec.get("min"), f"{where}.min")
        maximum = _number(spec.get("max"), f"{where}.max")
        if minimum is None and maximum is None:
            raise UserError(f"{where} needs min or max")
        targets[metric_id] = Target(metric_id, minimum, maximum, str(spec.get("note", "")))
    return DashboardConfig(
        cache_ttl_seconds=ttl,
        headline=tuple(lists["headline"]),
        trends=tuple(lists["trends"]),
        min_count=min_count,
        targets=targets,
    )


def load_config(path: Path | None = None) -> DashboardConfig:
    path = Path(path) if path is not None else config_path()
    if not path.is_file():
        return DashboardConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(data, str(path))
