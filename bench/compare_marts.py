"""Compare two DuckDB warehouses table by table (``EXCEPT ALL`` both ways): the check
that a change of the build's code changed none of its output (docs/architecture.md).

usage: python bench/compare_marts.py OLD.duckdb NEW.duckdb [--schemas marts,raw,...]

One line per table that differs (rows only in the old file, only in the new one, or a
different column set) or is missing from either, then ``N tables in both, M differ``.
Exit 1 when any table differs or is missing, 0 otherwise. Columns are compared by name
(the common ones). ``quality.gate_run`` is never compared (it holds the build time).
"""

from __future__ import annotations

import argparse
import sys

import duckdb

SCHEMAS = ("marts", "raw", "reference", "staging", "intermediate")
SKIP = {("quality", "gate_run")}  # the build time differs on every build


def _tables(con: duckdb.DuckDBPyConnection, db: str, schemas: list[str]) -> set[tuple[str, str]]:
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables where table_catalog = ?",
        [db],
    ).fetchall()
    return {(s, t) for s, t in rows if s in schemas} - SKIP


def _columns(con: duckdb.DuckDBPyConnection, db: str, schema: str, table: str) -> list[str]:
    rows = con.execute(
        "select column_name from information_schema.columns where table_catalog = ? "
        "and table_schema = ? and table_name = ? order by ordinal_position",
        [db, schema, table],
    ).fetchall()
    return [r[0] for r in rows]


def _only_in(con, first: str, second: str, schema: str, table: str, cols: list[str]) -> int:
    """Rows of ``first`` that ``second`` does not have (counted with their multiplicity)."""
    sel = ", ".join(f'"{c}"' for c in cols)
    name = f'"{schema}"."{table}"'
    return con.execute(
        f"select count(*) from (select {sel} from {first}.{name} "
        f"except all select {sel} from {second}.{name})"
    ).fetchone()[0]


def compare(old: str, new: str, schemas: list[str]) -> int:
    """Print the differences; return how many tables differ or are missing."""
    con = duckdb.connect()
    con.execute("attach ? as o (read_only)", [old])
    con.execute("attach ? as n (read_only)", [new])
    in_old, in_new = _tables(con, "o", schemas), _tables(con, "n", schemas)
    bad = 0
    for schema, table in sorted(in_old ^ in_new):
        bad += 1
        print(f"missing in {'new' if (schema, table) in in_old else 'old'}: {schema}.{table}")
    for schema, table in sorted(in_old & in_new):
        co, cn = _columns(con, "o", schema, table), _columns(con, "n", schema, table)
        common = [c for c in co if c in cn]
        a = _only_in(con, "o", "n", schema, table, common)
        b = _only_in(con, "n", "o", schema, table, common)
        note = ""
        if co != cn:
            note = f" (columns: only old {sorted(set(co) - set(cn))}, only new "
            note += (
                f"{sorted(set(cn) - set(co))}, same order {common == [c for c in cn if c in co]})"
            )
        if a or b or note:
            bad += 1
            print(f"DIFFERENT {schema}.{table}: {a} rows only in old, {b} only in new{note}")
    print(f"{len(in_old & in_new)} tables in both, {bad} differ")
    return bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", help="the warehouse built before the change")
    parser.add_argument("new", help="the warehouse built after it")
    parser.add_argument("--schemas", default=",".join(SCHEMAS), help="comma-separated")
    args = parser.parse_args(argv)
    return 1 if compare(args.old, args.new, args.schemas.split(",")) else 0


if __name__ == "__main__":
    sys.exit(main())
