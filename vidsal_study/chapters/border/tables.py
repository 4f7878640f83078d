"""The border chapters' tables: seed 002's Table 1, Markdown tables, and the command's report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

import pandas as pd

from vidsal_study.chapters.border.settings import EXPLANATIONS, TOP_K
from vidsal_study.chapters.border.stats import accuracy_by, best_step, effects_by, shared_offsets, signed_interval_text, step_gain

if TYPE_CHECKING:
    from vidsal_study.chapters.border.study import BorderStudy


#: Coefficients are printed ×100: in percentage points of the relevance share.
TABLE_SCALE = 100.0


def table_one(frames: Mapping[str, pd.DataFrame], explanations: Sequence[str] = tuple(EXPLANATIONS)) -> pd.DataFrame:
    """Seed 002's Table 1: rows (model · data, coefficient), columns the explanations; ``mean [95% CI]`` ×100.

    Parameters
    ----------
    frames : mapping of str to DataFrame
        Row label (e.g. ``"C3D · SynthKTH"``) → :func:`results_frame` of its offset sweep.
    """
    rows = []
    for label, frame in frames.items():
        if frame.empty:
            continue
        effects = effects_by(frame, ["explanation"]).set_index("explanation")
        clips = int(effects["clips"].max())
        groups = int(effects["groups"].max())
        for coefficient, name in (("border a", "border"), ("lookahead d", "lookahead")):
            row = {"model · data": f"{label} ({clips} clips, {groups} groups)", "coefficient": coefficient}
            for explanation in explanations:
                if explanation in effects.index and name in effects.columns:
                    values = effects.loc[explanation]
                    row[explanation] = signed_interval_text(values[name], values[f"{name}_low"], values[f"{name}_high"],
                                                     TABLE_SCALE)
                else:
                    row[explanation] = "—"
            rows.append(row)
    return pd.DataFrame(rows)


def markdown_table(frame: pd.DataFrame, float_format: str = "{:.3g}") -> str:
    """A DataFrame as a Markdown table (plain text readable too)."""
    header = [str(column) for column in frame.columns]
    cells = [[float_format.format(value) if isinstance(value, float) else str(value) for value in row]
             for row in frame.itertuples(index=False)]
    widths = [max(len(line[i]) for line in [header] + cells) for i in range(len(header))]
    lines = ["| " + " | ".join(cell.ljust(width) for cell, width in zip(line, widths)) + " |" for line in [header] + cells]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)



def report(study: BorderStudy) -> str:
    """The command's text: Table 1, the step sweep with accuracy, the offset sweep, the title-card test."""
    lines = [
        "Border and lookahead coefficients (seed 002, Table 1), x100 (percentage points of relevance share):",
        "mean [95% CI] over clips; bootstrap over persons (SynthKTH) or source clips (footage).",
        "border a: fitted share of the first/last frame minus that of the centre; "
        "lookahead d: half the fitted last-minus-first share.",
        "",
        markdown_table(study.table_one()),
        "",
        "Share of relevance the biases absorb per clip, 1 - sum R (deep Taylor; DTD proportional max pooling, "
        "DTD-wta winner-take-all):",
        "",
        markdown_table(study.bias_shares()),
    ]
    steps = study.frames["c3d_steps"]
    if not steps.empty:
        effects = effects_by(steps, ["step", "explanation"])
        accuracy = accuracy_by(shared_offsets(study.frames.get("c3d_accuracy", steps)), ["step"])
        table = effects.pivot(index="step", columns="explanation", values="border") * TABLE_SCALE
        table.columns = [f"border {name}" for name in table.columns]
        for k in TOP_K:
            table[f"top-{k}"] = accuracy.set_index("step")[f"top{k}"]
        lines += ["", f"C3D step sweep (border at offsets {list(study.settings.step_offsets)}, accuracy at those of "
                  f"offsets {list(study.settings.accuracy_offsets)} where every step fits; trained at step "
                  f"{study.c3d['step']}; {len(study.c3d['classes'])} classes, so top-5 is nearly trivial):",
                  "", markdown_table(table.reset_index())]
        validation = study.frames.get("c3d_validation_accuracy", pd.DataFrame())
        if len(validation) and len(study.frames.get("c3d_accuracy", [])):
            for k in (1, 5):
                chosen = best_step(validation, k, exclude=study.c3d["step"])
                gain = step_gain(study.frames["c3d_accuracy"], chosen, study.c3d["step"], k)
                lines.append(f"top-{k}: best other step on validation persons {list(study.settings.validation_persons)}: "
                             f"{chosen}; its gain over step {study.c3d['step']} on the test persons: "
                             f"{signed_interval_text(gain.mean, gain.low, gain.high)}")
    offsets = study.frames["c3d_offsets"]
    if not offsets.empty:
        effects = effects_by(offsets, ["offset", "explanation"])
        table = effects.pivot(index="offset", columns="explanation", values="lookahead") * TABLE_SCALE
        table.columns = [f"lookahead {name}" for name in table.columns]
        lines += ["", f"C3D offset sweep at step {study.c3d['step']} (lookahead d x100):", "",
                  markdown_table(table.reset_index())]
    title = study.frames["c3d_title"]
    if not title.empty:
        effects = effects_by(title[title["explanation"] == "DTD"], ["offset", "title_frames"])
        table = effects.pivot(index="offset", columns="title_frames", values="lookahead") * TABLE_SCALE
        table.columns = [f"DTD lookahead, title {name} frames" for name in table.columns]
        cards = study.training_title_frames
        trained_on = "with title cards of " + ", ".join(str(c) for c in cards if c) + " frames" if any(cards) else "without title cards"
        lines += ["", f"Title-card test (lookahead d x100, DTD; C3D trained on videos {trained_on}):", "",
                  markdown_table(table.reset_index())]
    lines += ["", "seconds per sweep: " + ", ".join(f"{name} {value:.0f}" for name, value in study.seconds.items())]
    return "\n".join(lines)

