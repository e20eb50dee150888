"""A property-based fuzz test of the loader (issue 15, docs/security.md).

Random mutations of valid exports (bytes, quoting, types, dates, huge values, odd
column names) must never crash the load, must keep read = accepted + quarantined for
every table, and a load error must leave the serving warehouse byte for byte as it was.

``make test`` runs the ``ci`` profile (a fixed seed, few examples, no deadline);
``HYPOTHESIS_PROFILE=fuzz .venv/bin/python -m pytest tests/test_loader_fuzz.py`` runs
2,000 (``FUZZ_EXAMPLES=N`` for another number), with new random examples each time.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path
from unittest import mock

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES
from upgrade_warehouse import build, contract, quality
from upgrade_warehouse.errors import UserError
from upgrade_warehouse.loader import load_data_dir
from upgrade_warehouse.params import INT_RANGES, Parameters
from upgrade_warehouse.progress import Progress

settings.register_profile(
    "ci",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "15")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "2000")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

BASIC = FIXTURES / "basic"
FILES = {p.name: p.read_bytes() for p in sorted(BASIC.glob("*.csv"))}
ROWS = {
    name: list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    for name, data in FILES.items()
}

ODD_VALUES = [
    "",
    " ",
    '"',
    '""',
    "'",
    ",",
    "\n",
    "\r\n",
    "\\",
    "\x00",
    "NULL",
    "null",
    "NaN",
    "nan",
    "infinity",
    "-infinity",
    "epoch",
    "now",
    "today",
    "2026-01-05 10:00:00 America/New_York",
    "2026-01-05T10:00:00+25:00",
    "2026-01-05T10:00:00+14:00",
    "1900-01-01",
    "1969-12-31T23:59:59Z",
    "2099-12-31T23:59:59Z",
    "2100-01-01",
    "9999-12-31",
    "10000-01-01",
    "0001-01-01",
    "2026-02-30",
    "2026-13-01",
    "26-01-05",
    "2026/01/05",
    "1e3",
    "0x10",
    "+5",
    "-0",
    "1_000",
    str(2**63),
    str(-(2**63) - 1),
    str(10**15),
    "9" * 5000,
    "1.5",
    "true",
    "yes",
    "=1+1",
    "@SUM(A1)",
    '{"a": NaN}',
    '{"a": Infinity}',
    '{"a": 1}',
    "[1]",
    '{"a": "NaN"}',
    "{",
    "ééé",
    "\u202e",
    "x" * 10_000,
]
ODD_NAMES = [
    "rowid",
    "_row_number",
    "filename",
    "file_row_number",
    "",
    " ",
    "__raw_0",
    "_check",
    "c0",
    'a"b',
    "a,b",
    "ACCOUNT_ID",
    "account_id ",
    "select",
    "p",
    "l",
    "\u00e9",
]

text_values = st.one_of(
    st.sampled_from(ODD_VALUES),
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)


@st.composite
def mutations(draw):
    """A list of (kind, args) mutations of the fixture files."""
    out = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        name = draw(st.sampled_from(sorted(FILES)))
        rows = ROWS[name]
        kind = draw(
            st.sampled_from(
                [
                    "cell",
                    "cell",
                    "cell",
                    "add_column",
                    "rename_column",
                    "drop_column",
                    "bytes",
                    "truncate",
                    "extra_cells",
                ]
            )
        )
        if kind == "cell":
            out.append(
                (
                    kind,
                    name,
                    draw(st.integers(1, len(rows) - 1)),
                    draw(st.integers(0, len(rows[0]) - 1)),
                    draw(text_values),
                )
            )
        elif kind in ("add_column", "rename_column"):
            new = draw(st.one_of(st.sampled_from(ODD_NAMES), st.text(max_size=12)))
            out.append((kind, name, draw(st.integers(0, len(rows[0]) - 1)), new))
        elif kind == "drop_column":
            out.append((kind, name, draw(st.integers(0, len(rows[0]) - 1))))
        elif kind == "bytes":
            out.append(
                (
                    kind,
                    name,
                    draw(st.integers(0, len(FILES[name]))),
                    draw(st.binary(min_size=1, max_size=8)),
                )
            )
        elif kind == "truncate":
            out.append((kind, name, draw(st.integers(0, len(FILES[name])))))
        else:
            out.append((kind, name, draw(st.integers(1, len(rows) - 1))))
    return out


def apply(mutation_list) -> dict[str, bytes]:
    """The fixture files with the mutations applied (rows re-serialised where needed)."""
    rows = {name: [list(r) for r in table] for name, table in ROWS.items()}
    raw: dict[str, bytes] = {}
    for m in mutation_list:
        kind, name = m[0], m[1]
        table = rows[name]
        if kind == "cell":
            _, _, r, c, value = m
            if c < len(table[r]):
                table[r][c] = value
        elif kind == "add_column":
            _, _, at, new = m
            for i, row in enumerate(table):
                row.insert(min(at, len(row)), new if i == 0 else "v")
        elif kind == "rename_column":
            _, _, at, new = m
            table[0][at] = new
        elif kind == "drop_column":
            _, _, at = m
            for row in table:
                if at < len(row):
                    del row[at]
        elif kind == "extra_cells":
            _, _, r = m
            table[r].append("surplus")
        else:  # byte-level: applied after serialisation
            raw.setdefault(name, b"")
    files = {}
    for name, table in rows.items():
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(table)
        files[name] = buf.getvalue().encode("utf-8", "surrogatepass")
    for m in mutation_list:
        if m[0] == "bytes":
            _, name, at, data = m
            at = min(at, len(files[name]))
            files[name] = files[name][:at] + data + files[name][at:]
        elif m[0] == "truncate":
            _, name, at = m
            files[name] = files[name][:at]
    return files


class NoGate:
    """The gate is not under test here: never reached on a load error."""

    def __init__(self) -> None:
        pass

    def close(self) -> None:
        pass

    def kill(self) -> None:
        pass


@FUZZ
@given(mutations())
def test_mutated_exports_never_crash_the_loader(mutation_list):
    files = apply(mutation_list)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        for name, content in files.items():
            (data / name).write_bytes(content)
        con = duckdb.connect()
        try:
            report = load_data_dir(data, con)
        except UserError as exc:
            assert str(exc)  # a message naming the problem
            assert "Traceback" not in str(exc)
            # The build stops at the same point and the serving file is untouched.
            serving = Path(tmp) / "out" / "wh.duckdb"
            serving.parent.mkdir()
            serving.write_bytes(b"the serving warehouse")
            with mock.patch.object(quality, "GateWorker", NoGate):
                try:
                    build.build(data, serving, Parameters(), Progress(enabled=False))
                except UserError:
                    pass
                else:
                    raise AssertionError("the build passed where the load failed") from None
            assert serving.read_bytes() == b"the serving warehouse"
            assert sorted(p.name for p in serving.parent.iterdir()) == ["wh.duckdb"]
            return
        for name, t in report.items():
            assert t["read"] == t["accepted"] + t["quarantined"], name
            assert t["quarantined"] == sum(t["quarantined_by_reason"].values())
            assert set(t["quarantined_by_reason"]) <= set(contract.REASON_CODES)
        (n_quarantine,) = con.execute("select count(*) from raw.quarantine").fetchone()
        assert n_quarantine == sum(t["quarantined"] for t in report.values())
        # Accepted rows honour the ranges the models rely on.
        (bad_ts,) = con.execute(
            "select count(*) from raw.product_events where occurred_at < timestamp "
            f"'{contract.TS_MIN}' or occurred_at >= timestamp '{contract.TS_MAX}'"
        ).fetchone()
        assert bad_ts == 0
        (too_many,) = con.execute(
            "select count(*) from raw.subscription_changes where to_quantity > ?",
            [contract.MAX_QUANTITY],
        ).fetchone()
        assert too_many == 0


# ------------------------------------------------------------ issue 35: header names

header_names = st.one_of(
    st.sampled_from(["", " ", "note", "note_2", "_column_9", "event_id", "EVENT_ID", "Ünï"]),
    st.text(max_size=8),  # any unicode, the empty name included
)


@FUZZ
@given(st.lists(header_names, min_size=1, max_size=6))
def test_any_header_names_keep_every_quarantined_value(extra):
    """Extra columns named anything (repeats, empty, unicode): every quarantined row is a
    JSON object with one unique key per column (loader.raw_row_keys), in file order, and
    json.loads gives back every value."""
    import json

    from upgrade_warehouse.loader import raw_row_keys

    rows = [list(r) for r in ROWS["product_events.csv"]]
    extra = [n.replace("\x00", "") for n in extra]  # NUL is no CSV text
    header = rows[0] + extra
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for i, row in enumerate(rows[1:]):
        row[1] = ""  # account_id missing: every row is quarantined
        writer.writerow(row + [f"v{i}.{j}" for j in range(len(extra))])
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        for name, content in FILES.items():
            (data / name).write_bytes(content)
        (data / "product_events.csv").write_text(buf.getvalue(), encoding="utf-8")
        con = duckdb.connect()
        try:
            load_data_dir(data, con)
        except UserError:
            return  # a name that makes the header unreadable as CSV is a load error
        names = [c.strip() for c in header]
        keys = raw_row_keys(names)
        assert len(set(keys)) == len(keys) == len(header)
        raw = con.execute(
            "select raw_row from raw.quarantine where table_name = 'product_events' "
            "order by row_number"
        ).fetchall()
        assert len(raw) == len(rows) - 1
        for i, (text,) in enumerate(raw):
            pairs = json.loads(text, object_pairs_hook=list)
            assert [k for k, _ in pairs] == keys
            values = json.loads(text)
            assert [values[k] for k in keys[len(rows[0]) :]] == [
                f"v{i}.{j}" for j in range(len(extra))
            ]


# ------------------------------------------------------------ issue 35: --var values

ODD_VARS = [str(2**31 - 1), str(2**31), str(2**63 - 1), str(2**63), "0", "-0", "+5"]
ODD_VARS += ["1_000", "1e3", " 7", "07", "", "9" * 5000, "0x10", "\u0663", "\uff13", "NaN", "true"]
var_values = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(ODD_VARS),  # type limits, signs, separators, other digits
    st.text(max_size=30),
)


@FUZZ
@given(st.sampled_from(sorted(INT_RANGES)), var_values)
def test_any_var_value_is_a_value_in_range_or_one_line(name, value):
    """parse_vars either returns a value inside the parameter's documented range or
    raises one UserError line naming the parameter: never another exception."""
    from upgrade_warehouse import params

    if name not in params.INT_PARAMS:  # a range for a parameter not on this branch yet
        return
    try:
        parsed = params.parse_vars([f"{name}={value}"])
    except UserError as exc:
        message = str(exc)
        assert message.startswith(f"--var {name}") and "\n" not in message and len(message) < 300
        return
    bounds = params.INT_RANGES[name]
    assert bounds.low <= getattr(parsed, name) <= bounds.high
    assert getattr(parsed, name) == int(value.strip())
