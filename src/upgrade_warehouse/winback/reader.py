"""Reading the win-back results of a published warehouse (``marts.winback_*``), for the
``winback`` command and the dashboard, and the CSV both of them export."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import duckdb

from ..errors import UserError
from ..exports import safe_text

TABLES = ("winback_account_scores", "winback_model", "winback_calibration")
SCORE_COLUMNS = (
    "rank",
    "account_id",
    "activated_at",
    "probability",
    "reasons",
    "play_trigger",
    "play_owner",
    "play_channel",
    "segment",
    "persona",
    "plan_id",
    "account_manager_id",
)
# The keys of an account in ``winback --format json``: cli.md's four first, then the
# CSV's other columns (the rank is the list's order).
JSON_ACCOUNT_KEYS = SCORE_COLUMNS[1:]


def format_ts(ts: datetime | None) -> str | None:
    if ts is None:
        return None
    text = ts.strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{ts.microsecond:06d}" if ts.microsecond else "") + "Z"


def missing_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts'"
    ).fetchall()
    present = {r[0] for r in rows}
    return [t for t in TABLES if t not in present]


def check_built(con: duckdb.DuckDBPyConnection, warehouse: Path | str) -> None:
    """A UserError when the warehouse was built before win-back existed."""
    if missing_tables(con):
        raise UserError(
            f"{warehouse} has no win-back results (it was built before win-back existed): "
            "rebuild it with `upgrade-warehouse build`"
        )


def model_info(con: duckdb.DuckDBPyConnection) -> dict:
    cur = con.execute("select * from marts.winback_model")
    names = [d[0] for d in cur.description]
    return dict(zip(names, cur.fetchall()[0]))


def read_winback(con: duckdb.DuckDBPyConnection, top: int | None = None) -> dict:
    """The ``winback --format json`` object of cli.md: every listed account (or the
    ``top`` first), highest probability first. Each account carries cli.md's keys, then
    the CSV's other columns under the same names (the play, segment, persona, plan and
    account manager); ``rank`` is the list's order."""
    model = model_info(con)
    return {
        "as_of": format_ts(model["as_of"]),
        "horizon_days": int(model["horizon_days"]),
        "model": {"auc": model["auc"], "validated_on": model["validated_on"]},
        "accounts": [
            {c: format_ts(r[c]) if c == "activated_at" else r[c] for c in JSON_ACCOUNT_KEYS}
            for r in read_scores(con, top)
        ],
    }


def read_scores(con: duckdb.DuckDBPyConnection, top: int | None = None) -> list[dict]:
    """The listed accounts with their play and attributes (``SCORE_COLUMNS``)."""
    limit = "" if top is None else f" limit {int(top)}"
    cur = con.execute(
        f"select {', '.join(SCORE_COLUMNS)} from marts.winback_account_scores order by rank{limit}"
    )
    out = []
    for row in cur.fetchall():
        record = dict(zip(SCORE_COLUMNS, row))
        record["reasons"] = json.loads(record["reasons"])
        out.append(record)
    return out


def to_csv(records: list[dict]) -> str:
    """One row per account, ``SCORE_COLUMNS`` in order; reasons joined with "; "."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(SCORE_COLUMNS)
    for r in records:
        values = []
        for c in SCORE_COLUMNS:
            v = r.get(c)
            if c == "reasons":
                v = "; ".join(v or [])
            elif c == "activated_at":
                v = format_ts(v)
            values.append("" if v is None else safe_text(v))
        writer.writerow(values)
    return buf.getvalue()
