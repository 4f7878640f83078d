"""A tiny hand-made time-contribution study (the records run_study keeps), for the findings and figure tests.

Two models measure the same four clips of six frames (two walking, two
running, four persons). Every number is chosen so that a test can know the
result by hand: contributions rise over the clip (the second half holds
more), the accuracy drop peaks at frame 4, the ICA-LSTM's records lack
the blurred masks.
"""

from __future__ import annotations

import numpy as np

from vidsal_study.chapters.time_contribution.study import Study, StudySettings, agreement

RUNS = ("frame_lstm_binary", "ica_lstm_binary")
N_FRAMES = 6
#: Per clip: action, person, visibility, correct under the LSTM, correct under the ICA-LSTM.
CLIPS = (
    ("walking", 1, [0.0, 0.0, 0.2, 0.6, 1.0, 1.0], 1.0, 0.0),  # least in view, but the ICA-LSTM is wrong
    ("walking", 2, [0.0, 0.4, 0.8, 1.0, 1.0, 1.0], 1.0, 1.0),
    ("running", 3, [1.0, 1.0, 0.6, 0.2, 0.0, 0.0], 0.0, 0.0),  # least in view of the running clips
    ("running", 4, [1.0, 1.0, 1.0, 0.8, 0.4, 0.2], 1.0, 0.0),
)


def contribution(clip: int, run: int, window: int) -> np.ndarray:
    """Rising drops: ``0.01 * (t + 1)`` scaled per clip, model and window."""
    return 0.01 * (np.arange(N_FRAMES) + 1.0) * (1.0 + 0.1 * clip + 0.05 * run) * (1.0 + 0.5 * (window - 1))


def accuracy_drop(run: int) -> np.ndarray:
    drop = np.zeros(N_FRAMES)
    drop[4] = 0.02 + 0.01 * run  # frame 4 costs 2 (LSTM) or 3 (ICA-LSTM) points
    return drop


def study(with_blur: tuple[bool, ...] = (True, False)) -> Study:
    settings = StudySettings(runs=RUNS, windows=(1, 3), baselines=("zero", "blur"), resamples=50)
    result = Study(settings, seconds=1.5)
    for position, run in enumerate(RUNS):
        records = []
        for clip, (action, person, visibility, *correct) in enumerate(CLIPS):
            visibility = np.array(visibility)
            curves = {window: contribution(clip, position, window) for window in (1, 3)}
            record = {
                "contribution": curves, "flips": {1: 0.1 * clip, 3: 0.2 * clip}, "synergy": {3: 0.01 * (clip - 1)},
                "logit_synergy": {3: 0.2 * (clip - 1.5)},
                "baseline_contribution": {"zero": curves[1]}, "baseline_flips": {"zero": 0.1 * clip},
                "accuracy_drop": accuracy_drop(position), "keyframes": np.array([1, 4]),
                "differences": np.linspace(0.0, 1.0, N_FRAMES), "key": f"video{clip}", "person": person,
                "action": action, "scenario": f"d{clip + 1}", "frames": np.arange(10, 10 + N_FRAMES),
                "visibility": visibility, "limb_motion": np.linspace(1.0, 2.0, N_FRAMES) * (clip + 1),
                "correct": correct[position], "prediction": 0, "label": 0,
            }
            if with_blur[position]:
                record["baseline_contribution"]["blur"] = curves[1][::-1].copy()
                record["baseline_flips"]["blur"] = 0.0
            record.update(agreement(curves[1], record["keyframes"], visibility, record["limb_motion"]))
            records.append(record)
        result.records[run] = records
        result.classes[run] = ("walking", "running")
    return result
