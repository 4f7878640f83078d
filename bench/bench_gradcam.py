"""Grad-CAM, Grad-CAM++ and XGradCAM seconds per clip against the input gradient's, on C3D and I3D, in one run.

For each model the steps take turns within each round (so load from other
processes on a shared machine falls on all of them alike) and each timing is
the median of ``--repeats`` rounds after a warm-up round (``timed_rounds`` of
``bench_lrp.py``):

- gradient: :func:`vidsal_core.saliency.gradients.input_gradient` (Captum's
  ``Saliency``: one forward pass for the predicted class's check, one forward
  and one backward pass to the input), the evaluation chapter's reference;
- Grad-CAM, Grad-CAM++, XGradCAM: :func:`vidsal_core.saliency.gradcam.class_activation_map`
  (one forward pass, a backward pass down to the target layer only, the
  package's weights, trilinear upsampling to the clip).

One clip per call, as the evaluation and border sweeps explain them. Models:
the profile's C3D (``models.runs.c3d_6class``; untrained seeded weights when no
checkpoint exists: the cost depends on the architecture only) on clips of its
size, and the Kinetics-400 I3D (random weights when not fetched) on 16-frame
clips of ``--i3d-size`` pixels.

Usage::

    .venv/bin/python bench/bench_gradcam.py                  # default profile's C3D, I3D at 112 px
    .venv/bin/python bench/bench_gradcam.py --i3d-size 224 --repeats 5 --device cuda
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path
from typing import Callable

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _saliency_setup import benchmark_model  # noqa: E402
from bench_i3d import model_for_benchmark  # noqa: E402
from bench_lrp import timed_rounds  # noqa: E402

from vidsal_core.saliency.gradcam import CAM_METHODS, class_activation_map  # noqa: E402
from vidsal_core.saliency.gradients import input_gradient  # noqa: E402

#: Labels of the CAM steps.
CAM_LABELS: dict[str, str] = {"grad_cam": "Grad-CAM", "grad_cam_plus_plus": "Grad-CAM++", "xgrad_cam": "XGradCAM"}


def steps_for(model: torch.nn.Module, clip: torch.Tensor, target: int) -> dict[str, Callable[[], object]]:
    """The gradient step and one step per CAM method, each explaining ``target`` of one ``(T, C, H, W)`` clip."""
    steps: dict[str, Callable[[], object]] = {"gradient": lambda: input_gradient(model, clip, target)}
    for method in CAM_METHODS:
        steps[CAM_LABELS[method]] = (lambda method=method: class_activation_map(model, clip, target, method))
    return steps


def measure(name: str, model: torch.nn.Module, clip: torch.Tensor, repeats: int,
            device: str = "cpu") -> dict[str, tuple[float, float]]:
    """Seconds per clip of each step; prints a table with the ratios to the gradient."""
    with torch.no_grad():
        target = int(model(clip[None])[0].argmax())
    seconds = timed_rounds(steps_for(model, clip, target), repeats, device)
    gradient_wall, gradient_cpu = seconds["gradient"]
    print(f"\n{name}: clip {tuple(clip.shape)}, median of {repeats}")
    print("| step | wall s per clip | × gradient (wall) | × gradient (CPU) |\n| --- | ---: | ---: | ---: |")
    for label, (wall, cpu) in seconds.items():
        print(f"| {label} | {wall:.4f} | {wall / gradient_wall:.2f} | {cpu / gradient_cpu:.2f} |")
    return seconds


def main(argv: list[str] | None = None) -> int:
    """Measure C3D and I3D; print tables and the Grad-CAM / gradient ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default", help="profile whose C3D run is measured")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--i3d-size", type=int, default=112, help="I3D frame side (224 is Kinetics')")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: as the border sweeps run; 0: torch's default)")
    arguments = parser.parse_args(argv)
    if arguments.threads > 0:
        torch.set_num_threads(arguments.threads)
    torch.manual_seed(0)
    c3d, c3d_weights = benchmark_model(arguments.profile, "c3d_6class")
    c3d = c3d.to(arguments.device).eval()
    config = c3d.config
    c3d_clip = torch.rand(config["clip_length"], config["in_channels"], *config["input_size"], device=arguments.device)
    i3d, i3d_weights = model_for_benchmark(arguments.device)
    i3d_clip = torch.rand(16, 3, arguments.i3d_size, arguments.i3d_size, device=arguments.device)
    print(f"device {arguments.device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{platform.processor() or platform.machine()}")
    print(f"C3D: {c3d_weights}; I3D: {i3d_weights}")
    results = {
        "C3D": measure(f"C3D ({arguments.profile} profile, width {config['width_multiplier']}, layer features.relu5b)",
                       c3d, c3d_clip, arguments.repeats, arguments.device),
        "I3D": measure(f"I3D ({arguments.i3d_size} px, layer features.Mixed_5c)", i3d, i3d_clip, arguments.repeats,
                       arguments.device),
    }
    print("\n| model | gradient s/clip | Grad-CAM / gradient | Grad-CAM++ / gradient | XGradCAM / gradient |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, seconds in results.items():
        wall, cpu = seconds["gradient"]
        cells = [f"{seconds[label][0] / wall:.2f} (CPU {seconds[label][1] / cpu:.2f})" for label in CAM_LABELS.values()]
        print(f"| {name} | {wall:.4f} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
