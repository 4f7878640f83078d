"""One claim, many networks: the verdict on every training run of a model, and on its control variant.

A chapter's interval covers its test persons, not the network: each run is
trained once. The profile's ``models.replicates`` trains chosen runs again with
other seeds (:func:`vidsal_study.runs.training_runs`), and the control
runs (``*_control``) are the same recipes trained and tested on clips with the
person wholly in view, so that no visibility cue separates the classes (the
data chapter measures it). A chapter that tests a claim on a model then:

1. computes its rows on the model's first run, as always;
2. computes the same rows on every replicate (:func:`replicate_sets`) and
   folds their verdicts into each judged row's ``training_runs``
   (:func:`attach_training_runs`): "holds on k of n training runs", the book's
   one verdict rule applied to each run's own interval;
3. computes the rows on the control models and keeps them as rows of their own,
   each naming the main row it repeats (:func:`variant_rows`), so the summary
   can say, claim by claim, whether a verdict holds without the cue.

Rows a chapter cannot recompute on every run within its profile's budget are
marked as resting on one run (:func:`single_training_run`), with a note naming
where the rest is done.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from vidsal_core.errors import ConfigError
from vidsal_study.runs import models_section, replicate_of, training_runs
from vidsal_core.statistics import interval_text
from vidsal_study.results import JUDGED_VERDICTS, training_runs_entry, training_runs_text

#: The note of a row resting on one training run where the full profile trains the rest.
FULL_PROFILE_NOTE = "see the full profile"
#: The variant name of rows measured on the control models (clips with the person wholly in view).
CONTROL = "control"
#: A control run's name is its main run's and this: ``frame_lstm_binary_control``.
CONTROL_SUFFIX = "_control"
#: The note of rows resting on one run in a profile without replicates.
NO_REPLICATES_NOTE = "this profile trains no replicate (models.replicates)"


def control_run(run: str) -> str:
    """The control run of ``run`` (same recipe, clips with the person wholly in view).

    >>> control_run("ica_lstm_binary")
    'ica_lstm_binary_control'
    """
    return f"{run}{CONTROL_SUFFIX}"


def main_run(name: str) -> str:
    """The main run behind a replicate or control run's name (the run itself otherwise).

    >>> main_run("frame_lstm_binary-seed2"), main_run("ica_lstm_binary_control"), main_run("c3d_6class")
    ('frame_lstm_binary', 'ica_lstm_binary', 'c3d_6class')
    """
    base, _ = replicate_of(name)
    return base[:-len(CONTROL_SUFFIX)] if base.endswith(CONTROL_SUFFIX) else base


def run_label(name: str, labels: Mapping[str, str]) -> str:
    """A run's label in a chapter's quantities: its main run's (``labels``, or the name), so that a replicate's
    or control's rows repeat the main rows' quantities (:func:`attach_training_runs`, :func:`variant_rows`).

    >>> run_label("frame_lstm_binary-seed1", {"frame_lstm_binary": "FrameLSTM"})
    'FrameLSTM'
    """
    base = main_run(name)
    return labels.get(base, base)


def control_runs(profile: str | Path, runs: Sequence[str]) -> list[str] | None:
    """The control runs of ``runs`` when the profile defines every one of them, else None."""
    defined = models_section(profile)["runs"]
    names = [control_run(run) for run in runs]
    return names if all(name in defined for name in names) else None


def _single_run_note(runs: Sequence[str]) -> str:
    """Where the other training runs of ``runs`` are: the full profile's replicates, or nowhere."""
    replicated = all(len(training_runs("full", run)) > 1 for run in runs) if all(
        run in models_section("full")["runs"] for run in runs) else False
    return FULL_PROFILE_NOTE if replicated else NO_REPLICATES_NOTE


def robust_rows(profile: str | Path, runs: Sequence[str], rows: Sequence[Mapping[str, Any]],
                rows_for: Callable[[Sequence[str], str | None], Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """A chapter's ``rows`` on ``runs`` with the training-runs column, then its rows on the control models.

    Parameters
    ----------
    profile : str or Path
    runs : sequence of str
        The main runs the chapter explained (``rows`` were measured on them).
    rows : sequence of mapping
        The chapter's rows on ``runs``.
    rows_for : callable
        ``rows_for(run_names, variant)``: the chapter's rows on other runs, side by side as it explains
        ``runs`` (``variant`` is None for replicates, :data:`CONTROL` for the control runs, which are cut as
        they were trained); labelled with :func:`run_label`.
    """
    sets = replicate_sets(profile, runs)
    replicated = [rows_for(names, None) for names in sets]
    robust = attach_training_runs(rows, replicated) if sets else single_training_run(rows, _single_run_note(runs))
    controls = control_runs(profile, runs)
    if controls is not None:
        robust += variant_rows(robust, rows_for(controls, CONTROL))
    return robust


def replicate_sets(profile: str | Path, runs: Sequence[str]) -> list[list[str]]:
    """The replicates of ``runs``, one list per training seed, in the order of ``runs``.

    ``[[frame_lstm_binary-seed1, ica_lstm_binary-seed1], [...-seed2, ...-seed2]]``: a chapter that explains
    several runs side by side runs its study once per list. Runs without replicates give ``[]``; runs
    replicated with different seeds are refused.
    """
    names = [training_runs(profile, run) for run in runs]
    lengths = {len(group) for group in names}
    if len(lengths) > 1:
        raise ConfigError(f"runs {list(runs)}: replicated unequally in profile {profile} "
                          f"({ {run: group[1:] for run, group in zip(runs, names)} }); list them all in "
                          "models.replicates.runs, or none")
    count = lengths.pop() if lengths else 1
    return [[group[index] for group in names] for index in range(1, count)]


def _judged(row: Mapping[str, Any]) -> bool:
    """Whether a row carries a verdict on a claim (:data:`~vidsal_study.results.JUDGED_VERDICTS`)."""
    return row["verdict"] in JUDGED_VERDICTS


def _key(row: Mapping[str, Any]) -> tuple[str, str]:
    return str(row.get("claim_id")), str(row["quantity"])


def _matcher(rows: Sequence[Mapping[str, Any]], where: str) -> Callable[[Mapping[str, Any], int], Any]:
    """Find, among ``rows``, the row matching a main row: the same claim id and quantity, or else the row at the
    same position among that claim's judged rows (a quantity may name a choice the run made, e.g. its best step)."""
    by_key = {_key(row): row for row in rows}
    if len(by_key) != len(rows):
        raise ConfigError(f"{where}: two rows share a claim id and quantity")
    by_claim: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        if _judged(row):
            by_claim.setdefault(str(row.get("claim_id")), []).append(row)

    def find(row: Mapping[str, Any], position: int) -> Any:
        if _key(row) in by_key:
            return by_key[_key(row)]
        mine = by_claim.get(str(row.get("claim_id")), [])
        return mine[position] if position < len(mine) else None
    return find


def _triple(row: Mapping[str, Any]) -> list[Any]:
    """``[estimate, low, high]`` of a row (None where it has none)."""
    return [row.get("estimate"), row.get("low"), row.get("high")]


def _positions(rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Each row's position among the judged rows of its claim (-1 for rows without a verdict)."""
    seen: dict[str, int] = {}
    positions = []
    for row in rows:
        if _judged(row):
            claim = str(row.get("claim_id"))
            positions.append(seen.get(claim, 0))
            seen[claim] = positions[-1] + 1
        else:
            positions.append(-1)
    return positions


def attach_training_runs(rows: Sequence[Mapping[str, Any]], replicates: Sequence[Sequence[Mapping[str, Any]]],
                         note: str | None = None) -> list[dict[str, Any]]:
    """``rows`` with every judged row's ``training_runs``: its verdict and the same row's on each replicate.

    Parameters
    ----------
    rows : sequence of mapping
        The rows measured on the first training run.
    replicates : sequence of sequences of mapping
        The same chapter code's rows on each replicate (:func:`replicate_sets`): the same claim ids and
        quantities (chapters label a replicate as its run), or at least the same rows per claim in the same order.
    note : str, optional
        Kept in each entry.

    Examples
    --------
    >>> row = {"claim_id": "c", "quantity": "q (LSTM)", "verdict": "reproduced", "estimate": 0.5, "low": 0.2,
    ...        "high": 0.8}
    >>> entry = attach_training_runs([row], [[dict(row)], [dict(row, verdict="inconclusive", low=-0.1)]])[0]
    >>> entry["training_runs"]["holds"], entry["training_runs"]["verdicts"], entry["training_runs"]["intervals"][2]
    (2, ['reproduced', 'reproduced', 'inconclusive'], [0.5, -0.1, 0.8])
    """
    finders = [_matcher(rows_of_run, f"replicate {number}") for number, rows_of_run in enumerate(replicates, start=1)]
    attached = []
    for row, position in zip(rows, _positions(rows)):
        row = dict(row)
        if _judged(row):
            found = [find(row, position) for find in finders]
            missing = [number for number, match in enumerate(found, start=1) if match is None]
            if missing:
                raise ConfigError(f"row {row['quantity']!r} ({row.get('claim_id')}): not measured on replicate(s) "
                                  f"{missing}; a replicate's rows must repeat every judged row of the first run")
            row["training_runs"] = training_runs_entry([row["verdict"]] + [match["verdict"] for match in found], note,
                                                       [_triple(item) for item in [row] + found])
        attached.append(row)
    return attached


def single_training_run(rows: Sequence[Mapping[str, Any]], note: str | None = FULL_PROFILE_NOTE
                        ) -> list[dict[str, Any]]:
    """``rows`` with every judged row marked as measured on one training run (``note`` says where the rest is)."""
    return [dict(row, training_runs=training_runs_entry([row["verdict"]], note, [_triple(row)]))
            if _judged(row) else dict(row) for row in rows]


def variant_rows(main: Sequence[Mapping[str, Any]], variant: Sequence[Mapping[str, Any]],
                 name: str = CONTROL) -> list[dict[str, Any]]:
    """The rows of a model variant as rows of their own: the quantity names the variant, ``variant_of`` the
    main row it repeats (the same chapter code's row: the same claim id and quantity, or else the same position
    among the claim's rows).

    Examples
    --------
    >>> main = [{"claim_id": "c", "quantity": "q (LSTM)", "verdict": "reproduced"}]
    >>> row = variant_rows(main, [{"claim_id": "c", "quantity": "q (LSTM)", "verdict": "inconclusive"}])[0]
    >>> row["quantity"], row["variant"], row["variant_of"]
    ('q (LSTM) [control]', 'control', 'q (LSTM)')
    """
    find = _matcher(main, "main rows")
    marked = []
    for row, position in zip(variant, _positions(variant)):
        first = find(row, position) if _judged(row) else next((other for other in main if _key(other) == _key(row)),
                                                              None)
        if first is None:
            raise ConfigError(f"{name} row {row['quantity']!r}: no main row of claim {row.get('claim_id')} with "
                              "this quantity; a variant's rows must repeat the main rows")
        marked.append(dict(row, quantity=f"{row['quantity']} [{name}]", variant=name,
                           variant_of=str(first["quantity"])))
    return marked


def variant_verdicts(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each counted variant row beside its main row: ``quantity``, ``claim_id``, ``main``, ``variant`` (verdicts),
    ``holds`` (the same verdict) and both intervals; for the summary and the chapters' readings."""
    main = {_key(row): row for row in rows if row.get("variant") is None}
    paired = []
    for row in rows:
        if row.get("variant") is None or not _judged(row):
            continue
        first = main.get((str(row.get("claim_id")), str(row["variant_of"])))
        if first is None:
            raise ConfigError(f"variant row {row['quantity']!r}: its main row {row['variant_of']!r} is missing")
        paired.append({"claim_id": row.get("claim_id"), "quantity": first["quantity"], "variant": row["variant"],
                       "main_verdict": first["verdict"], "variant_verdict": row["verdict"],
                       "holds": first["verdict"] == row["verdict"],
                       "main_interval": _triple(first), "variant_interval": _triple(row)})
    return paired


def robust_rows_in_groups(profile: str | Path, rows: Sequence[Mapping[str, Any]],
                          groups: Sequence[tuple[Sequence[str], Callable[[Mapping[str, Any]], bool],
                                                 Callable[[Sequence[str], str | None], Sequence[Mapping[str, Any]]]]]
                          ) -> list[dict[str, Any]]:
    """:func:`robust_rows` for a chapter whose rows come from several groups of runs (a pair per task, a model
    alone): ``groups`` holds ``(runs, belongs, rows_for)``, ``belongs(row)`` saying which rows are the group's.

    Every row keeps its place (rows of no group stay as they are); the groups' variant rows follow.
    """
    robust, added = {}, []
    for runs, belongs, rows_for in groups:
        done = robust_rows(profile, runs, [row for row in rows if belongs(row)], rows_for)
        robust.update({_key(row): row for row in done if row.get("variant") is None})
        added += [row for row in done if row.get("variant") is not None]
    return [robust.get(_key(row), dict(row)) for row in rows] + added


def _interval(estimate: Any, low: Any, high: Any) -> str:
    """:func:`~vidsal_core.statistics.interval_text` of a saved row's numbers (None where it has none)."""
    return interval_text(*(float("nan") if value is None else value for value in (estimate, low, high)), missing="–")


def robustness_table(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One line per counted main row: its verdict, how many training runs give it, and the control's verdict.

    Columns ``claim``, ``quantity``, ``verdict``, ``training runs`` (:func:`~vidsal_study.results.training_runs_text`),
    ``control`` (the control models' verdict and interval, ``–`` where none was measured).
    """
    controls = {(str(pair["claim_id"]), str(pair["quantity"])): pair for pair in variant_verdicts(rows)
                if pair["variant"] == CONTROL}
    lines = []
    for row in rows:
        if row.get("variant") is not None or not _judged(row):
            continue
        control = controls.get(_key(row))
        lines.append({"claim": row.get("claim_id"), "quantity": row["quantity"], "verdict": row["verdict"],
                      "ours (95% CI)": _interval(row["estimate"], row["low"], row["high"]),
                      "training runs": training_runs_text(row.get("training_runs")),
                      "other runs (95% CI)": "; ".join(
                          _interval(*item) for item in (row.get("training_runs") or {}).get("intervals", [])[1:]) or "–",
                      "control": "–" if control is None else
                      f"{control['variant_verdict']}: {_interval(*control['variant_interval'])}"})
    return pd.DataFrame(lines, columns=["claim", "quantity", "verdict", "ours (95% CI)", "training runs",
                                        "other runs (95% CI)", "control"])


def robustness_text(rows: Sequence[Mapping[str, Any]]) -> str:
    """A sentence for a chapter's readings: how many judged rows keep their verdict on every training run and
    on the control models.

    >>> rows = [{"claim_id": "c", "quantity": "q", "verdict": "reproduced", "training_runs": {"n": 3, "holds": 2,
    ...          "verdicts": ["reproduced", "reproduced", "inconclusive"], "note": None}},
    ...         {"claim_id": "c", "quantity": "q [control]", "verdict": "reproduced", "variant": "control",
    ...          "variant_of": "q"}]
    >>> print(robustness_text(rows))  # doctest: +NORMALIZE_WHITESPACE
    Of the 1 row with a verdict, 0 keep their verdict on all 3 training runs; on the control models, trained
    without the visibility cue, 1 of 1 keep it.
    """
    main = [row for row in rows if row.get("variant") is None and _judged(row)]
    if not main:
        return "This chapter saved no row with a verdict."
    entries = [row.get("training_runs") for row in main]
    runs = sorted({entry["n"] for entry in entries if entry})
    if not runs or runs == [1]:
        notes = sorted({entry["note"] for entry in entries if entry and entry.get("note")})
        plural = len(main) != 1
        text = (f"The {len(main)} row{'s' if plural else ''} with a verdict rest{'' if plural else 's'} on one "
                "training run" + (f" ({'; '.join(notes)})" if notes else ""))
    else:
        held = sum(1 for entry in entries if entry and entry["holds"] == entry["n"])
        text = (f"Of the {len(main)} row{'s' if len(main) != 1 else ''} with a verdict, {held} keep their verdict "
                f"on all {'/'.join(str(n) for n in runs)} training runs")
    paired = [pair for pair in variant_verdicts(rows) if pair["variant"] == CONTROL]
    if paired:
        same = sum(pair["holds"] for pair in paired)
        text += (f"; on the control models, trained without the visibility cue, {same} of {len(paired)} keep it")
    return text + "."
