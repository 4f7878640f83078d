"""The dataset card of a SynthKTH corpus: what is in it, how it was made, its limits.

Every number on the card is read from the corpus it describes.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from vidsal_core.data.corpus import Corpus
from vidsal_core.data.dataset import KTH_SPLITS

_HOW_MADE = """\
## How it was made

Each video is rendered by `vidsal_core.data.synthkth` from a `VideoSpec`
(action, person, scenario, seed, length, title card). An articulated figure of
filled body parts (head, torso, upper and lower arms, thighs, shanks, feet) is
posed by per-action kinematics (joint angles as functions of the gait or
gesture phase) with traits fixed per person (proportions, clothing intensity,
speed, cadence, stride, arm swing, trunk lean) and jitter per video. Walking,
jogging and running cross the frame in either direction, entering and leaving
the view; boxing (side-on), hand waving and hand clapping (frontal) happen in
place, with still frames before and after the action. The scenarios follow
KTH: d1 outdoors, d2 outdoors with a camera zoom, d3 outdoors with different
clothes (a coat or a bag changes the silhouette), d4 indoors. Backgrounds are
procedural textures; the camera jitters slightly; sensor noise is added last.

Ground truth for every frame: a body-part label map that covers exactly the
drawn figure, the share of the figure inside the frame (visibility), the mean
true displacement of the figure's pixels (limb motion), and, on request
(`render_video(spec, with_flow=True)`), the true motion field of every pixel to
the next frame, background included. The same spec always gives byte-identical
arrays; the corpus folder is named by a hash of its configuration and of the
renderer's source.
"""

_LIMITS = """\
## Limits compared with real KTH

- The figure is a 2-D puppet of filled shapes, rigid but for the clapping
  arms' foreshortening: mild shading across each limb, but no cloth folds, no
  self-shadow and no perspective beyond near and far side.
- Knee flexion in stance is a little high (about 30-35 degrees in early
  walking stance, about 50-58 at mid-stance in running; real gait shows about
  20 and 45).
- Backgrounds are textures, not real scenes; there is no scene structure a
  classifier could use beyond brightness and texture statistics per scenario.
- Motion is periodic and idealised (no stumbles, turns, hesitation); KTH's
  persons sometimes turn around or walk diagonally.
- Sensor noise is Gaussian and independent per pixel; KTH's footage has
  compression artefacts and interlacing.
- Because the renderer knows everything, a classifier can reach accuracies that
  real KTH does not allow; numbers on SynthKTH are about saliency methods, not
  about action recognition.
"""


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(value: float | None) -> str:
    return "-" if value is None or not np.isfinite(value) else f"{value:.3g}"


def corpus_statistics(corpus: Corpus) -> dict[str, dict[str, float]]:
    """Per action: videos, share of frames with no person, mean visibility and limb motion, numeric meta means."""
    per_action: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for entry in corpus.videos:
        arrays = corpus.load(entry["key"])
        values = per_action[entry["action"]]
        values["videos"].append(1.0)
        start = entry["title_frames"]
        visibility = arrays["visibility"][start:]
        values["no person (share of frames)"].append(float(np.mean(visibility == 0)))
        values["visibility (mean)"].append(float(np.mean(visibility)))
        values["limb motion (px/frame)"].append(float(np.mean(arrays["limb_motion"][start:])))
        for key, value in arrays["meta"].items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and key not in (
                    "person", "seed", "n_frames", "height", "width", "title_frames", "label"):
                values[key].append(float(value))
    return {action: {key: (float(np.sum(v)) if key == "videos" else float(np.mean(v)))
                     for key, v in values.items()}
            for action, values in per_action.items()}


def dataset_card(corpus: Corpus) -> str:
    """Markdown dataset card of a built corpus."""
    config = corpus.config
    splits = {name: [v for v in corpus.videos if v["split"] == name] for name in KTH_SPLITS}
    statistics = corpus_statistics(corpus)
    keys = sorted({key for values in statistics.values() for key in values if key != "videos"})
    actions = [a for a in config.actions if a in statistics]
    parts = [
        f"# SynthKTH corpus `{corpus.config_hash}`",
        "",
        "A procedurally rendered corpus shaped like the KTH action dataset "
        "(Schuldt et al., 2004), with ground truth for every frame.",
        "",
        "## What is in it",
        "",
        f"- {len(corpus)} videos of {config.n_frames} frames, {config.height}x{config.width} grayscale, 25 fps "
        f"({len(corpus) * config.n_frames} frames).",
        f"- persons {list(config.persons)}; actions {list(config.actions)}; scenarios {list(config.scenarios)}"
        + (" (one per person and action, cycled)" if config.cycle_scenarios else "")
        + f"; seeds {list(config.seeds)}; title-card lengths {list(config.title_frames)}.",
        "- Split by person as in KTH: "
        + "; ".join(f"{name} persons {list(persons)}: {len(splits[name])} videos"
                    for name, persons in KTH_SPLITS.items()) + ".",
        "",
        "Per action (means over videos, title-card frames excluded):",
        "",
        _table(["quantity", *actions],
               [["videos", *[f"{statistics[a]['videos']:.0f}" for a in actions]]]
               + [[key, *[_cell(statistics[a].get(key)) for a in actions]] for key in keys]),
        "",
        _HOW_MADE,
        _LIMITS,
    ]
    return "\n".join(parts)


#: Colour (BGR) of each body-part label on contact sheets; 0 = background.
PART_COLOURS = np.array([
    (0, 0, 0), (60, 180, 255), (80, 80, 230), (70, 200, 70), (40, 140, 40),
    (200, 120, 40), (150, 80, 20), (220, 200, 60), (170, 150, 30), (200, 80, 200),
    (140, 40, 140), (120, 220, 220), (60, 160, 160), (230, 230, 230), (160, 160, 160),
    (90, 90, 255), (255, 90, 90), (90, 255, 90), (255, 255, 90), (90, 255, 255),
], dtype=np.uint8)


def colour_parts(parts: np.ndarray) -> np.ndarray:
    """Part labels ``(..., H, W)`` to BGR colours ``(..., H, W, 3)``."""
    return PART_COLOURS[np.asarray(parts) % len(PART_COLOURS)]
