"""What the saliency benchmarks share: the model, the video, peak memory.

The model is a profile's FrameLSTM (its trained checkpoint when one exists
and matches the profile, else the same architecture with seeded untrained
weights: timings depend on the architecture, not on the weights). The video
is a SynthKTH clip rendered directly (no corpus needed) at the requested size.
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def benchmark_model(profile: str, run: str, seed: int = 0) -> tuple[torch.nn.Module, str]:
    """The run's trained model, and where it comes from.

    The checkpoint that matches the profile if there is one; else the run's
    checkpoint with its own (older) configuration; else the profile's
    architecture untrained, seeded with ``seed``.
    """
    from vidsal_core.errors import VidsalError
    from vidsal_core.models.checkpoints import load_checkpoint
    from vidsal_core.models.registry import build_model
    from vidsal_study.runs import build_run, checkpoint_paths, load_trained, run_settings

    try:
        return load_trained(profile, run), f"trained checkpoint of {profile}/{run}"
    except (VidsalError, FileNotFoundError) as error:
        reason = str(error).splitlines()[0][:100]
    try:
        model, _ = load_checkpoint(checkpoint_paths(build_run(profile, run)).trained)
        return model, f"trained checkpoint of {profile}/{run} with its own configuration ({reason})"
    except (VidsalError, FileNotFoundError):
        settings = run_settings(profile, run)
        model = build_model(settings["model"], settings["model_config"], seed=seed)
        return model, f"untrained {profile}/{run} architecture, seed {seed} ({reason})"


def synthkth_clip(action: str = "walking", person: int = 2, scenario: str = "d1", frames: int = 30,
                  height: int = 120, width: int = 160, seed: int = 0) -> torch.Tensor:
    """A ``(T, 1, H, W)`` SynthKTH clip in [0, 1], rendered on the spot (person 2 is a test person)."""
    from vidsal_core.data.synthkth import VideoSpec, render_video

    rendered = render_video(VideoSpec(action=action, person=person, scenario=scenario, n_frames=frames,
                                      seed=seed, height=height, width=width))
    return torch.from_numpy(rendered.frames).float().div(255.0)[:, None]


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """Rows as a Markdown table."""
    widths = [max(len(str(line[column])) for line in [header, *rows]) for column in range(len(header))]
    lines = ["| " + " | ".join(str(cell).ljust(width) for cell, width in zip(line, widths)) + " |"
             for line in [header, *rows]]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)
