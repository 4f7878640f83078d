"""Each chapter's verdicts on the seed papers' claims, saved for the summary chapter.

A chapter that tests a claim of a seed paper records one row per claim with
:func:`record_claims`; the summary chapter reads every chapter's rows back with
:func:`read_claims` and tabulates them, so no number in the summary is typed by
hand. Rows are saved as JSON under ``data/results/<profile>/<chapter>.json``,
written atomically (a reader never sees half a file).

A row::

    {"seed": "002", "claim": "border effect: DTD puts more relevance on the first and last frames",
     "quantity": "border coefficient x100 (C3D, DTD)", "estimate": -2.43, "low": -3.1, "high": -1.7,
     "verdict": "not reproduced", "note": "negative on every person"}
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping

from vidsal_core.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "data" / "results"

#: The verdicts a row may carry.
VERDICTS = ("reproduced", "partly", "not reproduced", "new")
#: Keys of a row; ``low``, ``high`` and ``note`` may be None.
ROW_KEYS = ("seed", "claim", "quantity", "estimate", "low", "high", "verdict", "note")


def _profile_name(profile: str | Path) -> str:
    return Path(str(profile)).stem


def results_path(chapter: str, profile: str | Path, results_dir: Path = RESULTS_DIR) -> Path:
    """Where ``chapter``'s rows for ``profile`` are saved."""
    return Path(results_dir) / _profile_name(profile) / f"{chapter}.json"


def _number(value: Any, argument: str) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{argument}: expected a number or None, got {value!r}") from None
    return None if math.isnan(number) else number


def check_row(row: Mapping[str, Any], where: str = "row") -> dict[str, Any]:
    """A claim row with every key of :data:`ROW_KEYS`, checked; numbers as floats."""
    missing = [key for key in ("seed", "claim", "quantity", "estimate", "verdict") if key not in row]
    if missing:
        raise ConfigError(f"{where}: missing key(s) {missing}; a row needs {list(ROW_KEYS)}")
    unknown = sorted(set(row) - set(ROW_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; a row takes {list(ROW_KEYS)}")
    if row["verdict"] not in VERDICTS:
        raise ConfigError(f"{where}: verdict {row['verdict']!r} is not one of {list(VERDICTS)}")
    checked = {key: row.get(key) for key in ROW_KEYS}
    for key in ("estimate", "low", "high"):
        checked[key] = _number(row.get(key), f"{where}.{key}")
    for key in ("seed", "claim", "quantity"):
        checked[key] = str(checked[key])
    return checked


def record_claims(chapter: str, profile: str | Path, rows: Iterable[Mapping[str, Any]],
                  results_dir: Path = RESULTS_DIR) -> Path:
    """Save ``chapter``'s claim rows for ``profile`` (replacing earlier ones) and return the file.

    Parameters
    ----------
    chapter : str
        The chapter's name (its notebook's stem), e.g. ``"border_lookahead"``.
    profile : str or Path
        The profile the chapter ran with; rows of different profiles never mix.
    rows : iterable of mapping
        One mapping per claim with the keys of :data:`ROW_KEYS`.
    """
    checked = [check_row(row, f"{chapter} row {i}") for i, row in enumerate(rows)]
    path = results_path(chapter, profile, results_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as stream:
            json.dump({"chapter": chapter, "profile": _profile_name(profile), "rows": checked}, stream, indent=1)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def read_claims(chapters: Iterable[str], profile: str | Path, results_dir: Path = RESULTS_DIR,
                missing: str = "error") -> list[dict[str, Any]]:
    """Every row the given chapters saved for ``profile``, in chapter order, each with its ``chapter``.

    Parameters
    ----------
    missing : {"error", "skip"}
        What to do when a chapter has saved nothing for this profile: raise an
        error that names the chapter to run, or leave it out.
    """
    if missing not in ("error", "skip"):
        raise ConfigError(f"missing={missing!r}: expected 'error' or 'skip'")
    rows: list[dict[str, Any]] = []
    for chapter in chapters:
        path = results_path(chapter, profile, results_dir)
        if not path.is_file():
            if missing == "error":
                raise ConfigError(f"no saved results of chapter {chapter!r} for profile {_profile_name(profile)!r} "
                                  f"({path}): run it first, e.g. `python -m vidsal_core.book --profile "
                                  f"{_profile_name(profile)} {chapter}`")
            continue
        try:
            content = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise ConfigError(f"{path}: not valid JSON ({error}); run chapter {chapter!r} again") from None
        for i, row in enumerate(content.get("rows", [])):
            rows.append({"chapter": chapter, **check_row(row, f"{path} row {i}")})
    return rows


def sign_verdict(low: float | None, high: float | None, claimed: str) -> str:
    """Verdict on a claim that a quantity is ``"positive"`` or ``"negative"``, from its 95% interval.

    ``"reproduced"`` when the whole interval lies on the claimed side of zero,
    ``"not reproduced"`` otherwise (the opposite side, or an interval that holds
    zero: no effect shown). A missing interval gives ``"not reproduced"``.
    """
    if claimed not in ("positive", "negative"):
        raise ConfigError(f"claimed={claimed!r}: expected 'positive' or 'negative'")
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return "not reproduced"
    held = low > 0 if claimed == "positive" else high < 0
    return "reproduced" if held else "not reproduced"
