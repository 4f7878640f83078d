"""The models chapter's checks that vidsal's models avoid the four defects of seed 000's public code.

Seed 000's code (REFERENCE.md) trained its CNN+LSTM with a frame-encoder head
that never trained, ran an input-cell attention whose window was never set,
computed saliency with BatchNorm in training mode, and cut clips whose first
frame gave the class away. Each check measures the defect on the trained
models of a profile, with :mod:`vidsal_study.chapters.models.report`'s functions, and
returns a small typed result whose ``glued()`` gives the chapter's glue key →
value:

- :func:`change_findings` (:class:`ChangeFindings`): how far training moved each part of the LSTMs;
- :func:`attention_findings` (:class:`AttentionFindings`): how many frames the ICA-LSTM attends to;
- :func:`dependence_findings` (:class:`DependenceFindings`): whether an explanation depends on its batch;
- :func:`offset_findings` (:class:`OffsetFindings`): whether a training clip's first frame tells its class.

Nothing here draws or glues; :mod:`vidsal_core.plot` draws the figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd
import torch

from vidsal_core.errors import ConfigError
from vidsal_study.chapters.models.findings import AccuracyFindings, chosen_videos
from vidsal_study.chapters.models.report import (attended_frames, batch_dependence, offset_only_accuracy, parameter_change,
                                       training_clip_offsets)
from vidsal_core.saliency.gradients import input_gradient
from vidsal_study.runs import run_dataset

#: The models whose parts :func:`change_findings` checks (seed 000's LSTMs).
LSTM_MODELS = ("frame_lstm", "ica_lstm")
#: The part seed 000 left untrained: the frame encoder's projection.
PROJECTION = "encoder.projection"
#: Largest relative gradient change in eval mode still read as "does not depend on its batch".
EVAL_TOLERANCE = 1e-4
#: Fewest frames attended at the last step still read as "spread".
SPREAD_FRAMES = 1.5
#: Seed 000's clip starts: running at frame 0, walking at frame 10.
SEED_OFFSETS = {"running": 0, "walking": 10}


# --- 1. a frame-encoder head that never trained -----------------------------------------------------------


@dataclass(frozen=True)
class ChangeFindings:
    """How far training moved each part of each LSTM run from its untrained control.

    Attributes
    ----------
    table : pandas.DataFrame
        Part × run: ``‖θ_trained − θ_untrained‖ / ‖θ_untrained‖``
        (:func:`~vidsal_study.chapters.models.report.parameter_change` at depth 2); empty without an LSTM run.
    """

    table: pd.DataFrame

    @property
    def smallest(self) -> float:
        """The smallest relative change of any part of any run (NaN without a run)."""
        return self.table.min().min() if len(self.table) else float("nan")

    def glued(self) -> dict[str, Any]:
        """``smallest_change``, ``smallest_change_part``, ``projection_change`` and ``change_reading``."""
        table, smallest = self.table, self.smallest
        return {
            "smallest_change": float(smallest),
            "smallest_change_part": str(table.min(axis=1).idxmin()) if len(table) else "-",
            "projection_change": float(table.loc[PROJECTION].min()) if PROJECTION in table.index else float("nan"),
            "change_reading": "Every part moved" if smallest > 0 else "Some part did NOT move",
        }


def change_findings(accuracy: AccuracyFindings, trained: Mapping[str, Any],
                    untrained: Callable[[str], Any]) -> ChangeFindings:
    """:class:`ChangeFindings` of ``accuracy``'s LSTM runs (``untrained``: run name → its untrained control)."""
    changes = {}
    for name in accuracy.names:
        if accuracy[name].run.spec.model in LSTM_MODELS:
            changes[name] = parameter_change(trained[name].model, untrained(name), depth=2)["relative change"]
    return ChangeFindings(pd.DataFrame(changes))


# --- 2. an input-cell attention window that was never set ---------------------------------------------------


@dataclass(frozen=True)
class AttentionFindings:
    """The effective number of frames each step of the ICA-LSTM runs attends to.

    Attributes
    ----------
    spreads : dict
        Run → ``(T,)`` :func:`~vidsal_study.chapters.models.report.attended_frames` over its chosen test videos.
    """

    spreads: dict[str, np.ndarray]

    def glued(self) -> dict[str, Any]:
        """``attention_last`` (frames attended at the last step, per run), ``attention_length`` (the steps; per
        run where the runs' clips differ in length, e.g. a 16-frame control beside 30-frame runs),
        ``attention_reading``."""
        if not self.spreads:
            return {"attention_reading": "Not measured", "attention_last": "not measured (no ICA-LSTM run)",
                    "attention_length": 0}
        last = {name: float(spread[-1]) for name, spread in self.spreads.items()}
        lengths = [len(spread) for spread in self.spreads.values()]
        return {"attention_last": ", ".join(f"{value:.1f} ({name})" for name, value in last.items()),
                "attention_length": lengths[0] if len(set(lengths)) == 1
                else ", ".join(f"{length} ({name})" for name, length in zip(self.spreads, lengths)),
                "attention_reading": "It is spread, not peaked on the current frame"
                if min(last.values()) > SPREAD_FRAMES else
                "It is peaked on few frames, close to the seed's current-frame-only cell"}


def attention_findings(accuracy: AccuracyFindings, trained: Mapping[str, Any], test_set: Callable[[Any], Any],
                       videos: int) -> AttentionFindings:
    """:class:`AttentionFindings` of ``accuracy``'s ICA-LSTM runs, on ``videos`` evenly spaced test videos each."""
    spreads = {}
    for name in accuracy.names:
        if accuracy[name].run.spec.model == "ica_lstm":
            chosen = chosen_videos(test_set(accuracy[name].run), int(videos))
            with torch.no_grad():
                spreads[name] = attended_frames(trained[name].model.attention_weights(chosen)).numpy()
    return AttentionFindings(spreads)


# --- 3. BatchNorm in training mode during saliency ----------------------------------------------------------


@dataclass(frozen=True)
class DependenceFindings:
    """How much a video's input gradient changes with the other videos of its batch, per run and mode.

    Attributes
    ----------
    table : pandas.DataFrame
        By run: ``eval mode (vidsal)``, ``training mode (seed 000)``
        (:func:`~vidsal_study.chapters.models.report.batch_dependence`), ``batch norm layers``, ``model in eval mode``.
    companions : int
        Other videos in the batch (of the last run; fewer where a test set is smaller).
    refusal : str
        What vidsal's input gradient says when asked about a model in training mode.
    """

    table: pd.DataFrame
    companions: int
    refusal: str

    def glued(self) -> dict[str, Any]:
        """``eval_dependence`` (largest), ``train_dependence`` (smallest), ``companions``, ``refusal``,
        ``eval_reading``."""
        largest = self.table["eval mode (vidsal)"].max()
        return {"eval_dependence": float(largest),
                "train_dependence": float(self.table["training mode (seed 000)"].min()),
                "companions": self.companions, "refusal": self.refusal,
                "eval_reading": "does not depend on its batch" if largest < EVAL_TOLERANCE
                else "DOES depend on its batch"}


def refusal_text(model: torch.nn.Module, videos: torch.Tensor) -> str:
    """The first clause of the error vidsal's input gradient raises for ``model`` in training mode.

    The model is put back in eval mode afterwards.
    """

    try:
        input_gradient(model.train(), videos)
        return "no error (unexpected)"
    except ConfigError as error:
        return str(error).split(";")[0]
    finally:
        model.eval()


def dependence_findings(accuracy: AccuracyFindings, trained: Mapping[str, Any], test_set: Callable[[Any], Any],
                        companions: int) -> DependenceFindings:
    """:class:`DependenceFindings` of every run of ``accuracy``: its first test video's predicted class, explained
    alone and in a batch with ``companions`` other evenly spaced test videos, in eval and in training mode."""
    if not accuracy.names:
        raise ConfigError("accuracy: no run to check")
    rows = []
    for name in accuracy.names:
        model = trained[name].model
        videos = chosen_videos(test_set(accuracy[name].run), int(companions) + 1)
        with torch.no_grad():
            target = int(model(videos[:1]).argmax())
        rows.append({
            "run": name, "eval mode (vidsal)": batch_dependence(model, videos[0], videos[1:], target, training=False),
            "training mode (seed 000)": batch_dependence(model, videos[0], videos[1:], target, training=True),
            "batch norm layers": sum(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in model.modules()),
            "model in eval mode": not model.training})
    refusal = refusal_text(trained[accuracy.names[0]].model, videos[:1])
    return DependenceFindings(pd.DataFrame(rows).set_index("run"), len(videos) - 1, refusal)


# --- 4. clips whose first frame gives the class away --------------------------------------------------------


@dataclass(frozen=True)
class OffsetFindings:
    """The first frames of a binary run's training clips, and how well they alone tell the class.

    Attributes
    ----------
    classes : tuple of str
        The run's classes (labels index them).
    offsets : pandas.DataFrame or None
        :func:`~vidsal_study.chapters.models.report.training_clip_offsets` over the epochs checked; None: no binary run.
    accuracy, seed_accuracy : float
        :func:`~vidsal_study.chapters.models.report.offset_only_accuracy` of vidsal's offsets (fitted on the first half of
        the epochs, scored on the rest) and of seed 000's scheme (:data:`SEED_OFFSETS`).
    evaluation_offset : str
        Where the run cuts its test clips.
    """

    classes: tuple[str, ...] = ()
    offsets: pd.DataFrame | None = None
    accuracy: float = float("nan")
    seed_accuracy: float = float("nan")
    evaluation_offset: str = ""

    def glued(self) -> dict[str, Any]:
        """``offset_accuracy`` and ``seed_offset_accuracy`` (NaN without a binary run), and with one
        ``offset_clips``, ``offset_range`` and ``evaluation_offset``."""
        values: dict[str, Any] = {"offset_accuracy": self.accuracy, "seed_offset_accuracy": self.seed_accuracy}
        if self.offsets is not None:
            offsets = self.offsets
            values.update({"offset_clips": len(offsets),
                           "offset_range": f"{offsets.offset.min()}–{offsets.offset.max()}",
                           "evaluation_offset": self.evaluation_offset})
        return values


def offset_findings(accuracy: AccuracyFindings, corpora: Mapping[str, Any], epochs: int) -> OffsetFindings:
    """:class:`OffsetFindings` of the first binary run of ``accuracy`` over ``epochs`` epochs of its training clips."""

    if not accuracy.binary:
        return OffsetFindings()
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 2:
        raise ConfigError(f"epochs={epochs!r}: expected an integer of at least 2 (half to fit, half to test)")
    run = accuracy[accuracy.binary[0]].run
    corpus = corpora[run.corpus_section]
    offsets = training_clip_offsets(run_dataset(run, corpus, "train"), corpus.config.n_frames, range(int(epochs)))
    fit, held_out = offsets[offsets.epoch < epochs // 2], offsets[offsets.epoch >= epochs // 2]
    vidsal = offset_only_accuracy(fit.offset, fit.label, held_out.offset, held_out.label)
    classes = tuple(run.spec.classes)
    seed_offsets = np.where(offsets.label == classes.index("running"), SEED_OFFSETS["running"],
                            SEED_OFFSETS["walking"])
    seed = offset_only_accuracy(seed_offsets, offsets.label, seed_offsets, offsets.label)
    return OffsetFindings(classes, offsets, vidsal, seed, str(run.data["evaluation_offset"]))
