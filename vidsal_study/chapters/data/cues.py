"""Single-cue baselines: can a task be solved from one ground-truth cue that is not the action itself?

A classifier of walking vs running should read the gait. SynthKTH's renderer
knows two cues besides the pixels, for every clip:

- **visibility**: the share of the figure inside each frame. Runners cross the
  field faster than walkers, so a running clip holds more frames with the
  person half out of view; a classifier could separate the classes by
  counting visible frames (a cue KTH's real footage has too).
- **arm posture**: runners hold their elbows bent, walkers let their arms hang
  (the renderer's elbow angle, as in real gait); a single frame shows it, so a
  classifier need not read any motion to use it;
- **gait**: the cadence the renderer drew (steps per minute), the gait itself:
  an oracle for the task, the accuracy a model that reads the gait could reach.

:func:`cue_baselines` fits a one-feature threshold (a decision stump) per cue
on the training persons' clips and scores it on the test persons' clips, cut
as the models are evaluated (``offset="acting"``: centred on the longest run of
frames with the person in view). A threshold is the simplest classifier that
uses a cue, so an accuracy well above chance says the cue alone separates the
classes; at chance (its interval holding 0.5), the cue does not.

The **control cut** (:func:`run_cut` of a run with ``clip_region: inside``,
:mod:`vidsal_study.runs`) keeps only the clips that lie wholly inside a
run of frames with the figure in view (KTH's ``00sequences.txt`` practice),
and leaves out the videos with no such run (:func:`kept_videos` counts them):
with the whole figure in every frame, the visibility cues carry nothing, and
their thresholds fall to the larger class's share of the test clips.

Accuracies get the range-respecting interval over test persons
(:func:`~vidsal_core.statistics.mean_interval` with ``bounds=(0, 1)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from vidsal_core.statistics import UNIT, Estimate, mean_interval
from vidsal_core.data.clips import clip_span
from vidsal_core.data.sequences import DEFAULT_IN_VIEW
from vidsal_core.errors import ConfigError
from vidsal_study.runs import run_clip_options
from vidsal_study.results import interval_side, new_row

#: The cues of :func:`cue_baselines`: name → (what it is, in words).
CUES: dict[str, str] = {
    "frames in view": "frames with at least half the figure in view, of the clip's frames",
    "mean visibility": "mean share of the figure in view over the clip's frames",
    "elbow flexion": "the elbow angle the renderer drew (degrees): arm posture, which a single frame shows",
    "cadence": "the gait's cadence (steps per minute) as the renderer drew it: the gait oracle",
}


@dataclass(frozen=True)
class Stump:
    """A one-feature threshold classifier: ``positive`` when ``feature > threshold`` (``above=True``) or below.

    Attributes
    ----------
    threshold : float
        Midway between the two training values that the best split separates.
    above : bool
        Whether the positive class lies above the threshold.
    train_accuracy : float
        Its accuracy on the clips it was fitted on.
    """

    threshold: float
    above: bool
    train_accuracy: float

    def predict(self, values: Sequence[float]) -> np.ndarray:
        """1 (the positive class) or 0 for each value."""
        values = np.asarray(values, dtype=float)
        return ((values > self.threshold) if self.above else (values <= self.threshold)).astype(int)


def fit_stump(values: Sequence[float], labels: Sequence[int]) -> Stump:
    """The threshold on ``values`` with the highest training accuracy for binary ``labels`` (0 or 1).

    Every cut between two consecutive distinct values is tried, in both
    directions; ties keep the first (lowest) threshold.

    Examples
    --------
    >>> stump = fit_stump([1, 2, 3, 10, 11, 12], [0, 0, 0, 1, 1, 1])
    >>> stump.threshold, stump.above, stump.train_accuracy
    (6.5, True, 1.0)
    >>> stump.predict([0, 7]).tolist()
    [0, 1]
    """
    values = np.asarray(values, dtype=float)
    labels = np.asarray(labels)
    if values.ndim != 1 or values.shape != labels.shape or values.size == 0:
        raise ConfigError(f"fit_stump: expected one label per value, got {values.shape} values, {labels.shape} labels")
    if not np.isfinite(values).all():
        raise ConfigError("fit_stump: values must be finite")
    if set(np.unique(labels).tolist()) - {0, 1}:
        raise ConfigError(f"fit_stump: labels must be 0 or 1, got {sorted(set(labels.tolist()))}")
    distinct = np.unique(values)
    cuts = (distinct[:-1] + distinct[1:]) / 2 if distinct.size > 1 else distinct
    best = None
    for cut in np.concatenate([[distinct[0] - 1.0], cuts]):
        for above in (True, False):
            predicted = (values > cut) if above else (values <= cut)
            accuracy = float(np.mean(predicted.astype(int) == labels))
            if best is None or accuracy > best.train_accuracy:
                best = Stump(float(cut), above, accuracy)
    return best


def clip_cues(corpus: Any, split: str, actions: Sequence[str], clip_length: int, step: int = 1,
              offset: int | str = "acting", in_view: float = DEFAULT_IN_VIEW, inside: bool = False,
              clip_in_view: float = DEFAULT_IN_VIEW) -> pd.DataFrame:
    """One row per video of ``split``: its person, label and every cue of :data:`CUES`, on the clip a model sees.

    Parameters
    ----------
    corpus : Corpus
        A built SynthKTH corpus (:func:`vidsal_core.data.corpus.build_corpus`).
    split : {"train", "validation", "test"}
    actions : sequence of str
        The task's classes; labels are their order in KTH (:data:`~vidsal_core.data.dataset.KTH_ACTIONS`).
    clip_length, step, offset
        How clips are cut (as :meth:`~vidsal_core.data.corpus.Corpus.dataset`; ``"acting"`` as the models
        are evaluated).
    in_view : float, default 0.5
        Least share of the figure for a frame to count as in view in the cue "frames in view".
    inside, clip_in_view : bool, float
        Where the clips are cut (as :meth:`~vidsal_core.data.corpus.Corpus.dataset`'s ``inside`` and
        ``in_view``): ``offset="acting"`` centres a clip on the longest run of frames with visibility >=
        ``clip_in_view``, and ``inside=True`` keeps only the videos with such a run as long as the clip (the
        control cut of :func:`run_cut`).
    """
    dataset = corpus.dataset(split=split, actions=list(actions), clip_length=clip_length, step=step, offset=offset,
                             title_frames=0, with_truth=True, in_view=clip_in_view, inside=inside)
    if len(dataset) == 0:
        raise ConfigError(f"clip_cues: the {split} split of corpus {corpus.config_hash} has no videos of {list(actions)}")
    rows = []
    for index in range(len(dataset)):
        item = dataset[index]
        visibility = item.truth.visibility.numpy().astype(float)
        meta = corpus.load(item.meta["key"])["meta"]
        rows.append({"video": item.meta["key"], "person": int(item.meta["person"]), "action": item.meta["action"],
                     "label": int(item.label), "frames in view": float(np.mean(visibility >= in_view)),
                     "mean visibility": float(visibility.mean()),
                     "elbow flexion": float(meta["parameters"]["elbow"]),
                     "cadence": float(meta["cadence_steps_per_minute"])})
    return pd.DataFrame(rows)


def run_cut(run: Any) -> dict[str, Any]:
    """:func:`clip_cues`'s ``clip_length``, ``step``, ``offset``, ``inside`` and ``clip_in_view`` for the test clips
    of a run (:class:`~vidsal_study.runs.Run`), as :func:`~vidsal_study.runs.run_clip_options` cuts them."""
    options = run_clip_options(run)
    return {"clip_length": options["clip_length"], "step": options["step"], "offset": options["offset"],
            "inside": options["inside"], "clip_in_view": options["in_view"]}


@dataclass(frozen=True)
class CueBaseline:
    """One cue's threshold classifier and its accuracy on the test persons."""

    cue: str
    stump: Stump
    accuracy: Estimate


def cue_baselines(train: pd.DataFrame, test: pd.DataFrame,
                  cues: Sequence[str] = tuple(CUES)) -> dict[str, CueBaseline]:
    """Fit one threshold per cue on ``train`` (:func:`clip_cues` rows) and score it on ``test``.

    Returns
    -------
    dict
        Cue → :class:`CueBaseline`; its ``accuracy`` is the mean of per-clip hits over the test clips, with a
        range-respecting 95% interval over test persons.
    """
    unknown = sorted(set(cues) - set(CUES))
    if unknown:
        raise ConfigError(f"cues: unknown {unknown}; known {list(CUES)}")
    for name, frame in (("train", train), ("test", test)):
        if frame.empty or frame["label"].nunique() != 2:
            raise ConfigError(f"cue_baselines: the {name} clips must hold both classes of a binary task")
    found = {}
    for cue in cues:
        stump = fit_stump(train[cue].to_numpy(), train["label"].to_numpy())
        hits = (stump.predict(test[cue].to_numpy()) == test["label"].to_numpy()).astype(float)
        found[cue] = CueBaseline(cue, stump, mean_interval(hits, test["person"].to_numpy(), bounds=UNIT))
    return found


def baseline_table(found: Mapping[str, CueBaseline], describe: Callable[[str], str] = CUES.get) -> pd.DataFrame:
    """The baselines as a table: cue, what it is, threshold, training and test accuracy (with its interval)."""
    return pd.DataFrame([{"cue": cue, "what": describe(cue),
                          "rule": f"{'above' if b.stump.above else 'at or below'} {b.stump.threshold:.3g}",
                          "train accuracy": round(b.stump.train_accuracy, 3),
                          "test accuracy (95% CI over persons)": b.accuracy.text(".3f")}
                         for cue, b in found.items()])


#: The glue name of each cue in :func:`cue_glue`.
GLUE_NAMES = {"frames in view": "visibility", "mean visibility": "mean_visibility", "elbow flexion": "posture",
              "cadence": "gait"}


def cue_glue(found: Mapping[str, CueBaseline], train: pd.DataFrame, test: pd.DataFrame | None = None,
             prefix: str = "cue") -> dict[str, str]:
    """The data chapter's glued texts: ``<prefix>_<name>_accuracy`` (interval) and ``<prefix>_<name>_rule`` per
    cue (names of :data:`GLUE_NAMES`), and ``<prefix>_in_view_medians``, the training clips' median share of
    frames in view per action, ``<prefix>_<name>_side`` (``"at chance"`` where the interval holds 0.5, else
    ``"above chance"`` or ``"below chance"``). With ``test``, also ``<prefix>_majority``: the share of the test clips in the
    training clips' larger class, what a threshold on a feature that is the same for every clip scores (it names
    that class for every clip): chance, where the kept videos make the classes unequal."""
    values = {}
    for cue, baseline in found.items():
        values[f"{prefix}_{GLUE_NAMES[cue]}_accuracy"] = baseline.accuracy.text(".3f")
        values[f"{prefix}_{GLUE_NAMES[cue]}_rule"] = (f"{'above' if baseline.stump.above else 'at or below'} "
                                                      f"{baseline.stump.threshold:.3g}")
        side = interval_side(baseline.accuracy.low, baseline.accuracy.high, 0.5)
        values[f"{prefix}_{GLUE_NAMES[cue]}_side"] = {"holds": "at chance", "above": "above chance",
                                                      "below": "below chance"}[side]
    values[f"{prefix}_in_view_medians"] = " and ".join(f"{value:.2f} ({action})" for action, value in
                                                       train.groupby("action")["frames in view"].median().items())
    if test is not None:
        larger = train["action"].value_counts().idxmax()
        count, total = int((test["action"] == larger).sum()), len(test)
        values[f"{prefix}_majority"] = f"{count / total:.3f} (the {count} {larger} clips of {total} test clips)"
    return values


def kept_videos(corpus: Any, actions: Sequence[str], clip_length: int, step: int = 1, inside: bool = False,
                clip_in_view: float = DEFAULT_IN_VIEW, splits: Sequence[str] = ("train", "validation", "test"),
                **_: Any) -> pd.DataFrame:
    """Videos per split (rows) and action (columns) that a cut keeps, as ``"kept of all"`` texts.

    Takes :func:`run_cut`'s keywords (``offset`` is ignored: it moves clips, it drops none). Without
    ``inside`` every video is kept.
    """
    rows = {}
    for split in splits:
        every = corpus.select(split=split, actions=list(actions), title_frames=0)
        kept = corpus.inside_entries(every, clip_span(clip_length, step), clip_in_view) if inside else every
        rows[split] = {action: f"{sum(e['action'] == action for e in kept)} of "
                               f"{sum(e['action'] == action for e in every)}" for action in actions}
    return pd.DataFrame(rows).T


def cut_table(found_by_cut: Mapping[str, Mapping[str, CueBaseline]]) -> pd.DataFrame:
    """The test accuracies (95% interval over persons) of every cue (rows) on every cut of clips (columns)."""
    return pd.DataFrame({cut: {cue: baseline.accuracy.text(".3f") for cue, baseline in found.items()}
                         for cut, found in found_by_cut.items()})


#: The claim the data chapter's cue rows speak to (a ``new`` row: beyond the seed).
CUE_CLAIM = "A cue other than gait separates walking from running (beyond the seed)"


@dataclass(frozen=True)
class CueCut:
    """The cue baselines on one cut of clips (:func:`cue_cut`).

    Attributes
    ----------
    cut : dict
        :func:`clip_cues`'s clip keywords (:func:`run_cut`, with any changes).
    train, test : pandas.DataFrame
        :func:`clip_cues` of the training and the test persons.
    found : dict
        Cue → :class:`CueBaseline` (:func:`cue_baselines`).
    kept : pandas.DataFrame
        :func:`kept_videos` of the cut.
    prefix : str
        Prefix of the glue names (:func:`cue_glue`).
    """

    cut: dict
    train: pd.DataFrame
    test: pd.DataFrame
    found: dict
    kept: pd.DataFrame
    prefix: str = "cue"

    def glued(self) -> dict[str, Any]:
        """:func:`cue_glue`'s texts, ``<prefix>_clip_length``, ``<prefix>_in_view`` and, per action,
        ``<prefix>_kept_<action>`` (videos kept per split)."""
        values: dict[str, Any] = cue_glue(self.found, self.train, self.test, self.prefix)
        values[f"{self.prefix}_clip_length"] = int(self.cut["clip_length"])
        values[f"{self.prefix}_in_view"] = f"{self.cut['clip_in_view']:g}"
        for action in self.kept.columns:
            values[f"{self.prefix}_kept_{action}"] = ", ".join(f"{self.kept.loc[split, action]} ({split})"
                                                               for split in self.kept.index)
        return values

    def rows(self, cues: Sequence[str]) -> list[dict[str, Any]]:
        """``new`` rows (:func:`~vidsal_study.results.new_row`) of the test accuracy of ``cues`` on this cut."""
        where = (f", control cut (clips wholly inside runs with visibility >= {self.cut['clip_in_view']:g})"
                 if self.cut["inside"] else "")
        chance = (f"; chance here: naming the training clips' larger class scores "
                  f"{self.glued()[f'{self.prefix}_majority']}" if self.cut["inside"] else "")
        return [new_row("000", CUE_CLAIM, f"test accuracy of a threshold on {cue}{where}, fraction of test clips",
                        self.found[cue].accuracy,
                        note=f"threshold {'above' if self.found[cue].stump.above else 'at or below'} "
                             f"{self.found[cue].stump.threshold:.3g}, fitted on the training persons{chance}")
                for cue in cues]


def cue_cut(corpus: Any, run: Any, prefix: str = "cue", cues: Sequence[str] = tuple(CUES), **changes: Any) -> CueCut:
    """The cue baselines of ``run``'s classes on the clips ``run`` is tested on (:func:`run_cut`), or a variant.

    Parameters
    ----------
    corpus : Corpus
        The run's corpus, built.
    run : Run
        A run of two classes (:class:`~vidsal_study.runs.Run`).
    prefix : str, default "cue"
        Prefix of the glue names.
    cues : sequence of str
        Cues of :data:`CUES` to fit.
    **changes
        Changes to :func:`run_cut`'s keywords, e.g. ``clip_in_view=0.99`` for a looser control.
    """
    cut = run_cut(run)
    unknown = sorted(set(changes) - set(cut))
    if unknown:
        raise ConfigError(f"cue_cut: unknown change(s) {unknown}; expected some of {sorted(cut)}")
    cut.update(changes)
    actions = list(run.spec.classes)
    train, test = (clip_cues(corpus, split, actions, **cut) for split in ("train", "test"))
    return CueCut(cut, train, test, cue_baselines(train, test, cues), kept_videos(corpus, actions, **cut), prefix)
