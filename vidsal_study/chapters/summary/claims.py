"""The summary chapter's tables: counted verdicts by source and kind, each claim with its quote, Holm's correction.

Every table is computed from the rows the chapters saved
(:func:`vidsal_study.results.read_claims`) and the claim register
(:func:`vidsal_study.results.load_register`); nothing is typed by hand.

- :func:`counts_table`: counted rows per (source, kind) and verdict, the
  seeds' own findings first, with how many decided verdicts survive Holm's
  family-wise correction over that source's counted rows;
- :func:`claims_table`: one row per registered claim the chapters tested:
  its source, section, kind, verbatim quote (and any other statement about
  the same number), its rows and the verdict on each model or setting;
- :func:`count_glue`: the counts the page's prose cites, by glue name.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import pandas as pd

from vidsal_study.training_runs import variant_verdicts
from vidsal_study.results import (
    COUNTED_VERDICTS, DECIDED_VERDICTS, Register, claim_aggregate, holm_survivors, load_register, source_kind_counts,
)

#: The short name of each kind of claim in the tables.
KIND_WORDS = {"finding": "its own finding", "hypothesis": "its hypothesis", "intention": "an aim it adopted"}


def _rows(rows: Iterable[Mapping[str, Any]] | pd.DataFrame) -> list[dict[str, Any]]:
    """The rows as mappings; a table's missing values (NaN) become None again, as the chapters saved them."""
    if isinstance(rows, pd.DataFrame):
        return rows.astype(object).where(rows.notna(), None).to_dict("records")
    return [dict(row) for row in rows]


def counts_table(rows: Iterable[Mapping[str, Any]] | pd.DataFrame, register: Register | None = None) -> pd.DataFrame:
    """Counted rows per (source, kind) and verdict, with the decided verdicts that survive Holm at 5%.

    Columns: ``source``, ``kind``, one per :data:`~vidsal_study.results.COUNTED_VERDICTS`, ``rows``, and
    ``decided after Holm`` (reproduced or contradicted rows whose null Holm's procedure still rejects,
    :func:`~vidsal_study.results.holm_survivors`, over each source's counted rows).

    Examples
    --------
    >>> rows = [{"source": "000", "kind": "finding", "verdict": "reproduced", "estimate": 1.0, "low": 0.9,
    ...          "high": 1.1, "units": 9, "null": 0.0},
    ...         {"source": "000", "kind": "hypothesis", "verdict": "inconclusive", "estimate": 0.1, "low": -0.1,
    ...          "high": 0.3, "units": 9, "null": 0.0}]
    >>> counts_table(rows)[["source", "kind", "reproduced", "inconclusive", "decided after Holm"]].values.tolist()
    [['000', 'finding', 1, 0, 1], ['000', 'hypothesis', 0, 1, 0]]
    """
    register = load_register() if register is None else register
    rows = _rows(rows)
    survives = holm_survivors(rows)
    table = pd.DataFrame(source_kind_counts(rows, register),
                         columns=["source", "kind", *COUNTED_VERDICTS, "rows"])
    table["decided after Holm"] = [sum(1 for row, kept in zip(rows, survives)
                                       if kept and str(row["source"]) == source and str(row["kind"]) == kind)
                                   for source, kind in zip(table["source"], table["kind"])]
    return table


def _quote_text(claim: Any) -> str:
    text = f"“{claim.quote}” ({claim.section})"
    for other in claim.also:
        relation = "also" if other["relation"] == "same" else "but, the opposite"
        where = other["section"] if other["source"] == claim.source else f"{other['source']} {other['section']}"
        text += f"; {relation}: “{other['quote']}” ({where}, {other['kind']})"
    return text


def claims_table(rows: Iterable[Mapping[str, Any]] | pd.DataFrame, register: Register | None = None,
                 sources: Iterable[str] | None = None) -> pd.DataFrame:
    """One row per registered claim with counted rows: its source, kind, quote, and the verdict per setting.

    Parameters
    ----------
    rows
        The chapters' saved rows.
    register : Register, optional
        Default: :func:`~vidsal_study.results.load_register`.
    sources : iterable of str, optional
        Keep the claims of these sources only (default: all), e.g. the seeds'.

    Returns
    -------
    pandas.DataFrame
        ``claim`` (the register's statement), ``source``, ``kind``, ``quote`` (with any other statement about
        the same number), ``rows`` (counted rows), ``held`` (reproduced rows), ``decided after Holm`` and
        ``verdict per model or setting`` (:func:`~vidsal_study.results.claim_aggregate` over the main models'
        rows, a place whose verdict holds on fewer than all its training runs marked ``[k of n training
        runs]``), ``training runs`` (:func:`training_runs_column`) and ``without the visibility cue`` (the
        control models' verdicts, :func:`control_column`). Order: the seeds' findings first, then their
        hypotheses, then other sources; within them, the register's order.
    """
    register = load_register() if register is None else register
    rows = _rows(rows)
    survives = holm_survivors(rows)
    wanted = None if sources is None else {str(source) for source in sources}
    order = list(register.claims)
    records = []
    for claim_id in dict.fromkeys(str(row["claim_id"]) for row in rows
                                  if row.get("claim_id") and row["verdict"] in COUNTED_VERDICTS):
        claim = register[claim_id]
        if wanted is not None and claim.source not in wanted:
            continue
        mine = [(row, kept) for row, kept in zip(rows, survives)
                if row.get("claim_id") == claim_id and row["verdict"] in COUNTED_VERDICTS]
        records.append({
            "claim": claim.statement, "source": register.title(claim.source).split(":")[0], "kind": claim.kind,
            "quote": _quote_text(claim), "rows": len(mine),
            "held": sum(row["verdict"] == "reproduced" for row, _ in mine),
            "decided after Holm": sum(kept and row["verdict"] in DECIDED_VERDICTS for row, kept in mine),
            "verdict per model or setting": claim_aggregate([row for row, _ in mine if row.get("variant") is None]
                                                            ).get(claim.statement, ""),
            "training runs": training_runs_column([row for row, _ in mine]),
            "without the visibility cue": control_column([row for row, _ in mine]),
            "_rank": (0 if register.is_seed(claim.source) else 1, ["finding", "hypothesis", "intention"].index(
                claim.kind), order.index(claim_id)),
        })
    table = pd.DataFrame(records, columns=["claim", "source", "kind", "quote", "rows", "held", "decided after Holm",
                                           "verdict per model or setting", "training runs",
                                           "without the visibility cue", "_rank"])
    return table.sort_values("_rank", kind="stable").drop(columns="_rank").reset_index(drop=True)


def training_runs_column(rows: Iterable[Mapping[str, Any]]) -> str:
    """How a claim's main rows fare across training runs: ``"holds on all 3 runs (2 rows)"``, the rows that hold
    on fewer (``"FrameLSTM: 2 of 3 (reproduced, reproduced, inconclusive)"``), and the rows measured on one run
    (``"1 row on 1 run (see the full profile)"``).

    >>> row = {"quantity": "q (LSTM)", "verdict": "reproduced", "training_runs": {"n": 3, "holds": 3,
    ...        "verdicts": ["reproduced"] * 3, "note": None}}
    >>> single = {"quantity": "q (6-class)", "verdict": "reproduced", "training_runs": {"n": 1, "holds": 1,
    ...           "verdicts": ["reproduced"], "note": "see the full profile"}}
    >>> training_runs_column([row, single])
    'holds on all 3 runs (1 row); 1 row on 1 run (see the full profile)'
    """
    entries = [(str(row["quantity"]), row["training_runs"]) for row in rows
               if row.get("variant") is None and isinstance(row.get("training_runs"), Mapping)]
    if not entries:
        return "–"
    parts = []
    several = [(quantity, entry) for quantity, entry in entries if entry["n"] > 1]
    held = [entry for _, entry in several if entry["holds"] == entry["n"]]
    if held:
        runs = "/".join(str(n) for n in sorted({entry["n"] for entry in held}))
        parts.append(f"holds on all {runs} runs ({len(held)} row{'s' if len(held) > 1 else ''})")
    parts += [f"{_place(quantity)}: {entry['holds']} of {entry['n']} ({', '.join(entry['verdicts'])})"
              for quantity, entry in several if entry["holds"] < entry["n"]]
    single = [entry for _, entry in entries if entry["n"] == 1]
    if single:
        notes = sorted({entry["note"] for entry in single if entry.get("note")})
        parts.append(f"{len(single)} row{'s' if len(single) > 1 else ''} on 1 run"
                     + (f" ({'; '.join(notes)})" if notes else ""))
    return "; ".join(parts)


def _place(quantity: str) -> str:
    return quantity[quantity.rfind("(") + 1:quantity.rfind(")")] if quantity.endswith(")") else quantity


def control_column(rows: Iterable[Mapping[str, Any]]) -> str:
    """A claim's verdicts on the control models (no visibility cue), each beside its main row's when they differ.

    >>> rows = [{"claim_id": "c", "quantity": "q (LSTM)", "verdict": "reproduced", "estimate": 1, "low": 0.5,
    ...          "high": 1.5},
    ...         {"claim_id": "c", "quantity": "q (LSTM) [control]", "verdict": "inconclusive", "estimate": 0.2,
    ...          "low": -0.1, "high": 0.5, "variant": "control", "variant_of": "q (LSTM)"}]
    >>> control_column(rows)
    'inconclusive on LSTM (differs: reproduced on the main model)'
    """
    rows = [dict(row) for row in rows]
    if not any(row.get("variant") for row in rows):
        return "–"
    parts = []
    for pair in variant_verdicts(rows):
        text = f"{pair['variant_verdict']} on {_place(str(pair['quantity']))}"
        if not pair["holds"]:
            text += f" (differs: {pair['main_verdict']} on the main model)"
        parts.append(text)
    return "; ".join(parts)


def robustness_glue(rows: Iterable[Mapping[str, Any]] | pd.DataFrame) -> dict[str, int]:
    """The summary's counts across training runs and on the control models, by glue name.

    ``n_runs_rows`` (main rows with a counted verdict measured on more than one training run), ``n_runs_hold``
    (of them, those whose verdict holds on every run), ``n_runs_single`` (counted main rows measured on one
    run), ``n_control_rows`` (counted control rows) and ``n_control_same`` (of them, those with their main
    row's verdict).

    >>> row = {"quantity": "q", "verdict": "reproduced", "claim_id": "c", "estimate": 1, "low": 0, "high": 2,
    ...        "training_runs": {"n": 3, "holds": 2, "verdicts": ["reproduced", "reproduced", "inconclusive"],
    ...                          "note": None}}
    >>> robustness_glue([row])
    {'n_runs_rows': 1, 'n_runs_hold': 0, 'n_runs_single': 0, 'n_control_rows': 0, 'n_control_same': 0}
    """
    rows = _rows(rows)
    entries = [row.get("training_runs") for row in rows
               if row.get("variant") is None and row["verdict"] in COUNTED_VERDICTS]
    entries = [entry for entry in entries if isinstance(entry, Mapping)]
    paired = [pair for pair in variant_verdicts(rows)
              if pair["main_verdict"] in COUNTED_VERDICTS and pair["variant_verdict"] in COUNTED_VERDICTS]
    return {"n_runs_rows": sum(entry["n"] > 1 for entry in entries),
            "n_runs_hold": sum(entry["n"] > 1 and entry["holds"] == entry["n"] for entry in entries),
            "n_runs_single": sum(entry["n"] == 1 for entry in entries),
            "n_control_rows": len(paired), "n_control_same": sum(pair["holds"] for pair in paired)}


def count_glue(rows: Iterable[Mapping[str, Any]] | pd.DataFrame, register: Register | None = None) -> dict[str, int]:
    """The counts the summary's prose cites, by glue name.

    ``n_<source>_<verdict>`` for every source in the register and every counted verdict (the source's key with
    its non-alphanumeric characters dropped), ``n_<source>_findings`` (its counted rows of kind *finding*),
    ``n_<source>_holm`` (its decided verdicts that survive Holm), and ``n_counted``, ``n_new``,
    ``n_underpowered``, ``n_claims`` (registered claims with a counted row).
    """
    register = load_register() if register is None else register
    rows = _rows(rows)
    survives = holm_survivors(rows)
    values: dict[str, int] = {}
    for source in register.sources:
        key = "".join(character for character in source if character.isalnum())
        mine = [(row, kept) for row, kept in zip(rows, survives) if str(row["source"]) == source]
        for word in COUNTED_VERDICTS:
            values[f"n_{key}_{word}"] = sum(row["verdict"] == word for row, _ in mine)
        values[f"n_{key}_findings"] = sum(row["verdict"] in COUNTED_VERDICTS and row.get("kind") == "finding"
                                          for row, _ in mine)
        values[f"n_{key}_decided"] = sum(row["verdict"] in DECIDED_VERDICTS for row, _ in mine)
        values[f"n_{key}_holm"] = sum(kept for _, kept in mine)
    values["n_counted"] = sum(row["verdict"] in COUNTED_VERDICTS for row in rows)
    values["n_new"] = sum(row["verdict"] == "new" for row in rows)
    values["n_underpowered"] = sum(row["verdict"] == "underpowered" for row in rows)
    values["n_claims"] = len({row["claim_id"] for row in rows
                              if row.get("claim_id") and row["verdict"] in COUNTED_VERDICTS})
    return values
