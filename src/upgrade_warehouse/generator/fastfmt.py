"""Fast, vectorized text building for the big table (product events): fixed-width ids
and ISO timestamps written straight into Arrow string buffers with numpy."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

_TABLES = {
    w: np.array([f"{i:0{w}d}".encode() for i in range(10**w)], dtype=f"S{w}") for w in (1, 2, 3)
}
_TOD: np.ndarray | None = None


def numeric_array(
    values: np.ndarray, type_: pa.DataType, null_mask: np.ndarray | None = None
) -> pa.Array:
    """An Arrow array of a fixed-width type from numpy, zero-copy.

    (``pa.array`` would import pandas on first use, which costs seconds at startup.)"""
    values = np.ascontiguousarray(values, dtype=np.int32 if type_ == pa.int32() else np.int64)
    n = values.size
    validity = None
    nulls = 0
    if null_mask is not None and null_mask.any():
        validity = pa.py_buffer(np.packbits(~null_mask, bitorder="little"))
        nulls = int(null_mask.sum())
    return pa.Array.from_buffers(type_, n, [validity, pa.py_buffer(values)], null_count=nulls)


def _string_array(raw: np.ndarray, width: int, n: int) -> pa.Array:
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(raw.view(np.uint8))
    )


def digits_array(prefix: str, values: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded ``values`` (all < 10**width) as an Arrow string array."""
    values = np.asarray(values, dtype=np.int64)
    groups = (width + 2) // 3
    first = width - 3 * (groups - 1)
    dt = np.dtype(
        [("p", f"S{len(prefix)}"), ("g0", f"S{first}")]
        + [(f"g{i}", "S3") for i in range(1, groups)]
    )
    out = np.empty(values.size, dtype=dt)
    out["p"] = prefix.encode()
    x = values
    for i in range(groups - 1, 0, -1):
        out[f"g{i}"] = _TABLES[3][x % 1000]
        x = x // 1000
    out["g0"] = _TABLES[first][x % 10**first]
    return _string_array(out, dt.itemsize, values.size)


def ts_text_array(ts: np.ndarray) -> pa.Array:
    """``YYYY-MM-DDTHH:MM:SSZ`` of epoch seconds (no nulls)."""
    global _TOD  # noqa: PLW0603 - a lookup table built on first use, once per process
    if _TOD is None:
        s = np.arange(86_400)
        _TOD = np.array(
            [
                f"{h:02d}:{m:02d}:{x:02d}".encode()
                for h, m, x in zip(s // 3600, s // 60 % 60, s % 60)
            ],
            dtype="S8",
        )
    ts = np.asarray(ts, dtype=np.int64)
    n = ts.size
    dt = np.dtype([("d", "S10"), ("T", "S1"), ("t", "S8"), ("Z", "S1")])
    out = np.empty(n, dtype=dt)
    if n:
        days = ts // 86_400
        d0 = int(days.min())
        table = np.arange(d0, int(days.max()) + 1).astype("datetime64[D]").astype("S10")
        out["d"] = table[days - d0]
        out["t"] = _TOD[ts - days * 86_400]
    out["T"] = b"T"
    out["Z"] = b"Z"
    return _string_array(out, 20, n)


def scatter_strings(subset: pa.Array, positions: np.ndarray, n: int) -> pa.Array:
    """A length-``n`` string array: ``subset[i]`` at ``positions[i]`` (ascending), null
    elsewhere."""
    subset = subset.cast(pa.large_string())
    if isinstance(subset, pa.ChunkedArray):
        subset = subset.combine_chunks()
    sub_off = np.frombuffer(subset.buffers()[1], dtype=np.int64)[
        subset.offset : subset.offset + len(subset) + 1
    ]
    lengths = np.zeros(n, dtype=np.int64)
    lengths[positions] = np.diff(sub_off)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    offsets += sub_off[0]
    valid = np.zeros(n, dtype=bool)
    valid[positions] = True
    bitmap = np.packbits(valid, bitorder="little")
    return pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(offsets), subset.buffers()[2], pa.py_buffer(bitmap), n - positions.size
    )
