"""The one JSON writer and reader of gatespec's reports.

Strict JSON has no inf or nan, so :func:`encode` writes a non-finite float as the string
``"inf"``, ``"-inf"`` or ``"nan"`` (``str`` of the float) and :func:`decode` turns those
strings back into floats.  :func:`write` writes keys sorted, one space of indent per level and
``allow_nan=False``, so that a report is the same bytes whenever its content is the same.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

NONFINITE = ("inf", "-inf", "nan")


def encode(x: Any) -> Any:
    """``x`` with every non-finite float, at any depth of dicts, lists and tuples, as its string."""
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, dict):
        return {k: encode(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [encode(v) for v in x]
    return x


def decode(x: Any) -> Any:
    """Undo :func:`encode`: the strings "inf", "-inf" and "nan", at any depth, as floats."""
    if isinstance(x, str):
        return float(x) if x in NONFINITE else x
    if isinstance(x, dict):
        return {k: decode(v) for k, v in x.items()}
    if isinstance(x, list):
        return [decode(v) for v in x]
    return x


def write(path: Path, payload: Any) -> None:
    """``payload``, encoded, as strict JSON with sorted keys and a final newline."""
    path.write_text(json.dumps(encode(payload), indent=1, sort_keys=True, allow_nan=False) + "\n")


def read(path: Path) -> Any:
    """The JSON in ``path``, as written (non-finite floats still strings: :func:`decode` the fields that are numbers).

    Raises OSError, UnicodeDecodeError or json.JSONDecodeError for the caller to name the file.
    """
    return json.loads(Path(path).read_text())
