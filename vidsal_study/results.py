"""Each chapter's verdicts on the claims it tests, saved for the summary chapter, and the claim register.

A chapter that tests a claim records one row per measurement with
:func:`record_claims`; the summary chapter reads every chapter's rows back with
:func:`read_claims` and tabulates them, so no number in the summary is typed by
hand. Rows are saved as JSON under ``data/results/<profile>/<chapter>.json``,
written atomically (a reader never sees half a file).

**The claim register** (``book/claims.yaml``, :func:`load_register`) lists
every claim the book tests: its id, its real source (seed 000, seed 002,
Ismail et al. 2020, ...) and section, a verbatim quote of at most 30 words,
its kind (the source's own *finding*, its *hypothesis*, or an *intention* it
adopted from elsewhere), and its direction and null. A counted row names one
claim id; :func:`check_row` refuses a row with no id, an id that is not in the
register, or a direction or null that differ from the register's, so a
chapter cannot credit a claim to the wrong source or test it the wrong way
round.

A row::

    {"claim_id": "002-border-trained", "source": "002", "kind": "finding",
     "claim": "Border effect: a trained network puts more relevance on ...",
     "quantity": "border coefficient x100 (C3D on SynthKTH)", "estimate": -2.43, "low": -3.1, "high": -1.7,
     "units": 9, "direction": "greater", "null": 0.0, "verdict": "contradicted", "note": None}

**One verdict rule** (:func:`verdict`) decides every row about a claim,
from the claim's direction, its null value and the 95% interval of the
estimate over independent units (persons, or source videos for real footage):

- ``reproduced``: the interval lies wholly on the claimed side of the null;
- ``contradicted``: it lies wholly on the opposite side;
- ``inconclusive``: it holds the null;
- ``underpowered``: fewer than :data:`MIN_UNITS` independent units, whatever
  the interval says (no verdict is counted);
- ``new``: a measurement with no counted claim behind it (no verdict at all).

Rows are built with :func:`claim_row` and :func:`new_row`;
:func:`check_row` recomputes the verdict of every claim row and refuses one
that disagrees with the rule, so no chapter can keep a rule of its own.
:func:`holm_survivors` says which decided verdicts survive Holm's family-wise
correction over a source's counted rows.
"""

from __future__ import annotations

import functools
import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml
from scipy import stats

from vidsal_core.errors import ConfigError
# The verdict rule and its words are the library's (vidsal_core.statistics); the study's rows use them from here too.
from vidsal_core.statistics import (  # noqa: F401
    COUNTED_VERDICTS, DECIDED_VERDICTS, DIRECTIONS, JUDGED_VERDICTS, MIN_UNITS, VERDICTS, interval_side, opposite_verdict,
    verdict,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "data" / "results"
#: The claim register read by :func:`load_register`.
REGISTER_PATH = ROOT / "book" / "claims.yaml"

#: Kinds of claim in the register: the source's own observation, its untested suspicion, or an aim it adopted.
KINDS = ("finding", "hypothesis", "intention")
#: How a second statement (``also``) relates to a claim: it makes the same claim, or its opposite.
RELATIONS = ("same", "opposite")
#: Longest quote in the register, in words.
MAX_QUOTE_WORDS = 30
#: Keys of a row; ``claim_id``, ``kind``, ``low``, ``high``, ``units``, ``direction``, ``null`` and ``note`` may
#: be None (``direction`` and ``null`` are None exactly for rows of verdict ``new``; ``claim_id`` only there).
#: ``training_runs`` (None for a row about no trained network, or one not measured on every training run):
#: ``{"n": runs, "holds": runs whose verdict is the row's, "verdicts": [this run's, the replicates'...],
#: "note": ...}`` (:func:`training_runs_entry`); ``variant`` names a model variant (``"control"``: trained
#: without the visibility cue) and ``variant_of`` the quantity of the main row it repeats.
ROW_KEYS = ("claim_id", "source", "kind", "claim", "quantity", "estimate", "low", "high", "units", "direction",
            "null", "verdict", "note", "training_runs", "variant", "variant_of")
#: Family-wise error rate of :func:`holm_survivors`.
HOLM_ALPHA = 0.05


# --- the claim register ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """One entry of the claim register (``book/claims.yaml``; its header describes every field)."""

    id: str
    source: str
    section: str
    quote: str
    kind: str
    statement: str
    direction: str
    null: float
    also: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class Register:
    """The claim register: its sources (key → ``{"title", "seed"}``) and claims (id → :class:`Claim`)."""

    sources: Mapping[str, Mapping[str, Any]]
    claims: Mapping[str, Claim] = field(default_factory=dict)
    path: str = ""

    def __getitem__(self, claim_id: str) -> Claim:
        try:
            return self.claims[claim_id]
        except KeyError:
            raise ConfigError(f"claim id {claim_id!r} is not in the claim register {self.path}; "
                              f"add it there (with its source, section, quote and kind) or use one of "
                              f"{sorted(self.claims)}") from None

    def is_seed(self, source: str) -> bool:
        """Whether ``source`` is one of the seed papers (their own findings come first in the summary)."""
        return bool(self.sources.get(str(source), {}).get("seed", False))

    def title(self, source: str) -> str:
        """The source's full title (the key itself for a source outside the register, e.g. a ``new`` row's)."""
        return str(self.sources.get(str(source), {}).get("title", source))


def _entry_text(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {key!r} must be a non-empty string, got {value!r}")
    return value.strip()


def _check_quote(quote: str, where: str) -> str:
    words = len(quote.replace("…", " ").split())
    if words > MAX_QUOTE_WORDS:
        raise ConfigError(f"{where}: the quote has {words} words; the register keeps at most {MAX_QUOTE_WORDS} "
                          f"(cut it with '…')")
    return quote


def parse_register(content: Mapping[str, Any], path: str = "<register>") -> Register:
    """A :class:`Register` from the parsed YAML of a claim register, every entry checked."""
    if not isinstance(content, Mapping) or not isinstance(content.get("sources"), Mapping) \
            or not isinstance(content.get("claims"), list):
        raise ConfigError(f"{path}: expected a mapping with 'sources' (a mapping) and 'claims' (a list)")
    sources = {str(key): dict(value or {}) for key, value in content["sources"].items()}
    for key, value in sources.items():
        _entry_text(value, "title", f"{path}: source {key!r}")
    claims: dict[str, Claim] = {}
    for i, entry in enumerate(content["claims"]):
        where = f"{path}: claim {i}"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {entry!r}")
        unknown = sorted(set(entry) - {"id", "source", "section", "quote", "kind", "statement", "direction",
                                       "null", "also"})
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {unknown}")
        claim_id = _entry_text(entry, "id", where)
        where = f"{path}: claim {claim_id!r}"
        if claim_id in claims:
            raise ConfigError(f"{where}: the id appears twice")
        source = str(entry.get("source"))
        if source not in sources:
            raise ConfigError(f"{where}: source {source!r} is not one of the register's sources {sorted(sources)}")
        kind = entry.get("kind")
        if kind not in KINDS:
            raise ConfigError(f"{where}: kind {kind!r} is not one of {list(KINDS)}")
        direction = entry.get("direction")
        if direction not in DIRECTIONS:
            raise ConfigError(f"{where}: direction {direction!r} is not one of {list(DIRECTIONS)}")
        null = _number(entry.get("null"), f"{where}.null")
        if null is None:
            raise ConfigError(f"{where}: null must be a number")
        also = []
        for j, other in enumerate(entry.get("also") or ()):
            other_where = f"{where}.also[{j}]"
            if not isinstance(other, Mapping) or other.get("relation") not in RELATIONS:
                raise ConfigError(f"{other_where}: expected a mapping with relation one of {list(RELATIONS)}")
            if str(other.get("source")) not in sources:
                raise ConfigError(f"{other_where}: source {other.get('source')!r} is not one of {sorted(sources)}")
            if other.get("kind", kind) not in KINDS:
                raise ConfigError(f"{other_where}: kind {other.get('kind')!r} is not one of {list(KINDS)}")
            _entry_text(other, "section", other_where)
            _check_quote(_entry_text(other, "quote", other_where), other_where)
            also.append({"source": str(other["source"]), "section": other["section"], "quote": other["quote"].strip(),
                         "relation": other["relation"], "kind": other.get("kind", kind)})
        claims[claim_id] = Claim(claim_id, source, _entry_text(entry, "section", where),
                                 _check_quote(_entry_text(entry, "quote", where), where), kind,
                                 _entry_text(entry, "statement", where), direction, null, tuple(also))
    return Register(sources, claims, path)


@functools.lru_cache(maxsize=8)
def _load(path: str, stamp: float) -> Register:
    try:
        content = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"claim register {path}: cannot be read ({error})") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"claim register {path}: not valid YAML ({error})") from None
    return parse_register(content, path)


def load_register(path: str | Path = REGISTER_PATH) -> Register:
    """The claim register at ``path`` (default ``book/claims.yaml``), checked; read again when the file changes."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"claim register {path}: no such file")
    return _load(str(path), path.stat().st_mtime)


# --- rows --------------------------------------------------------------------------------------------------------


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


def check_row(row: Mapping[str, Any], where: str = "row", register: Register | None = None) -> dict[str, Any]:
    """A claim row with every key of :data:`ROW_KEYS`, checked against the rule and the register.

    A row with a counted verdict must name a ``claim_id`` of the register, and
    its direction and null must be the register's; its ``source``, ``kind`` and
    ``claim`` are filled in from the register (and must agree with it where the
    row gives them). A ``new`` row may name a claim id (then it is checked too).
    """
    register = load_register() if register is None else register
    missing = [key for key in ("quantity", "estimate", "verdict") if key not in row]
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
    checked["quantity"] = str(checked["quantity"])
    units = row.get("units")
    if units is not None and (isinstance(units, bool) or not isinstance(units, (int, float))
                              or not float(units).is_integer() or units < 0):
        raise ConfigError(f"{where}.units: expected a count of independent units, got {units!r}")
    checked["units"] = None if units is None else int(units)
    checked["training_runs"] = _check_training_runs(row.get("training_runs"), checked["verdict"], where)
    if (checked["variant"] is None) != (checked["variant_of"] is None):
        raise ConfigError(f"{where}: a variant row names both its variant and the main row it repeats (variant_of); "
                          f"got variant={checked['variant']!r}, variant_of={checked['variant_of']!r}")
    claim_id = checked["claim_id"]
    if claim_id is None and checked["verdict"] != "new":
        raise ConfigError(f"{where}: a row with a verdict on a claim must name its claim_id in the claim register "
                          f"({register.path}); row {checked['quantity']!r} names none")
    if claim_id is not None:
        claim = register[str(claim_id)]
        for key, value in (("source", claim.source), ("kind", claim.kind), ("claim", claim.statement)):
            if row.get(key) is not None and str(row[key]) != value:
                raise ConfigError(f"{where}: {key} {row[key]!r} disagrees with the register's {value!r} for claim "
                                  f"{claim_id!r}")
            checked[key] = value
    if checked["source"] is None or checked["claim"] is None:
        raise ConfigError(f"{where}: a row needs a source and a claim (or a claim_id of the register)")
    checked["source"], checked["claim"] = str(checked["source"]), str(checked["claim"])
    if checked["verdict"] == "new":
        if checked["direction"] is not None:
            raise ConfigError(f"{where}: a row of verdict 'new' has no counted claim, so no direction")
        return checked
    if checked["direction"] not in DIRECTIONS or checked["null"] is None or checked["units"] is None:
        raise ConfigError(f"{where}: a row about a claim needs direction (one of {list(DIRECTIONS)}), "
                          f"null and units; got {checked['direction']!r}, {checked['null']!r}, {checked['units']!r}")
    claim = register[str(claim_id)]
    if checked["direction"] != claim.direction or not math.isclose(checked["null"], claim.null, rel_tol=1e-9,
                                                                    abs_tol=1e-12):
        raise ConfigError(f"{where}: direction {checked['direction']!r} and null {checked['null']!r} disagree with "
                          f"the register's {claim.direction!r} and {claim.null!r} for claim {claim_id!r}")
    ruled = verdict(checked["low"], checked["high"], checked["units"], checked["direction"], checked["null"])
    if checked["verdict"] != ruled:
        raise ConfigError(f"{where}: verdict {checked['verdict']!r} disagrees with the book's rule, which gives "
                          f"{ruled!r} for [{checked['low']}, {checked['high']}] against {checked['null']} "
                          f"({checked['direction']}, {checked['units']} units)")
    return checked


def training_runs_entry(verdicts: list[str], note: str | None = None,
                        intervals: list[Any] | None = None) -> dict[str, Any]:
    """A row's ``training_runs``: the verdicts of one claim on every training run, this row's run first, and
    optionally each run's ``[estimate, low, high]``.

    >>> training_runs_entry(["reproduced", "reproduced", "inconclusive"])
    {'n': 3, 'holds': 2, 'verdicts': ['reproduced', 'reproduced', 'inconclusive'], 'note': None}
    """
    verdicts = [str(word) for word in verdicts]
    if not verdicts:
        raise ConfigError("training_runs_entry: expected the verdict of at least one training run")
    entry = {"n": len(verdicts), "holds": sum(word == verdicts[0] for word in verdicts), "verdicts": verdicts,
             "note": note}
    if intervals is not None:
        if len(intervals) != len(verdicts):
            raise ConfigError(f"training_runs_entry: {len(intervals)} intervals for {len(verdicts)} verdicts")
        entry["intervals"] = [[_number(value, "training_runs.intervals") for value in interval]
                              for interval in intervals]
    return entry


def training_runs_text(entry: Mapping[str, Any] | None) -> str:
    """``"3 of 3"``, ``"2 of 3: reproduced, reproduced, inconclusive"``, ``"1 (see the full profile)"`` or ``"–"``.

    >>> training_runs_text({"n": 1, "holds": 1, "verdicts": ["reproduced"], "note": "see the full profile"})
    '1 (see the full profile)'
    >>> training_runs_text(training_runs_entry(["reproduced", "inconclusive", "reproduced"]))
    '2 of 3: reproduced, inconclusive, reproduced'
    """
    if not isinstance(entry, Mapping):  # None, or NaN in a table
        return "–"
    note = f" ({entry['note']})" if entry.get("note") else ""
    if entry["n"] == 1:
        return f"1{note}"
    text = f"{entry['holds']} of {entry['n']}"
    return (text if entry["holds"] == entry["n"] else f"{text}: {', '.join(entry['verdicts'])}") + note


def _check_training_runs(entry: Any, word: str, where: str) -> dict[str, Any] | None:
    if entry is None:
        return None
    if not isinstance(entry, Mapping) or not {"n", "holds", "verdicts", "note"} <= set(entry) <= {
            "n", "holds", "verdicts", "note", "intervals"}:
        raise ConfigError(f"{where}.training_runs: expected {{n, holds, verdicts, note[, intervals]}} "
                          f"(vidsal_study.results.training_runs_entry), got {entry!r}")
    verdicts = entry["verdicts"]
    if (not isinstance(verdicts, list) or not verdicts or any(item not in VERDICTS for item in verdicts)
            or verdicts[0] != word):
        raise ConfigError(f"{where}.training_runs: verdicts {verdicts!r} must be verdicts, the row's own "
                          f"({word!r}) first")
    intervals = entry.get("intervals")
    if intervals is not None and (not isinstance(intervals, list)
                                  or any(not isinstance(item, list) or len(item) != 3 for item in intervals)):
        raise ConfigError(f"{where}.training_runs.intervals: expected one [estimate, low, high] per run")
    expected = training_runs_entry(verdicts, entry["note"], intervals)
    if entry["n"] != expected["n"] or entry["holds"] != expected["holds"]:
        raise ConfigError(f"{where}.training_runs: n={entry['n']!r}, holds={entry['holds']!r} disagree with its "
                          f"verdicts {verdicts} (n={expected['n']}, holds={expected['holds']})")
    return expected


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
                                  f"({path}): run it first, e.g. `python -m vidsal_study.book --profile "
                                  f"{_profile_name(profile)} {chapter}`")
            continue
        try:
            content = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise ConfigError(f"{path}: not valid JSON ({error}); run chapter {chapter!r} again") from None
        for i, row in enumerate(content.get("rows", [])):
            rows.append({"chapter": chapter, **check_row(row, f"{path} row {i}")})
    return rows


def claim_row(claim_id: str, quantity: str, estimate: Any, note: str | None = None, scale: float = 1.0,
              units: int | None = None, register: Register | None = None) -> dict[str, Any]:
    """A row about a registered claim, its direction and null from the register, its verdict by :func:`verdict`.

    Parameters
    ----------
    claim_id : str
        The claim's id in the claim register (``book/claims.yaml``).
    quantity : str
        What was measured, with its model or setting (e.g. ``"border coefficient x100 (C3D on SynthKTH)"``).
    estimate : Estimate or None
        Mean, interval and independent ``units`` (:class:`~vidsal_core.statistics.Estimate`);
        None when nothing could be measured.
    note : str, optional
    scale : float, default 1
        Multiplies the estimate and its interval in the row (e.g. 100 for coefficients ×100); the register's
        null is in the row's units, after the scale.
    units : int, optional
        Independent units, when ``estimate`` does not carry them.
    register : Register, optional
        Default: :func:`load_register`.
    """
    claim = (load_register() if register is None else register)[claim_id]
    mean, low, high = _parts(estimate)
    low, high = (math.nan if value is None else value for value in (low, high))
    units = units if units is not None else getattr(estimate, "units", None)
    low_scaled, high_scaled = sorted((low * scale, high * scale)) if scale < 0 else (low * scale, high * scale)
    return {"claim_id": claim.id, "source": claim.source, "kind": claim.kind, "claim": claim.statement,
            "quantity": quantity, "estimate": mean * scale, "low": low_scaled, "high": high_scaled, "units": units,
            "direction": claim.direction, "null": claim.null,
            "verdict": verdict(low_scaled, high_scaled, units, claim.direction, claim.null), "note": note}


def new_row(source: str | None, claim: str | None, quantity: str, estimate: Any, note: str | None = None,
            scale: float = 1.0, units: int | None = None, claim_id: str | None = None,
            register: Register | None = None) -> dict[str, Any]:
    """A row for a measurement with no counted verdict (``"new"``); arguments as :func:`claim_row`.

    ``source`` and ``claim`` say what the measurement is about (``"000"``, ``"002"``, or a source of the
    register); with ``claim_id`` they come from the register instead (a registered claim that this measurement
    cannot test, e.g. a hypothesis about training data the model never saw).
    """
    if claim_id is not None:
        entry = (load_register() if register is None else register)[claim_id]
        source, claim = entry.source, entry.statement
    if source is None or claim is None:
        raise ConfigError(f"new_row {quantity!r}: give source and claim, or a claim_id of the register")
    mean, low, high = _parts(estimate)
    units = units if units is not None else getattr(estimate, "units", None)
    scaled = [None if value is None else value * scale for value in (mean, low, high)]
    return {"claim_id": claim_id, "source": str(source), "kind": None, "claim": claim, "quantity": quantity,
            "estimate": scaled[0], "low": scaled[1], "high": scaled[2], "units": units, "direction": None,
            "null": None, "verdict": "new", "note": note}


def _parts(estimate: Any) -> tuple[float, Any, Any]:
    """``(mean, low, high)`` of an Estimate; a plain number has no interval (None, None); None is NaN."""
    if estimate is None:
        return math.nan, math.nan, math.nan
    if isinstance(estimate, (int, float)):
        return float(estimate), None, None
    return estimate.mean, estimate.low, estimate.high


def verdict_counts(rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """Rows per source and verdict: ``{source: {verdict: count}}`` with every verdict of :data:`VERDICTS` present."""
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(str(row["source"]), dict.fromkeys(VERDICTS, 0))[row["verdict"]] += 1
    return counts


def source_kind_counts(rows: Iterable[Mapping[str, Any]],
                       register: Register | None = None) -> list[dict[str, Any]]:
    """Counted rows per (source, kind) and verdict, the seeds' own findings first.

    One dict per (source, kind) with a count for each of :data:`COUNTED_VERDICTS` and ``"rows"``; ``new`` and
    ``underpowered`` rows are left out (they carry no verdict). Order: seed sources before others (the
    register's order of sources), and within a source findings, hypotheses, intentions.
    """
    register = load_register() if register is None else register
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for row in rows:
        if row["verdict"] not in COUNTED_VERDICTS:
            continue
        key = (str(row["source"]), str(row["kind"]))
        counts.setdefault(key, dict.fromkeys(COUNTED_VERDICTS, 0))[row["verdict"]] += 1
    order = list(register.sources)

    def rank(key: tuple[str, str]) -> tuple[int, int, int]:
        source, kind = key
        return (0 if register.is_seed(source) else 1, order.index(source) if source in order else len(order),
                KINDS.index(kind) if kind in KINDS else len(KINDS))

    return [{"source": source, "kind": kind, **by_verdict, "rows": sum(by_verdict.values())}
            for (source, kind), by_verdict in sorted(counts.items(), key=lambda item: rank(item[0]))]


def row_p_value(row: Mapping[str, Any]) -> float:
    """Two-sided p-value of the test that the row's interval inverts: is the estimate different from the null?

    The book's intervals are 95% intervals; the p-value is that of the t test
    with ``units − 1`` degrees of freedom whose standard error is the half of
    the interval on the null's side divided by the t quantile (exact for the
    cluster-robust t interval; for an asymmetric, range-respecting interval it
    is the test that the interval's near side inverts). So ``p < 0.05`` exactly
    when the interval excludes the null. A row without an interval, or with
    fewer than two units, gets 1.

    Examples
    --------
    >>> row = {"estimate": 1.0, "low": 0.0, "high": 2.0, "units": 9, "null": 0.0}
    >>> round(row_p_value(row), 3)   # the interval just reaches the null: p = 0.05
    0.05
    """
    estimate, low, high, units, null = (row.get(key) for key in ("estimate", "low", "high", "units", "null"))
    if any(value is None for value in (estimate, low, high, units, null)) or units < 2 or not all(
            math.isfinite(float(value)) for value in (estimate, low, high, null)):
        return 1.0
    quantile = float(stats.t.ppf(0.975, units - 1))
    half = (estimate - low) if null <= estimate else (high - estimate)
    if half <= 0:
        return 0.0 if estimate != null else 1.0
    t = abs(estimate - null) / (half / quantile)
    return float(2.0 * stats.t.sf(t, units - 1))


def holm_survivors(rows: Iterable[Mapping[str, Any]], alpha: float = HOLM_ALPHA) -> list[bool]:
    """Which rows keep a decided verdict after Holm's correction over each source's counted rows.

    For each source, its counted rows (:data:`COUNTED_VERDICTS`) form one family;
    Holm's step-down procedure (Holm 1979) at family-wise level ``alpha`` on
    their :func:`row_p_value` says which nulls are rejected. A row survives
    when its verdict is decided (reproduced or contradicted) and its null is
    rejected; every other row (inconclusive, underpowered, new) is False.

    Examples
    --------
    >>> rows = [{"source": "a", "verdict": "reproduced", "estimate": 1.0, "low": 0.9, "high": 1.1, "units": 9,
    ...          "null": 0.0},
    ...         {"source": "a", "verdict": "reproduced", "estimate": 1.0, "low": 0.01, "high": 1.99, "units": 9,
    ...          "null": 0.0},
    ...         {"source": "a", "verdict": "inconclusive", "estimate": 1.0, "low": -0.5, "high": 2.5, "units": 9,
    ...          "null": 0.0}]
    >>> holm_survivors(rows)   # three tests: the second row's p (just under 0.05) fails 0.05 / 2
    [True, False, False]
    """
    if not 0.0 < alpha < 1.0:
        raise ConfigError(f"alpha={alpha!r}: expected a level between 0 and 1")
    rows = list(rows)
    survives = [False] * len(rows)
    families: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        if row["verdict"] in COUNTED_VERDICTS:
            families.setdefault(str(row["source"]), []).append(i)
    for members in families.values():
        ordered = sorted(members, key=lambda i: row_p_value(rows[i]))
        size = len(ordered)
        for rank, i in enumerate(ordered):
            if row_p_value(rows[i]) > alpha / (size - rank):
                break
            survives[i] = rows[i]["verdict"] in DECIDED_VERDICTS
    return survives


def claim_aggregate(rows: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """One line per claim tested on several models or settings, computed from its rows.

    ``{claim: "reproduced on I3D (DTD); contradicted on C3D (DTD)"}``: each
    verdict with the quantities (their text in parentheses, or the whole
    quantity) that carry it, verdicts in the order of :data:`VERDICTS`. A
    place whose verdict holds on fewer than all of its training runs says so:
    ``"reproduced on FrameLSTM [2 of 3 training runs]"``.
    """
    grouped: dict[str, dict[str, list[str]]] = {}
    for row in rows:
        if row["verdict"] == "new":
            continue
        quantity = str(row["quantity"])
        where = quantity[quantity.rfind("(") + 1:quantity.rfind(")")] if quantity.endswith(")") else quantity
        runs = row.get("training_runs")
        if isinstance(runs, Mapping) and runs["holds"] < runs["n"]:
            where += f" [{runs['holds']} of {runs['n']} training runs]"
        grouped.setdefault(str(row["claim"]), {}).setdefault(row["verdict"], []).append(where)
    return {claim: "; ".join(f"{word} on {', '.join(places)}" for word in VERDICTS if (places := by_word.get(word)))
            for claim, by_word in grouped.items()}
