"""Output helpers: one JSON document on stdout, readable tables, atomic run folders."""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.errors import InputError


def to_jsonable(obj: Any) -> Any:
    """Convert numpy / pandas values into plain JSON types (NaN and inf become null)."""
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, pd.Series):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, pd.DataFrame):
        return [to_jsonable(r) for r in obj.to_dict(orient="records")]
    if isinstance(obj, list | tuple | set | frozenset | pd.Index | np.ndarray):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.bool_ | bool):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, Path):
        return str(obj)
    if obj is pd.NA or obj is pd.NaT:
        return None
    return obj


def emit_json(obj: Any) -> None:
    """Print exactly one JSON document on standard output."""
    sys.stdout.write(json.dumps(to_jsonable(obj), indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def write_json(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as JSON to ``path`` atomically."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(to_jsonable(obj), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


@contextmanager
def atomic_file(target: str | Path, *, force: bool = True, option: str = "--out"):
    """Yield a temporary path beside ``target`` (same suffix) that becomes ``target`` only
    if the block succeeds; on any exception the temporary file is removed.

    With ``force=False`` an existing ``target`` is an error naming ``option``.
    """
    target = Path(target)
    if target.exists() and not force:
        raise InputError("the output file exists; give --force to replace it", option=option, found=str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.{os.getpid()}.tmp{target.suffix}")
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextmanager
def atomic_directory(target: str | Path, *, force: bool = False):
    """Yield a temporary directory that becomes ``target`` only if the block succeeds.

    An existing ``target`` is an error unless ``force`` (then it is replaced only after
    the new results are complete). On any exception nothing is left behind.
    """
    target = Path(target)
    if target.exists() and not force:
        raise InputError(
            "output folder already exists; choose another --out or pass --force to replace it",
            file=target,
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError as exc:
        raise InputError(f"could not write the output folder: {exc.strerror or exc}", file=target) from None
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private (0700); a result folder is not
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, target)
