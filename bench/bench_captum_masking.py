"""vidsal's masking engine against Captum's ``Occlusion`` and ``FeatureAblation``: same maps, seconds, ratio.

The peer a user would pick for masking attributions is Captum. Both tools
compute here, on the same model, clip and target, in one run:

``time contribution``  the drop of the target's softmax probability when one
                       whole frame is set to zero (seed 000 §4.1), per frame;
``block occlusion``    the same drop for every 10 × 10 block of every frame,
                       as a ``(T, H, W)`` map.

vidsal: :func:`~vidsal_core.saliency.time_contribution.time_contribution`
(its default engine: for the frame-CNN + LSTMs the incremental masked forward
of :mod:`vidsal_core.saliency.incremental`, for C3D the masked clips batched
under the memory bound; and ``engine="full"``, every masked clip through the
whole model, the slow twin) and, for the frame-CNN + LSTMs,
:func:`~vidsal_core.saliency.time_contribution_factorised.factorised_time_contribution`
(frames encoded once); the block map by
:func:`~vidsal_core.saliency.masking.masked_logits` over
:func:`~vidsal_core.saliency.masking.label_masks` of the blocks, with its
default engine (incremental where it applies, batches sized for the cache)
and with ``engine="full"``. The ratio of the default engine to ``engine="full"``
is printed too. Captum:
``FeatureAblation`` with a feature mask of one id per frame (or per block),
and ``Occlusion`` with a ``(1, C, H, W)`` (or ``(1, C, 10, 10)``) window
and the same stride, both on ``softmax(model(x))`` with baseline 0, each with
``perturbations_per_eval`` tried at several values (``--perturbations``;
values whose batch would exceed ``--max-batch-mib`` are skipped) and the best
kept. The ratio is the best Captum time over vidsal's (> 1: vidsal faster),
and the largest difference of the maps is printed.

Models: the default profile's FrameLSTM, ICA-LSTM and C3D architectures,
**untrained** (seeded; timing and agreement do not depend on the weights);
``--models frame_lstm_6class`` adds the 6-class FrameLSTM, whose encoder also
reads each frame's difference to the previous one (a mask then changes two
encodings; its split is not the factorised engine's, so no factorised row).
Clip: a SynthKTH walking clip at the models' input size (60 × 80), 30 frames
for the LSTMs, 16 for C3D.

The load average is printed: on a shared machine absolute seconds move, the
ratios of one run are what count.

Usage::

    .venv/bin/python bench/bench_captum_masking.py
    .venv/bin/python bench/bench_captum_masking.py --threads 1 --models frame_lstm ica_lstm --tasks blocks
    .venv/bin/python bench/bench_captum_masking.py --models c3d --perturbations 1 16
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _saliency_setup import markdown_table, synthkth_clip  # noqa: E402

RUNS = {"frame_lstm": "frame_lstm_binary", "ica_lstm": "ica_lstm_binary", "c3d": "c3d_6class",
        "frame_lstm_6class": "frame_lstm_6class"}  # the last: frame differences (the encoder reads frames t - 1 and t)


def probabilities(model):
    """``x ↦ softmax(model(x))``: the function whose drop both tools attribute."""
    def forward(videos: torch.Tensor) -> torch.Tensor:
        return torch.softmax(model(videos), dim=1)
    return forward


def vidsal_block_occlusion(model, video, target, block_size, batch_size=None, engine="auto"):
    """``(T, H, W)`` drop of the target probability when each block of each frame is set to zero."""
    from vidsal_core.saliency.masking import baseline_video, block_labels, label_masks, masked_logits

    frames, _, height, width = video.shape
    labels = block_labels(height, width, block_size)
    masks = label_masks(labels.expand(frames, height, width))
    with torch.no_grad():
        probability = torch.softmax(model(video[None]), dim=1)[0, target]
    logits = masked_logits(model, video, masks, baseline_video(video, "zero"), batch_size=batch_size, engine=engine)
    drops = probability - torch.softmax(logits, dim=1)[:, target]
    table = drops.new_zeros(frames, int(labels.max()) + 1)
    table[masks.starts, masks.regions] = drops
    return table[torch.arange(frames)[:, None, None], labels[None]]


def captum_time_contribution(model, video, target, method, perturbations):
    """``(T,)`` per-frame probability drop by Captum's FeatureAblation or Occlusion."""
    from captum.attr import FeatureAblation, Occlusion

    inputs = video[None]
    frames, channels, height, width = video.shape
    if method == "FeatureAblation":
        mask = torch.arange(frames).view(1, frames, 1, 1, 1)
        attribution = FeatureAblation(probabilities(model)).attribute(
            inputs, target=target, baselines=0.0, feature_mask=mask, perturbations_per_eval=perturbations)
    else:
        window = (1, channels, height, width)
        attribution = Occlusion(probabilities(model)).attribute(
            inputs, sliding_window_shapes=window, strides=window, baselines=0.0, target=target,
            perturbations_per_eval=perturbations)
    return attribution[0, :, 0, 0, 0]


def captum_block_occlusion(model, video, target, block_size, method, perturbations):
    """``(T, H, W)`` per-block probability drop by Captum's FeatureAblation or Occlusion."""
    from captum.attr import FeatureAblation, Occlusion

    from vidsal_core.saliency.masking import block_labels

    inputs = video[None]
    frames, channels, height, width = video.shape
    if method == "FeatureAblation":
        labels = block_labels(height, width, block_size)
        blocks = int(labels.max()) + 1
        mask = (torch.arange(frames)[:, None, None] * blocks + labels[None])[None, :, None]
        attribution = FeatureAblation(probabilities(model)).attribute(
            inputs, target=target, baselines=0.0, feature_mask=mask, perturbations_per_eval=perturbations)
    else:
        window = (1, channels, block_size, block_size)
        attribution = Occlusion(probabilities(model)).attribute(
            inputs, sliding_window_shapes=window, strides=window, baselines=0.0, target=target,
            perturbations_per_eval=perturbations)
    return attribution[0, :, 0]


def seconds_of(function):
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def main() -> None:
    from vidsal_core.models.registry import build_model
    from vidsal_study.runs import run_settings
    from vidsal_core.saliency.masking import model_bytes_per_video
    from vidsal_core.saliency.time_contribution import time_contribution
    from vidsal_core.saliency.time_contribution_factorised import factorised_time_contribution

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--models", nargs="+", choices=sorted(RUNS), default=["frame_lstm", "ica_lstm", "c3d"])
    parser.add_argument("--block-size", type=int, default=10)
    parser.add_argument("--perturbations", nargs="+", type=int, default=[1, 16, 64],
                        help="Captum perturbations_per_eval values to try (the best is kept)")
    parser.add_argument("--max-batch-mib", type=float, default=2048.0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--tasks", nargs="+", choices=["time", "blocks"], default=["time", "blocks"])
    arguments = parser.parse_args()
    if arguments.threads:
        torch.set_num_threads(arguments.threads)
    torch.set_grad_enabled(False)
    start_load = " ".join(f"{value:.2f}" for value in os.getloadavg())

    rows = []
    for name in arguments.models:
        settings = run_settings(arguments.profile, RUNS[name])
        model = build_model(settings["model"], settings["model_config"], seed=0).eval()
        height, width = settings["data"]["size"]
        video = synthkth_clip(frames=settings["data"]["clip_length"], height=height, width=width)
        target = int(model(video[None]).argmax(1))
        per_video = model_bytes_per_video(model, video)
        tries = [value for value in arguments.perturbations
                 if value == 1 or value * per_video <= arguments.max_batch_mib * 2**20]
        tasks = {
            "time contribution": (
                [("vidsal time_contribution", lambda: time_contribution(model, video, target=target).probability_drop),
                 ("vidsal time_contribution, engine='full'",
                  lambda: time_contribution(model, video, target=target, engine="full").probability_drop)]
                + ([("vidsal factorised_time_contribution",
                     lambda: factorised_time_contribution(model, video, target=target).probability_drop)]
                   if name in ("frame_lstm", "ica_lstm") else []),
                lambda method, value: captum_time_contribution(model, video, target, method, value)),
            f"{arguments.block_size}×{arguments.block_size} block occlusion": (
                [("vidsal masked_logits over block masks",
                  lambda: vidsal_block_occlusion(model, video, target, arguments.block_size)),
                 ("vidsal masked_logits over block masks, engine='full'",
                  lambda: vidsal_block_occlusion(model, video, target, arguments.block_size, engine="full"))],
                lambda method, value: captum_block_occlusion(model, video, target, arguments.block_size, method, value)),
        }
        if "time" not in arguments.tasks:
            del tasks["time contribution"]
        if "blocks" not in arguments.tasks:
            del tasks[f"{arguments.block_size}×{arguments.block_size} block occlusion"]
        for task, (ours, theirs) in tasks.items():
            print(f"{name}: {task} ...", file=sys.stderr, flush=True)
            measured = [(label, *seconds_of(function)) for label, function in ours]
            reference = measured[0][2]
            captum = []
            for method in ("FeatureAblation", "Occlusion"):
                for value in tries:
                    seconds, result = seconds_of(lambda: theirs(method, value))
                    captum.append((f"Captum {method}, perturbations_per_eval={value}", seconds, result))
            best = min(captum, key=lambda entry: entry[1])
            full = next(seconds for label, seconds, _ in measured if label.endswith("engine='full'"))
            for label, seconds, result in measured + captum:
                error = float((result.double() - reference.double().reshape(result.shape)).abs().max())
                ratio = best[1] / seconds if label.startswith("vidsal") else seconds / measured[0][1]
                rows.append([name, task, label + (" (best Captum)" if label == best[0] else ""), f"{seconds:.2f}",
                             f"{ratio:.1f}×" if label.startswith("vidsal") else f"{ratio:.2f}× vidsal's",
                             f"{full / seconds:.1f}×" if label.startswith("vidsal") else "",
                             f"{error:.1e}"])
    print(f"masking attributions, vidsal vs Captum 0.9: {arguments.profile} profile architectures, UNTRAINED (seed 0), "
          f"SynthKTH walking clip at the models' input size, baseline 0, target = predicted class, "
          f"torch threads {torch.get_num_threads()}; load average at the end "
          f"{' '.join(f'{value:.2f}' for value in os.getloadavg())} (at the start {start_load})\n")
    print(markdown_table(["model", "task", "implementation", "seconds",
                          "vidsal: best Captum time / this; Captum: this / vidsal's first",
                          "vidsal: engine='full' time / this", "max |map − vidsal's first map|"], rows))


if __name__ == "__main__":
    main()
