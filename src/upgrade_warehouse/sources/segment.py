"""Segment and RudderStack warehouse tables -> product_events (sources.md "Segment and
RudderStack"; docs/sources.md).

The two tools land the same layout: ``tracks`` (one row per event), one table per event
named by the event's slug (its custom properties as columns) and ``groups`` (user ->
group, with the group's traits as columns). Everything is one DuckDB query over the
files where they lie (CSV landed once as text, as the loader does): the event tables are
unioned once (each with its slug and its properties assembled as JSON text), joined to
``tracks`` by (id, slug), and the events that name no account are matched to their
user's latest group by one ASOF join. Nothing runs per event or per row in Python.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import polars as pl

from ..errors import UserError
from ..loader import MAX_LINE_BYTES, duck_path, read_header
from .base import QUARANTINE_COLUMNS, ShapeOutput, SourceCounts

SHAPES = ("segment", "rudderstack")
ROW_NUMBER = "_row_number"  # the 1-based row of a landed file (file order)

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


_NUMERIC = re.compile(
    r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|DECIMAL.*)$"
)
_FLOAT = {"FLOAT", "DOUBLE"}


def _text(col: str, dtype: str) -> str:
    """SQL: the column as contract text (ISO 8601 UTC for timestamps)."""
    c = _q(col)
    if dtype == "VARCHAR":
        return c
    if dtype.startswith("TIMESTAMP"):
        ts = f"timezone('UTC', {c})" if "TIME ZONE" in dtype else c
        return f"strftime({ts}, '%Y-%m-%dT%H:%M:%S.%fZ')"
    return f"cast({c} as varchar)"


def _json_value(col: str, dtype: str) -> str:
    """SQL: the JSON text of one property value (numbers only for numeric columns)."""
    c = _q(col)
    if col in TEXT_PROPERTIES or dtype == "VARCHAR":
        return f"to_json(cast({c} as varchar))"
    if dtype in _FLOAT:
        return f"case when isfinite({c}) then to_json({c}) end"
    if _NUMERIC.match(dtype) or dtype == "BOOLEAN":
        return f"to_json({c})"
    if dtype.startswith("TIMESTAMP") or dtype == "DATE":
        return f"to_json({_text(col, dtype)})"
    return f"to_json({c})"


def _properties_sql(schema: dict[str, str]) -> str:
    """SQL: the JSON object of the table's custom, non-null columns, in column order."""
    parts = [
        f"case when {_q(col)} is not null then {_lit(json.dumps(col) + ':')} || {_json_value(col, dtype)} end"
        for col, dtype in schema.items()
        if col not in STANDARD_COLUMNS and not col.startswith("context_")
    ]
    if not parts:
        return "'{}'"
    return "'{' || concat_ws(',', " + ", ".join(parts) + ") || '}'"


def _present(expr: str) -> str:
    """SQL: the text, null when empty once trimmed (the contract's CSV null)."""
    return f"nullif(trim({expr}), '')"


def _file(folder: Path, table: str) -> Path | None:
    csv, parquet = folder / f"{table}.csv", folder / f"{table}.parquet"
    if csv.exists() and parquet.exists():
        raise UserError(f"{csv}: both {csv.name} and {parquet.name} present; keep one")
    return csv if csv.exists() else parquet if parquet.exists() else None


def _land(
    con: duckdb.DuckDBPyConnection, folder: Path, table: str, name: str
) -> tuple[Path, dict[str, str]] | None:
    """The landed table as the DuckDB view ``name`` with its row number (1-based, file
    order) in ``_row_number``; its path and column types. None when absent. CSV is read
    as text once into a temporary table (row number = insertion order); Parquet where it
    lies."""
    path = _file(folder, table)
    if path is None:
        return None
    header = read_header(con, path)
    if ROW_NUMBER in header or "file_row_number" in header:
        raise UserError(f"{path}: a column may not be named {ROW_NUMBER} or file_row_number")
    try:
        if path.suffix == ".csv":
            columns = "{" + ", ".join(f"{_lit(c)}: 'VARCHAR'" for c in header) + "}"
            con.execute(
                f"create temp table {name}_land as select * from read_csv({_lit(duck_path(path))}, header = true, "
                f"all_varchar = true, delim = ',', quote = '\"', escape = '\"', auto_detect = false, "
                f"max_line_size = {MAX_LINE_BYTES}, columns = {columns})"
            )
            con.execute(
                f"create temp view {name} as select *, rowid + 1 as {ROW_NUMBER} from {name}_land"
            )
        else:
            con.execute(
                f"create temp view {name} as select * exclude (file_row_number), file_row_number + 1 as {ROW_NUMBER} "
                f"from read_parquet({_lit(duck_path(path))}, file_row_number = true)"
            )
        described = con.execute(f"describe select * exclude ({ROW_NUMBER}) from {name}").fetchall()
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{path}: cannot read the file: {first}") from None
    return path, {col: dtype for col, dtype, *_ in described}


def map_events(folder: Path, shape: str, options: dict) -> ShapeOutput:
    """product_events (and the groups' traits) from a Segment / RudderStack layout."""
    if shape not in SHAPES:
        raise ValueError(f"not an events shape: {shape}")
    folder = Path(folder)
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        tracks = _land(con, folder, "tracks", "tracks_raw")
        if tracks is None:
            raise UserError(
                f"{folder / 'tracks.csv'}: missing (the {shape} source needs its tracks table)"
            )
        for col in ("id", "event", "timestamp"):
            if col not in tracks[1]:
                raise UserError(f"{tracks[0]}: missing required column {col}")
        return _map(con, folder, *tracks)
    finally:
        con.close()


def _map(
    con: duckdb.DuckDBPyConnection, folder: Path, tracks_path: Path, ts: dict[str, str]
) -> ShapeOutput:
    # the event tables: the files named by a tracks.event slug
    names = [
        r[0]
        for r in con.execute(
            f"select distinct {_text('event', ts['event'])} from tracks_raw where event is not null"
        ).fetchall()
    ]
    slugs = {n: slug(n) for n in names}
    con.execute("create temp table slugs (event varchar, slug varchar)")
    if slugs:
        con.executemany("insert into slugs values (?, ?)", list(slugs.items()))
    selects = []
    for i, name in enumerate(sorted(set(slugs.values()))):
        if not name or name in NOT_EVENT_TABLES:
            continue
        landed = _land(con, folder, name, f"event_table_{i}")
        if landed is None or "id" not in landed[1]:
            continue
        schema = landed[1]
        account = (
            _present(_text("account_id", schema["account_id"]))
            if "account_id" in schema
            else "null"
        )
        selects.append(
            f"select {_text('id', schema['id'])} as id, {_lit(name)} as slug, "
            f"{ROW_NUMBER} as rn, cast({account} as varchar) as account_id, "
            f"{_properties_sql(schema)} as properties from event_table_{i}"
        )
    if selects:
        # the first row with an id in its event table gives the event's properties
        event_rows = (
            "select id, slug, arg_min(account_id, rn) as account_id, arg_min(properties, rn) as properties "
            f"from ({' union all '.join(selects)}) group by id, slug"
        )
    else:
        event_rows = (
            "select null::varchar as id, null::varchar as slug, null::varchar as account_id, "
            "null::varchar as properties where false"
        )

    def tcol(name: str) -> str:
        return _present(_text(name, ts[name])) if name in ts else "null"

    def when(col: str, schema: dict[str, str], present) -> str:
        if schema[col].startswith("TIMESTAMP"):
            return f"cast({_q(col)} as timestamptz)"
        return f"try_cast({present(col)} as timestamptz)"

    groups = _land(con, folder, "groups", "groups_raw")
    groups_ok = groups is not None and {"group_id", "timestamp"} <= set(groups[1])
    if groups_ok:
        gs = groups[1]

        def gcol(name: str) -> str:
            return _present(_text(name, gs[name])) if name in gs else "null"

        traits = ", ".join(
            f"{gcol(t)} as {t}" if t in gs else f"null::varchar as {t}" for t in TRAITS
        )
        con.execute(
            # a groups row links its user_id and its anonymous_id (an event before the
            # user's identify has only the anonymous id)
            f"""create temp table groups_keyed as
            with g as (
                select {gcol("user_id")} as user_id, {gcol("anonymous_id")} as anonymous_id,
                       {when("timestamp", gs, gcol)} as ts, {gcol("group_id")} as group_id,
                       {ROW_NUMBER} as rn, {traits}
                from groups_raw
            )
            select 'u:' || user_id as user_key, * exclude (user_id, anonymous_id) from g where user_id is not null
            union all
            select 'a:' || anonymous_id as user_key, * exclude (user_id, anonymous_id) from g
            where anonymous_id is not null
            union all
            select null as user_key, * exclude (user_id, anonymous_id) from g
            where user_id is null and anonymous_id is null"""
        )
        # one row per (user, instant): the last in file order wins a tie
        group_join = """
            select t.rn, g.group_id from (
                select rn, user_key, try_cast(occurred_at as timestamptz) as ts
                from linked where account_id is null
            ) t
            asof join (
                select user_key, ts, arg_max(group_id, rn) as group_id from groups_keyed
                where user_key is not null and ts is not null and group_id is not null
                group by user_key, ts
            ) g on t.user_key = g.user_key and t.ts >= g.ts
            where t.user_key is not null and t.ts is not null"""
    else:
        group_join = "select null::bigint as rn, null::varchar as group_id where false"

    received = _text("received_at", ts["received_at"]) if "received_at" in ts else "null"
    cols = ", ".join(f"l.{c}" for c in OUTPUT_COLUMNS if c != "account_id")
    mapped = con.sql(
        f"""with e as ({event_rows}),
        t as (
            select {ROW_NUMBER} as rn, {_text("id", ts["id"])} as event_id, {_text("event", ts["event"])} as event,
                   {tcol("context_group_id")} as context_group_id,
                   coalesce({tcol("user_id")}, {tcol("anonymous_id")}) as user_id,
                   case when {tcol("user_id")} is not null then 'u:' || {tcol("user_id")}
                        else 'a:' || {tcol("anonymous_id")} end as user_key,
                   {_text("timestamp", ts["timestamp"])} as occurred_at, {received} as received_at
            from tracks_raw
        ),
        linked as (
            select t.rn, t.event_id, coalesce(e.account_id, t.context_group_id) as account_id, t.user_id, t.user_key,
                   s.slug as event_name, t.occurred_at, t.received_at, e.properties
            from t
            left join slugs s on s.event = t.event
            left join e on e.id = t.event_id and e.slug = s.slug
        ),
        by_group as ({group_join})
        select l.rn, l.event_id, coalesce(l.account_id, g.group_id) as account_id, {cols}
        from linked l left join by_group g on g.rn = l.rn
        order by l.rn"""
    ).pl()
    missing = mapped.filter(pl.col("account_id").is_null())
    events = mapped.filter(pl.col("account_id").is_not_null()) if missing.height else mapped
    events = events.select(*OUTPUT_COLUMNS, _source_table=pl.lit("tracks"))

    # events with no account: quarantined as they came (every column as text)
    con.register("missing_rows", missing.select("rn"))
    raw_row = (
        "to_json(struct_pack("
        + ", ".join(f"{_q(c)} := {_text(c, d)}" for c, d in ts.items())
        + "))"
    )
    quarantine = con.sql(
        f"""select 'tracks' as table_name, {_lit(tracks_path.name)} as source_file,
               t.{ROW_NUMBER} as row_number, 'missing_required' as reason_code,
               'account_id' as reason_column, cast({raw_row} as varchar) as raw_row
        from tracks_raw t semi join missing_rows f on f.rn = t.{ROW_NUMBER}
        order by t.{ROW_NUMBER}"""
    ).pl()
    quarantine = quarantine.select(list(QUARANTINE_COLUMNS))

    counts = SourceCounts(read=mapped.height, mapped=events.height)
    if quarantine.height:
        counts.quarantined_by_reason["missing_required"] = quarantine.height
    return ShapeOutput(
        tables={"product_events": events},
        quarantine=quarantine,
        sources={"product_events": {"tracks": counts}},
        group_traits=_group_traits(con) if groups_ok else None,
    )


def _group_traits(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """account_id (group_id) -> persona, acquisition_source, segment: per trait, the value
    of the group's latest ``groups`` row (by timestamp, then file order) that sets it."""
    parts = ", ".join(
        f"arg_max({t}, (ts, rn)) filter (where {t} is not null) as {t}" for t in TRAITS
    )
    return con.sql(
        f"""select group_id as account_id, {parts} from groups_keyed
        where group_id is not null group by group_id order by group_id"""
    ).pl()
