"""Validators shared by every entry point: read a table, check its columns and values.

Each function checks one thing and raises :class:`~optimizer.errors.InputError` with
"expected X, found Y" and the file, row (1-based data row, header not counted) and
column. Entry points call them once, at the door; computational kernels assume valid
input and never check again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.errors import InputError

TABLE_SUFFIXES = (".csv", ".parquet", ".pq", ".tsv", ".txt")


def require_file(path: str | Path, what: str = "input file") -> Path:
    """Return ``path`` as a Path if it is an existing, non-empty file."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what} does not exist", file=p)
    if p.is_dir():
        raise InputError(f"expected a file for the {what}, found a directory", file=p)
    if p.stat().st_size == 0:
        raise InputError(f"the {what} is empty", file=p)
    return p


def read_table(path: str | Path, *, id_columns: Sequence[str] = (), what: str = "table") -> pd.DataFrame:
    """Read a CSV or Parquet table; ``id_columns`` are read as strings.

    Raises InputError for a missing, empty or unreadable file, or a file with no rows.
    """
    p = require_file(path, what)
    suffix = p.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            df = pd.read_parquet(p)
            for col in id_columns:
                if col in df.columns:
                    df[col] = df[col].astype(str)
        else:
            sep = "\t" if suffix == ".tsv" else ","
            df = pd.read_csv(p, sep=sep, dtype={c: str for c in id_columns}, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise InputError(f"the {what} has no header and no rows", file=p) from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise InputError(f"could not read the {what}: {exc}", file=p) from None
    df.columns = [str(c).strip() for c in df.columns]
    if df.empty:
        raise InputError(f"the {what} has a header but no data rows", file=p)
    return df


def require_columns(df: pd.DataFrame, columns: Iterable[str], *, file: str | Path | None = None) -> None:
    """Raise if any of ``columns`` is missing from ``df``."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}; "
            f"expected {', '.join(map(repr, columns))} among the columns",
            file=file,
            found=list(map(str, df.columns)),
        )


def _row_number(df: pd.DataFrame, position: int) -> int:
    """1-based data row number of a positional index (header not counted)."""
    return int(position) + 1


def numeric_column(
    df: pd.DataFrame,
    column: str,
    *,
    file: str | Path | None = None,
    minimum: float | None = None,
    strictly_positive: bool = False,
    allow_missing: bool = False,
) -> np.ndarray:
    """Return ``df[column]`` as a finite float array, or raise naming the first bad row."""
    require_columns(df, [column], file=file)
    raw = df[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad_text = np.isnan(values) & raw.notna().to_numpy()
    if bad_text.any():
        i = int(np.flatnonzero(bad_text)[0])
        raise InputError("expected a number", file=file, row=_row_number(df, i), column=column, found=raw.iloc[i])
    missing = np.isnan(values)
    if missing.any() and not allow_missing:
        rows = np.flatnonzero(missing)
        i = int(rows[0])
        also = ""
        if len(rows) > 1:  # e.g. a column given for some rows only: say which
            listed = ", ".join(str(_row_number(df, r)) for r in rows[1:6])
            also = f" (also in {len(rows) - 1} more row{'s' if len(rows) > 2 else ''}: {listed}{', ...' if len(rows) > 6 else ''})"
        raise InputError(f"expected a number, found an empty value{also}", file=file, row=_row_number(df, i), column=column)
    inf = np.isinf(values)
    if inf.any():
        i = int(np.flatnonzero(inf)[0])
        raise InputError("expected a finite number", file=file, row=_row_number(df, i), column=column, found=raw.iloc[i])
    if strictly_positive:
        bad = ~missing & (values <= 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError("expected a positive number", file=file, row=_row_number(df, i), column=column, found=raw.iloc[i])
    if minimum is not None:
        bad = ~missing & (values < minimum)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"expected a number >= {minimum:g}", file=file, row=_row_number(df, i), column=column, found=raw.iloc[i])
    return values


def id_column(df: pd.DataFrame, column: str, *, file: str | Path | None = None) -> pd.Index:
    """Return ``df[column]`` as a string Index of unique, non-empty ids."""
    require_columns(df, [column], file=file)
    raw = df[column]
    empty = raw.isna().to_numpy() | (raw.astype(str).str.strip() == "").to_numpy()
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise InputError("expected a non-empty id", file=file, row=_row_number(df, i), column=column)
    ids = pd.Index(raw.astype(str).str.strip().to_numpy(dtype=object), name=column)
    dup = ids.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        first = int(np.flatnonzero(ids == ids[i])[0])
        raise InputError(
            f"duplicate id (first seen in row {_row_number(df, first)}); expected unique ids",
            file=file,
            row=_row_number(df, i),
            column=column,
            found=ids[i],
        )
    return ids


def boolean_column(df: pd.DataFrame, column: str, *, file: str | Path | None = None) -> np.ndarray:
    """Parse a flag column (true/false, yes/no, 1/0, empty = false) into a bool array."""
    require_columns(df, [column], file=file)
    truthy = {"true", "t", "yes", "y", "1", "1.0"}
    falsy = {"false", "f", "no", "n", "0", "0.0", "", "nan", "none"}
    out = np.zeros(len(df), dtype=bool)
    for i, v in enumerate(df[column].to_numpy()):
        s = "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip().lower()
        if s in truthy:
            out[i] = True
        elif s not in falsy:
            raise InputError("expected true/false (or yes/no, 1/0)", file=file, row=_row_number(df, i), column=column, found=v)
    return out


def parse_columns_option(text: str | None) -> list[str] | None:
    """Split a ``a,b,c`` CLI option into names (None stays None)."""
    if text is None:
        return None
    names = [t.strip() for t in text.split(",") if t.strip()]
    return names or None


def name_mismatch(
    expected: Iterable[str], given: Iterable[str], *, missing: str = "missing", extra: str = "unknown"
) -> tuple[str, str | None]:
    """Compare two sets of names: ``("; missing: x; unknown: y", "x")``, or ``("", None)`` if equal.

    The text is meant to be appended to an "expected ..." message; the second value is the
    first offending name (for the ``column=`` of an InputError).

    >>> name_mismatch(["a", "b"], ["b", "c"])
    ('; missing: a; unknown: c', 'a')
    >>> name_mismatch(["a"], ["a"])
    ('', None)
    """
    expected, given = [str(x) for x in expected], [str(x) for x in given]
    lacking = [x for x in expected if x not in given]
    surplus = [x for x in given if x not in expected]
    text = (f"; {missing}: {', '.join(lacking)}" if lacking else "") + (f"; {extra}: {', '.join(surplus)}" if surplus else "")
    return text, (lacking or surplus or [None])[0]
