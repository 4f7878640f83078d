"""Figure: frames, input gradient, one-step, two-step TSR and flow for a walking and a running clip.

Seed 000's Figures 10–17 show, for KTH walking and running clips, the input
gradient, its one-step rescaling by time contribution, two-step TSR with 10×10
blocks, and Farneback flow, side by side. This script draws the same rows for
one SynthKTH walking and one running clip of test persons, at KTH's 120×160,
with the true motion as an extra row (SynthKTH has it; KTH does not), and
prints per clip the numbers behind the picture: the prediction, the frames
TSR selected, the Spearman correlation of each map with the true motion
(mean over frames, over all pixels), and Farneback's endpoint error.

The model is the profile's trained walking-vs-running FrameLSTM
(``python -m vidsal_study.chapters.models.cli train --profile <profile> --runs frame_lstm_binary``);
the script refuses to draw an untrained model.

Usage::

    .venv/bin/python bench/figure_tsr.py                       # default profile → data/figures/tsr_walking_running.png
    .venv/bin/python bench/figure_tsr.py --profile quick --output /tmp/tsr.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

def nan_mean(values: torch.Tensor) -> float:
    """Mean of the finite values (NaN if none)."""
    finite = values[torch.isfinite(values)]
    return float(finite.mean()) if finite.numel() else float("nan")


def render_clip(action: str, person: int, scenario: str, frames: int, offset: int | str, seed: int, length: int):
    """A ``(T, 1, 120, 160)`` clip in [0, 1] of a SynthKTH video, its true flow, part labels and first frame.

    ``offset="visible"`` starts the clip where the person is in view the
    most (summed visibility over the clip; runners cross the frame in fewer
    frames than a clip lasts). The video is rendered with ``length`` frames,
    as in the corpus: a different length is a different video.
    """
    from vidsal_core.data.synthkth import VideoSpec, render_video

    rendered = render_video(VideoSpec(action=action, person=person, scenario=scenario, n_frames=length,
                                      seed=seed), with_flow=True)
    if offset == "visible":
        sums = np.convolve(rendered.visibility, np.ones(frames), mode="valid")
        offset = int(np.argmax(sums))
    offset = int(offset)
    window = slice(offset, offset + frames)
    video = torch.from_numpy(rendered.frames[window]).float().div(255.0)[:, None]
    return video, torch.from_numpy(rendered.flow[window]), torch.from_numpy(rendered.parts[window]), offset


def explain(model, video, label: int, block_size: int):
    """Every map of one clip, and the numbers printed beside the figure."""
    from vidsal_core.saliency.flow import farneback_flow, flow_magnitude
    from vidsal_core.saliency.gradients import input_gradient
    from vidsal_core.saliency.time_contribution import time_contribution
    from vidsal_core.saliency.tsr import one_step_rescaling, temporal_saliency_rescaling

    gradient = input_gradient(model, video, target=label)
    contribution = time_contribution(model, video, label=label)
    one_step = one_step_rescaling(gradient, contribution.probability_drop)
    tsr = temporal_saliency_rescaling(model, video, target=label, block_size=block_size)
    farneback = flow_magnitude(farneback_flow(video))
    return {"gradient": gradient, "one_step": one_step, "tsr": tsr, "farneback": farneback,
            "contribution": contribution}


def main() -> None:
    from vidsal_core.errors import CheckpointError
    from vidsal_core.models.checkpoints import load_checkpoint, manifest_entry
    from vidsal_study.runs import build_run, checkpoint_paths, load_trained, run_settings
    from vidsal_core.plot import saliency_grid
    from vidsal_core.saliency.flow import endpoint_error, farneback_flow, flow_magnitude, per_frame_spearman, saliency_magnitude

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--run", default="frame_lstm_binary")
    parser.add_argument("--person", type=int, default=2, help="a test person (KTH split)")
    parser.add_argument("--scenario", default="d1")
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--offset", default="center",
                        help="first frame of the clip; 'center' (the test clips' offset) or 'visible' (where the "
                             "person is in view the most)")
    parser.add_argument("--length", type=int, default=48, help="frames rendered (the default corpus's videos)")
    parser.add_argument("--block-size", type=int, default=10)
    parser.add_argument("--columns", type=int, default=8, help="frames shown")
    parser.add_argument("--output", default=str(ROOT / "data" / "figures" / "tsr_walking_running.png"))
    arguments = parser.parse_args()

    path = checkpoint_paths(build_run(arguments.profile, arguments.run)).trained
    try:
        model = load_trained(arguments.profile, arguments.run)
    except CheckpointError as error:
        # A checkpoint of an older profile version: draw it with its own configuration, and say so.
        model, _ = load_checkpoint(path)
        print(f"note: using {path} with its own configuration, which differs from the profile's now: "
              f"{str(error).splitlines()[1:-1]}")
    test = (manifest_entry(path) or {}).get("test", {})
    print(f"model: trained checkpoint of {arguments.profile}/{arguments.run}, test accuracy "
          f"{test.get('accuracy', float('nan')):.3f} [{test.get('wilson_low', float('nan')):.3f}, "
          f"{test.get('wilson_high', float('nan')):.3f}] on {test.get('total', '?')} clips")
    classes = run_settings(arguments.profile, arguments.run)["classes"]
    shown = np.linspace(0, arguments.frames - 1, arguments.columns).round().astype(int).tolist()
    groups = []
    for action in ("walking", "running"):
        label = list(classes).index(action)
        offset = {"center": (arguments.length - arguments.frames) // 2}.get(arguments.offset, arguments.offset)
        video, true_flow, parts, first = render_clip(action, arguments.person, arguments.scenario, arguments.frames,
                                                     offset, seed=0, length=arguments.length)
        maps = explain(model, video, label, arguments.block_size)
        true_speed = flow_magnitude(true_flow)
        probability = maps["contribution"].probability
        prediction = classes[maps["contribution"].prediction]
        tsr = maps["tsr"]
        print(f"{action} (person {arguments.person}, {arguments.scenario}, frames {first}-{first + arguments.frames - 1}): "
              f"predicted {prediction}, "
              f"p({action}) = {probability:.3f}; TSR selected frames {torch.nonzero(tsr.selected).flatten().tolist()} "
              f"in {tsr.seconds:.0f} s ({tsr.engine} engine, {tsr.attribution_calls} attributions)")
        for name, values in (("|gradient|", maps["gradient"]), ("one-step", maps["one_step"]), ("TSR", tsr.saliency),
                             ("Farneback |flow|", maps["farneback"])):
            magnitude = values if values.dim() == 3 else saliency_magnitude(values)
            rho = per_frame_spearman(magnitude, true_speed)
            inside = per_frame_spearman(magnitude, true_speed, parts > 0)
            print(f"  {name:>17}: Spearman with true motion {nan_mean(rho):+.3f} (all pixels), "
                  f"{nan_mean(inside):+.3f} (figure pixels), frame mean over frames where the map is not constant")
        error = endpoint_error(farneback_flow(video), true_flow)
        error_figure = endpoint_error(farneback_flow(video), true_flow, parts > 0)
        print(f"  Farneback endpoint error: {error.mean():.2f} px (all pixels), {nan_mean(error_figure):.2f} px "
              f"(figure); true speed on the figure {float(true_speed[parts > 0].mean()):.2f} px/frame")
        groups.append((f"{action} — person {arguments.person} {arguments.scenario}, frames {first}–{first + arguments.frames - 1} "
                       f"(t = 0 is frame {first}), predicted {prediction} "
                       f"(p({action}) = {probability:.2f})", [
            ("frames", video, "frames"),
            ("|input gradient|", maps["gradient"], "unsigned"),
            ("one-step\n|grad| × time", maps["one_step"], "unsigned"),
            (f"TSR, {arguments.block_size}×{arguments.block_size}", tsr.saliency, "unsigned"),
            ("Farneback |flow|", maps["farneback"], "unsigned"),
            ("true |flow|", true_speed, "unsigned"),
        ]))
    figure = saliency_grid(groups, shown)
    output = Path(arguments.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, dpi=110)
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
