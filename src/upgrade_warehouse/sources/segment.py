"""Segment and RudderStack warehouse tables -> product_events (sources.md "Segment and
RudderStack"; docs/sources.md).

The two tools land the same layout: ``tracks`` (one row per event), one table per event
named by the event's slug (its custom properties as columns) and ``groups`` (user ->
group, with the group's traits as columns). Everything is one DuckDB query over the
landed frames: the event tables are unioned once (each with its slug and its properties
assembled as JSON text), joined to ``tracks`` by (id, slug), and the events that name no
account are matched to their user's latest group by one ASOF join. Nothing runs per
event or per row in Python.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import polars as pl

from ..errors import UserError
from .base import QUARANTINE_COLUMNS, ShapeOutput, SourceCounts
from .landed import ROW_NUMBER, landed_file, read_landed

SHAPES = ("segment", "rudderstack")

# columns of an event table that are not custom properties (sources.md), besides context_*
STANDARD_COLUMNS = frozenset(
    {
        "id",
        "anonymous_id",
        "user_id",
        "event",
        "event_text",
        "timestamp",
        "original_timestamp",
        "sent_at",
        "received_at",
        "uuid",
        "uuid_ts",
        "loaded_at",
        "channel",
        "account_id",
        # the loaders' own bookkeeping columns (Segment, RudderStack, Fivetran, Airbyte)
        "_fivetran_synced",
        "_airbyte_extracted_at",
        ROW_NUMBER,
    }
)
# properties that are always text, whatever their landed type (sources.md)
TEXT_PROPERTIES = frozenset({"experiment_id", "variation_id"})
# tables of the layout that are never event tables, even if an event is named so
NOT_EVENT_TABLES = frozenset({"tracks", "groups", "identifies"})
TRAITS = ("persona", "acquisition_source", "segment")
OUTPUT_COLUMNS = (
    "event_id",
    "account_id",
    "user_id",
    "event_name",
    "occurred_at",
    "received_at",
    "properties",
)


def slug(name: str | None) -> str | None:
    """The warehouse name of an event: "Upgrade Intent" -> ``upgrade_intent``,
    "UpgradeIntent" -> ``upgrade_intent``, "sign-up / start" -> ``sign_up_start``
    (camelCase split, runs of other characters -> one ``_``, trimmed, lower case)."""
    if name is None:
        return None
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _text(col: str, dtype: pl.DataType) -> str:
    """SQL: the column as contract text (ISO 8601 UTC for timestamps)."""
    c = _q(col)
    if dtype == pl.String:
        return c
    if isinstance(dtype, pl.Datetime):
        ts = f"timezone('UTC', {c})" if dtype.time_zone else c
        return f"strftime({ts}, '%Y-%m-%dT%H:%M:%S.%fZ')"
    return f"cast({c} as varchar)"


def _json_value(col: str, dtype: pl.DataType) -> str:
    """SQL: the JSON text of one property value (numbers only for numeric columns)."""
    c = _q(col)
    if col in TEXT_PROPERTIES or dtype == pl.String:
        return f"to_json(cast({c} as varchar))"
    if dtype.is_float():
        return f"case when isfinite({c}) then to_json({c}) end"
    if dtype.is_numeric() or dtype == pl.Boolean:
        return f"to_json({c})"
    if isinstance(dtype, pl.Datetime | pl.Date):
        return f"to_json({_text(col, dtype)})"
    return f"to_json({c})"


def _properties_sql(frame: pl.DataFrame) -> str:
    """SQL: the JSON object of the frame's custom, non-null columns, in column order."""
    parts = [
        f"case when {_q(col)} is not null then {_lit(json.dumps(col) + ':')} || {_json_value(col, dtype)} end"
        for col, dtype in frame.schema.items()
        if col not in STANDARD_COLUMNS and not col.startswith("context_")
    ]
    if not parts:
        return "'{}'"
    return "'{' || concat_ws(',', " + ", ".join(parts) + ") || '}'"


def _present(expr: str) -> str:
    """SQL: the text, null when empty once trimmed (the contract's CSV null)."""
    return f"nullif(trim({expr}), '')"


def _require(frame: pl.DataFrame, path: Path, columns: tuple[str, ...]) -> None:
    for col in columns:
        if col not in frame.columns:
            raise UserError(f"{path}: missing required column {col}")


def map_events(folder: Path, shape: str, options: dict) -> ShapeOutput:
    """product_events (and the groups' traits) from a Segment / RudderStack layout."""
    if shape not in SHAPES:
        raise ValueError(f"not an events shape: {shape}")
    folder = Path(folder)
    tracks = read_landed(folder, "tracks")
    if tracks is None:
        raise UserError(f"{folder / 'tracks.csv'}: missing (the {shape} source needs its tracks table)")
    tracks_path = landed_file(folder, "tracks")
    _require(tracks, tracks_path, ("id", "event", "timestamp"))

    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        return _map(con, folder, tracks, tracks_path)
    finally:
        con.close()


def _map(con: duckdb.DuckDBPyConnection, folder: Path, tracks: pl.DataFrame, tracks_path: Path) -> ShapeOutput:
    ts = tracks.schema
    con.register("tracks_raw", tracks)

    # the event tables: the files named by a tracks.event slug
    names = tracks.get_column("event").drop_nulls().unique().to_list()
    slugs = pl.DataFrame(
        {"event": [str(n) for n in names], "slug": [slug(str(n)) for n in names]},
        schema={"event": pl.String, "slug": pl.String},
    )
    con.register("slugs", slugs)
    selects = []
    for i, name in enumerate(sorted(set(slugs.get_column("slug").to_list()))):
        if not name or name in NOT_EVENT_TABLES:
            continue
        frame = read_landed(folder, name)
        if frame is None or "id" not in frame.columns:
            continue
        view = f"event_table_{i}"
        con.register(view, frame)
        account = _present(_text("account_id", frame.schema["account_id"])) if "account_id" in frame.columns else "null"
        selects.append(
            f"select {_text('id', frame.schema['id'])} as id, {_lit(name)} as slug, "
            f"{ROW_NUMBER} as rn, cast({account} as varchar) as account_id, "
            f"{_properties_sql(frame)} as properties from {view}"
        )
    if selects:
        events_sql = " union all ".join(selects)
        # the first row with an id in its event table gives the event's properties
        event_rows = (
            f"select id, slug, arg_min(account_id, rn) as account_id, arg_min(properties, rn) as properties "
            f"from ({events_sql}) group by id, slug"
        )
    else:
        event_rows = "select null::varchar as id, null::varchar as slug, null::varchar as account_id, null::varchar as properties where false"

    def tcol(name: str) -> str:
        return _present(_text(name, ts[name])) if name in ts else "null"

    user_key = f"coalesce({tcol('user_id')}, {tcol('anonymous_id')})"
    groups = read_landed(folder, "groups")
    groups_ok = groups is not None and {"group_id", "timestamp"} <= set(groups.columns)
    if groups_ok:
        gs = groups.schema
        con.register("groups_raw", groups)

        def gcol(name: str) -> str:
            return _present(_text(name, gs[name])) if name in gs else "null"

        g_time = "timestamp" if isinstance(gs["timestamp"], pl.Datetime) else f"try_cast({gcol('timestamp')} as timestamptz)"
        con.execute(
            f"""create temp table groups_keyed as
            select coalesce({gcol("user_id")}, {gcol("anonymous_id")}) as user_key,
                   cast({g_time} as timestamptz) as ts, {gcol("group_id")} as group_id, {ROW_NUMBER} as rn
            from groups_raw"""
        )
        # one row per (user, instant): the last in file order wins a tie
        group_join = """
            select t.rn, g.group_id from (select * from linked where account_id is null) t
            asof left join (
                select user_key, ts, arg_max(group_id, rn) as group_id from groups_keyed
                where user_key is not null and ts is not null and group_id is not null
                group by user_key, ts
            ) g on t.user_key = g.user_key and t.ts >= g.ts
            where t.user_key is not null and t.ts is not null"""
    else:
        group_join = "select null::bigint as rn, null::varchar as group_id where false"

    t_time = "timestamp" if isinstance(ts["timestamp"], pl.Datetime) else f"try_cast({tcol('timestamp')} as timestamptz)"
    con.execute(
        f"""create temp table linked as
        with e as ({event_rows}),
        t as (
            select {ROW_NUMBER} as rn, {_text("id", ts["id"])} as event_id, {_text("event", ts["event"])} as event,
                   {tcol("context_group_id")} as context_group_id, {user_key} as user_key,
                   cast({t_time} as timestamptz) as ts, {_text("timestamp", ts["timestamp"])} as occurred_at,
                   {_text("received_at", ts["received_at"]) if "received_at" in ts else "null"} as received_at
            from tracks_raw
        )
        select t.rn, t.event_id, coalesce(e.account_id, t.context_group_id) as account_id, t.user_key, t.ts,
               s.slug as event_name, t.occurred_at, t.received_at, e.properties
        from t
        left join slugs s on s.event = t.event
        left join e on e.id = t.event_id and e.slug = s.slug"""
    )
    con.execute(
        f"""create temp table final as
        select l.rn, l.event_id, coalesce(l.account_id, g.group_id) as account_id, l.user_key as user_id,
               l.event_name, l.occurred_at, l.received_at, l.properties
        from linked l left join ({group_join}) g on g.rn = l.rn"""
    )
    cols = ", ".join(OUTPUT_COLUMNS)
    events = con.sql(
        f"select {cols}, 'tracks' as _source_table from final where account_id is not null order by rn"
    ).pl()

    # events with no account: quarantined as they came (every column as text)
    raw_cols = [c for c in tracks.columns if c != ROW_NUMBER]
    raw_row = "to_json(struct_pack(" + ", ".join(f"{_q(c)} := {_text(c, ts[c])}" for c in raw_cols) + "))"
    quarantine = con.sql(
        f"""select 'tracks' as table_name, {_lit(tracks_path.name)} as source_file,
               t.{ROW_NUMBER} as row_number, 'missing_required' as reason_code,
               'account_id' as reason_column, cast({raw_row} as varchar) as raw_row
        from tracks_raw t semi join (select rn from final where account_id is null) f
          on f.rn = t.{ROW_NUMBER}
        order by t.{ROW_NUMBER}"""
    ).pl()
    quarantine = quarantine.select(list(QUARANTINE_COLUMNS))

    counts = SourceCounts(read=tracks.height, mapped=events.height)
    if quarantine.height:
        counts.quarantined_by_reason["missing_required"] = quarantine.height
    return ShapeOutput(
        tables={"product_events": events},
        quarantine=quarantine,
        sources={"product_events": {"tracks": counts}},
        group_traits=_group_traits(con, groups) if groups_ok else None,
    )


def _group_traits(con: duckdb.DuckDBPyConnection, groups: pl.DataFrame) -> pl.DataFrame:
    """account_id (group_id) -> persona, acquisition_source, segment: per trait, the value
    of the group's latest ``groups`` row (by timestamp, then file order) that sets it."""
    gs = groups.schema
    parts = []
    for trait in TRAITS:
        if trait in gs:
            value = _present(_text(trait, gs[trait]))
            parts.append(f"arg_max({value}, (g.ts, g.rn)) filter (where {value} is not null) as {trait}")
        else:
            parts.append(f"null::varchar as {trait}")
    return con.sql(
        f"""select g.group_id as account_id, {", ".join(parts)}
        from groups_keyed g join groups_raw r on r.{ROW_NUMBER} = g.rn
        where g.group_id is not null group by g.group_id order by g.group_id"""
    ).pl()
