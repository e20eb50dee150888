"""Metric parameters (``shared/spec/metrics.md``), parsed from ``--var NAME=VALUE``.

``horizon_days`` (the win-back horizon, docs/winback.md) is parsed the same way and
passed to dbt, but it is not a metric parameter: it is not in the metrics JSON's
``parameters``; the win-back tables carry it.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from . import contract
from .errors import UserError
from .paths import currencies_file, project_dir


def _project_vars() -> dict:
    """The defaults: the ``vars`` of dbt_project.yml (one list of funnel steps, events and
    windows for dbt and for the CLI)."""
    import yaml

    with (project_dir() / "dbt_project.yml").open() as f:
        return yaml.safe_load(f)["vars"]


_DEFAULTS = _project_vars()
DEFAULT_FUNNEL_STEPS: tuple[str, ...] = tuple(_DEFAULTS["funnel_steps"])

INT_PARAMS = (
    "conversion_window_days",
    "activation_window_days",
    "amount_tolerance_minor",
    "horizon_days",
    "movers_min_count",
    "experiment_window_days",
    "experiment_min_accounts",
)
LIST_PARAMS = ("funnel_steps", "activation_events", "escalation_events", "experiment_events")


@dataclass(frozen=True)
class IntRange:
    """The range of an integer parameter, both ends allowed (docs/metrics.md "Parameter
    ranges"), checked before any work: every value fits a 32-bit integer, so it reaches
    dbt's ``| int`` and either engine's date arithmetic (timestamps end at 2100) intact."""

    low: int
    high: int
    unit: str

    def describe(self) -> str:
        return f"{self.low:,} to {self.high:,} {self.unit}"


# The range of every integer parameter, one line each: a new integer parameter adds its
# line here (tests/test_hostile_round3.py fails for one in INT_PARAMS without a range).
# Windows: 1 day to 10 years; counts: at least 1 (a bound far above any data set).
INT_RANGES: dict[str, IntRange] = {
    "conversion_window_days": IntRange(1, 3650, "days"),
    "activation_window_days": IntRange(1, 3650, "days"),
    "experiment_window_days": IntRange(1, 3650, "days"),
    "horizon_days": IntRange(1, 365, "days"),
    "amount_tolerance_minor": IntRange(0, 1_000_000_000, "minor units"),
    "experiment_min_accounts": IntRange(1, 1_000_000_000, "accounts"),
    "movers_min_count": IntRange(1, 1_000_000_000, "accounts"),
}


def var_help() -> str:
    """`build --var`'s help: the parameters and the range of each integer one."""
    ranges = ", ".join(
        f"{name} {INT_RANGES[name].low:,}-{INT_RANGES[name].high:,}"
        for name in INT_PARAMS
        if name in INT_RANGES
    )
    return (
        "Metric parameter NAME=VALUE (lists comma separated). Repeatable. Ranges: "
        f"{ranges} (docs/metrics.md)."
    )


PARAM_NAMES = (
    "conversion_window_days",
    "activation_window_days",
    "as_of",
    "reporting_currency",
    "funnel_steps",
    "activation_events",
    "escalation_events",
    "amount_tolerance_minor",
    "movers_min_count",
    "experiment_events",
    "experiment_window_days",
    "experiment_min_accounts",
)
# An event or step name in a list parameter (docs/security.md): letters and digits of any
# script, then also spaces and . : / - _ ' ( ) + & @ #, at most 200 characters. Real event
# names have dots, spaces, colons and slashes; an apostrophe is allowed too (the models
# escape every parameter as a SQL literal). Quotes, backslashes, semicolons, braces,
# control characters and anything else are rejected (exit 2) before dbt sees them.
EVENT_NAME_PATTERN = r"[\w$][\w .:/'()+&@#$-]{0,199}"

# Not metric parameters: accepted by `build --var`, passed to dbt, reported elsewhere.
WINBACK_PARAM_NAMES = ("horizon_days",)


@dataclass(frozen=True)
class Parameters:
    conversion_window_days: int = int(_DEFAULTS["conversion_window_days"])
    activation_window_days: int = int(_DEFAULTS["activation_window_days"])
    as_of: datetime | None = None  # None: computed from the data
    reporting_currency: str = str(_DEFAULTS["reporting_currency"])
    funnel_steps: tuple[str, ...] = DEFAULT_FUNNEL_STEPS
    activation_events: tuple[str, ...] = tuple(_DEFAULTS["activation_events"])
    escalation_events: tuple[str, ...] = tuple(_DEFAULTS["escalation_events"])
    amount_tolerance_minor: int = int(_DEFAULTS["amount_tolerance_minor"])
    # "What moved": both months' denominators at least this (metrics.md)
    movers_min_count: int = int(_DEFAULTS["movers_min_count"])
    # metrics.md "Experiments": exposure events, the window after exposure, the accounts
    # per side a comparison needs (enough_data)
    experiment_events: tuple[str, ...] = tuple(_DEFAULTS["experiment_events"])
    experiment_window_days: int = int(_DEFAULTS["experiment_window_days"])
    experiment_min_accounts: int = int(_DEFAULTS["experiment_min_accounts"])
    # win-back: self-serve upgrade within this many days of as_of
    horizon_days: int = int(_DEFAULTS["horizon_days"])

    def with_as_of(self, as_of: datetime) -> Parameters:
        return replace(self, as_of=as_of)

    def as_json(self) -> dict:
        """Every parameter, as the metrics JSON reports them."""
        out = {}
        for name in PARAM_NAMES:
            value = getattr(self, name)
            if isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, datetime):
                value = (
                    value.strftime("%Y-%m-%dT%H:%M:%S")
                    + (f".{value.microsecond:06d}" if value.microsecond else "")
                    + "Z"
                )
            out[name] = value
        return out

    def dbt_vars(self) -> dict:
        out = self.as_json()
        out.update({name: getattr(self, name) for name in WINBACK_PARAM_NAMES})
        if self.as_of is not None:
            out["as_of"] = self.as_of.strftime("%Y-%m-%d %H:%M:%S.%f")
        return out


TS_MIN = datetime.fromisoformat(contract.TS_MIN)
TS_MAX = datetime.fromisoformat(contract.TS_MAX)


def parse_timestamp(text: str, what: str) -> datetime:
    """An ISO 8601 timestamp; with an offset converted to UTC, without one taken as UTC."""
    try:
        ts = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"{what}: not an ISO 8601 timestamp: {text!r}") from None
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    if not TS_MIN <= ts < TS_MAX:
        raise UserError(
            f"{what}: {text!r} is outside the plausible range "
            f"{TS_MIN:%Y-%m-%d} to {TS_MAX:%Y-%m-%d} (docs/loader.md)"
        )
    return ts


def known_currencies() -> set[str]:
    with open(currencies_file(), newline="") as f:
        return {row["currency"] for row in csv.DictReader(f)}


def _whole_number(name: str, value: str) -> int:
    """An integer parameter within its range (``INT_RANGES``), or one line naming it."""
    bounds = INT_RANGES.get(name, IntRange(0, 2**31 - 1, ""))
    shown = repr(value) if len(value) <= 24 else repr(value[:20] + "...")
    expected = f"--var {name}: expected a whole number from {bounds.describe().strip()}"
    # Digits only (no sign, no 1_000, no 1e3); past 12 digits it is out of range anyway
    # (and Python's int() stops at 4300 digits).
    if not re.fullmatch(r"[0-9]+", value):
        raise UserError(f"{expected}, got {shown}")
    number = int(value) if len(value.lstrip("0")) <= 12 else bounds.high + 1
    if not bounds.low <= number <= bounds.high:
        raise UserError(f"{expected}, got {shown}")
    return number


def parse_vars(items: list[str]) -> Parameters:
    """``NAME=VALUE`` strings to Parameters; an unknown name or a bad value is a UserError."""
    values: dict = {}
    for item in items:
        if "=" not in item:
            raise UserError(f"--var {item!r}: expected NAME=VALUE")
        name, value = (s.strip() for s in item.split("=", 1))
        if name not in PARAM_NAMES + WINBACK_PARAM_NAMES:
            known = ", ".join(PARAM_NAMES + WINBACK_PARAM_NAMES)
            raise UserError(f"--var {name}: unknown parameter (known: {known})")
        if name in INT_PARAMS:
            values[name] = _whole_number(name, value)
        elif name in LIST_PARAMS:
            parts = tuple(p.strip() for p in value.split(","))
            if not value or any(not p for p in parts):
                raise UserError(f"--var {name}: expected a comma-separated list of names")
            for part in parts:
                if not re.fullmatch(EVENT_NAME_PATTERN, part):
                    raise UserError(
                        f"--var {name}: {part!r} is not an event name (letters, digits, then "
                        "spaces and . : / - _ ' ( ) + & @ #, at most 200 characters)"
                    )
            values[name] = parts
        elif name == "as_of":
            values[name] = parse_timestamp(value, "--var as_of")
        elif name == "reporting_currency":
            if value not in known_currencies():
                raise UserError(f"--var reporting_currency: unknown ISO 4217 code {value!r}")
            values[name] = value
    return Parameters(**values)
