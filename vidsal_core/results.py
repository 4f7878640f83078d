"""Each chapter's verdicts on the seed papers' claims, saved for the summary chapter.

A chapter that tests a claim of a seed paper records one row per claim with
:func:`record_claims`; the summary chapter reads every chapter's rows back with
:func:`read_claims` and tabulates them, so no number in the summary is typed by
hand. Rows are saved as JSON under ``data/results/<profile>/<chapter>.json``,
written atomically (a reader never sees half a file).

A row::

    {"seed": "002", "claim": "border effect: DTD puts more relevance on the first and last frames",
     "quantity": "border coefficient x100 (C3D, DTD)", "estimate": -2.43, "low": -3.1, "high": -1.7,
     "units": 9, "direction": "greater", "null": 0.0, "verdict": "contradicted", "note": None}

**One verdict rule** (:func:`verdict`) decides every row about a seed claim,
from the claim's direction, its null value and the 95% interval of the
estimate over independent units (persons, or source videos for real footage):

- ``reproduced``: the interval lies wholly on the claimed side of the null;
- ``contradicted``: it lies wholly on the opposite side;
- ``inconclusive``: it holds the null;
- ``underpowered``: fewer than :data:`MIN_UNITS` independent units, whatever
  the interval says (no verdict is counted);
- ``new``: a measurement with no seed claim behind it (no verdict at all).

Rows are built with :func:`claim_row` and :func:`new_row`;
:func:`check_row` recomputes the verdict of every claim row and refuses one
that disagrees with the rule, so no chapter can keep a rule of its own.
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

#: The verdicts a row may carry (see the module's docstring).
VERDICTS = ("reproduced", "contradicted", "inconclusive", "underpowered", "new")
#: The verdicts that count as evidence about a seed claim.
COUNTED_VERDICTS = ("reproduced", "contradicted", "inconclusive")
#: Fewest independent units (persons, source videos) behind a counted verdict.
MIN_UNITS = 8
#: Sides of the null a claim may predict.
DIRECTIONS = ("greater", "less")
#: Keys of a row; ``low``, ``high``, ``units``, ``direction``, ``null`` and ``note`` may be None
#: (``direction`` and ``null`` are None exactly for rows of verdict ``new``).
ROW_KEYS = ("seed", "claim", "quantity", "estimate", "low", "high", "units", "direction", "null", "verdict", "note")


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
    for key in ("estimate", "low", "high", "null"):
        checked[key] = _number(row.get(key), f"{where}.{key}")
    for key in ("seed", "claim", "quantity"):
        checked[key] = str(checked[key])
    units = row.get("units")
    if units is not None and (isinstance(units, bool) or not isinstance(units, (int, float))
                              or not float(units).is_integer() or units < 0):
        raise ConfigError(f"{where}.units: expected a count of independent units, got {units!r}")
    checked["units"] = None if units is None else int(units)
    if checked["verdict"] == "new":
        if checked["direction"] is not None:
            raise ConfigError(f"{where}: a row of verdict 'new' has no claim, so no direction")
        return checked
    if checked["direction"] not in DIRECTIONS or checked["null"] is None or checked["units"] is None:
        raise ConfigError(f"{where}: a row about a seed claim needs direction (one of {list(DIRECTIONS)}), "
                          f"null and units; got {checked['direction']!r}, {checked['null']!r}, {checked['units']!r}")
    ruled = verdict(checked["low"], checked["high"], checked["units"], checked["direction"], checked["null"])
    if checked["verdict"] != ruled:
        raise ConfigError(f"{where}: verdict {checked['verdict']!r} disagrees with the book's rule, which gives "
                          f"{ruled!r} for [{checked['low']}, {checked['high']}] against {checked['null']} "
                          f"({checked['direction']}, {checked['units']} units)")
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


def verdict(low: float | None, high: float | None, units: int | None, direction: str = "greater",
            null: float = 0.0, min_units: int = MIN_UNITS) -> str:
    """The book's one verdict rule on a seed claim, from the 95% interval of its estimate.

    Parameters
    ----------
    low, high : float or None
        The interval (over independent units). A missing or non-finite interval
        holds nothing, so it is ``"inconclusive"``.
    units : int or None
        Independent units (persons, source videos) behind the interval; fewer
        than ``min_units`` (or unknown) gives ``"underpowered"``, whatever the interval says.
    direction : {"greater", "less"}, default "greater"
        The side of ``null`` the claim predicts.
    null : float, default 0
        The value of no effect (0 for a difference or a correlation, 0.5 for an AUROC, chance for an accuracy).
    min_units : int, default :data:`MIN_UNITS`

    Returns
    -------
    str
        ``"reproduced"`` (the interval lies wholly on the claimed side of ``null``),
        ``"contradicted"`` (wholly on the other side), ``"inconclusive"`` (it holds
        ``null``) or ``"underpowered"``.

    Examples
    --------
    >>> verdict(0.1, 0.4, units=9)
    'reproduced'
    >>> verdict(-8.6, -8.3, units=9)        # the opposite of the claim
    'contradicted'
    >>> verdict(-1.5, 2.8, units=9)
    'inconclusive'
    >>> verdict(0.1, 0.4, units=3)
    'underpowered'
    >>> verdict(0.52, 0.61, units=9, direction="less", null=0.5)
    'contradicted'
    """
    if direction not in DIRECTIONS:
        raise ConfigError(f"direction={direction!r}: expected one of {list(DIRECTIONS)}")
    if units is None or units < min_units:
        return "underpowered"
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return "inconclusive"
    if low > high:
        raise ConfigError(f"interval [{low}, {high}]: low is above high")
    side = interval_side(low, high, null)
    if side == "holds":
        return "inconclusive"
    return "reproduced" if (side == "above") == (direction == "greater") else "contradicted"


def interval_side(low: float | None, high: float | None, null: float = 0.0) -> str:
    """Where an interval lies against ``null``: ``"above"``, ``"below"`` or ``"holds"`` (it holds ``null``).

    A missing or non-finite interval ``"holds"`` every value. Prose uses this
    for measurements that are no seed claim; seed claims use :func:`verdict`.

    Examples
    --------
    >>> interval_side(0.2, 0.5), interval_side(-0.5, -0.2), interval_side(-0.1, 0.3)
    ('above', 'below', 'holds')
    """
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return "holds"
    if low > null:
        return "above"
    if high < null:
        return "below"
    return "holds"


def claim_row(seed: str, claim: str, quantity: str, estimate: Any, direction: str = "greater", null: float = 0.0,
              note: str | None = None, scale: float = 1.0, units: int | None = None) -> dict[str, Any]:
    """A row about a seed claim, its verdict given by :func:`verdict`.

    Parameters
    ----------
    seed, claim, quantity : str
        The seed paper (``"000"`` or ``"002"``), its claim, and what was measured (with its model or setting).
    estimate : Estimate or None
        Mean, interval and independent ``units`` (:class:`~vidsal_core.analysis.statistics.Estimate`);
        None when nothing could be measured. (:func:`new_row` also takes a plain number, with no interval.)
    direction, null
        The claimed side of the null value (see :func:`verdict`), in the estimate's own units.
    note : str, optional
    scale : float, default 1
        Multiplies the estimate, its interval and ``null`` in the row (e.g. 100 for coefficients ×100).
    units : int, optional
        Independent units, when ``estimate`` does not carry them.
    """
    mean, low, high = _parts(estimate)
    low, high = (math.nan if value is None else value for value in (low, high))
    units = units if units is not None else getattr(estimate, "units", None)
    low_scaled, high_scaled = sorted((low * scale, high * scale)) if scale < 0 else (low * scale, high * scale)
    return {"seed": str(seed), "claim": claim, "quantity": quantity, "estimate": mean * scale,
            "low": low_scaled, "high": high_scaled, "units": units, "direction": direction, "null": null * scale,
            "verdict": verdict(low_scaled, high_scaled, units, direction, null * scale), "note": note}


def new_row(seed: str, claim: str, quantity: str, estimate: Any, note: str | None = None,
            scale: float = 1.0, units: int | None = None) -> dict[str, Any]:
    """A row for a measurement with no seed claim behind it (verdict ``"new"``); arguments as :func:`claim_row`."""
    mean, low, high = _parts(estimate)
    units = units if units is not None else getattr(estimate, "units", None)
    scaled = [None if value is None else value * scale for value in (mean, low, high)]
    return {"seed": str(seed), "claim": claim, "quantity": quantity, "estimate": scaled[0], "low": scaled[1],
            "high": scaled[2], "units": units, "direction": None, "null": None, "verdict": "new", "note": note}


def _parts(estimate: Any) -> tuple[float, Any, Any]:
    """``(mean, low, high)`` of an Estimate; a plain number has no interval (None, None); None is NaN."""
    if estimate is None:
        return math.nan, math.nan, math.nan
    if isinstance(estimate, (int, float)):
        return float(estimate), None, None
    return estimate.mean, estimate.low, estimate.high


def verdict_counts(rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """Rows per seed and verdict: ``{seed: {verdict: count}}`` with every verdict of :data:`VERDICTS` present."""
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(str(row["seed"]), dict.fromkeys(VERDICTS, 0))[row["verdict"]] += 1
    return counts


def claim_aggregate(rows: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """One line per claim tested on several models or settings, computed from its rows.

    ``{claim: "reproduced on I3D (DTD); contradicted on C3D (DTD)"}``: each
    verdict with the quantities (their text in parentheses, or the whole
    quantity) that carry it, verdicts in the order of :data:`VERDICTS`.
    """
    grouped: dict[str, dict[str, list[str]]] = {}
    for row in rows:
        if row["verdict"] == "new":
            continue
        quantity = str(row["quantity"])
        where = quantity[quantity.rfind("(") + 1:quantity.rfind(")")] if quantity.endswith(")") else quantity
        grouped.setdefault(str(row["claim"]), {}).setdefault(row["verdict"], []).append(where)
    return {claim: "; ".join(f"{word} on {', '.join(places)}" for word in VERDICTS if (places := by_word.get(word)))
            for claim, by_word in grouped.items()}
