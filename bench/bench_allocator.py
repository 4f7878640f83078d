"""glibc allocator tuning (vidsal_core.runtime) against none: seconds, ratio, and bit-identical results.

Each case runs twice in fresh processes, once with ``VIDSAL_MALLOC_TUNING=0``
(glibc's defaults: every large block a fresh mmap, zeroed by the kernel on its
first touch; the reference) and once tuned, at one torch thread, and the
results are compared bit for bit:

- ``tsr-c3d``: a two-step TSR map (reference-code options, 10×10 blocks, the
  batched engine) of the default C3D architecture (untrained, seed 0: speed
  does not depend on the weights) on one 16×60×80 clip;
- ``train-c3d``: one epoch of the default profile's ``c3d_6class`` training (its corpus is built
  first if missing, as ``make corpus`` does);
- ``i3d``: the Kinetics I3D's gradient of one 16×112×112 clip (needs
  ``make data-assets``; skipped without the weights).

Usage::

    .venv/bin/python bench/bench_allocator.py [--cases tsr-c3d train-c3d i3d] [--repeats 1]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from vidsal_study.profiles import corpus_config

CASES = {
    "tsr-c3d": """
        from vidsal_core.models.c3d import C3D
        from vidsal_core.saliency.tsr import REFERENCE_CODE_OPTIONS, temporal_saliency_rescaling
        model = C3D(6, 1, 16, (60, 80), 0.125, batch_norm=True, dropout=0.2).eval()
        video = torch.rand(16, 1, 60, 80, generator=torch.Generator().manual_seed(1))
        start = time.perf_counter()
        result = temporal_saliency_rescaling(model, video, 0, block_size=10, engine="batched", **REFERENCE_CODE_OPTIONS)
        seconds, output = time.perf_counter() - start, result.saliency
    """,
    "train-c3d": """
        import tempfile, yaml
        from vidsal_core.data.corpus import CorpusConfig, build_corpus
        from vidsal_study.runs import profile_runs, train_runs
        profile = yaml.safe_load((ROOT / "params" / "default.yaml").read_text())
        profile["models"]["runs"]["c3d_6class"]["training"]["max_epochs"] = 1
        scratch = Path(tempfile.mkdtemp())
        (scratch / "one_epoch.yaml").write_text(yaml.safe_dump(profile))
        runs = profile_runs(scratch / "one_epoch.yaml", ["c3d_6class"])
        config = corpus_config(scratch / "one_epoch.yaml", runs[0].corpus_section)
        corpus = build_corpus(config, progress=False)
        start = time.perf_counter()
        trained = train_runs(runs, {runs[0].corpus_section: corpus}, workers=1, directory=scratch / "checkpoints")
        seconds = time.perf_counter() - start
        output = torch.cat([value.flatten().double() for value in trained["c3d_6class"].model.state_dict().values()])
    """,
    "i3d": """
        from vidsal_core.models.i3d import DEFAULT_WEIGHTS_PATH, load_i3d
        if not DEFAULT_WEIGHTS_PATH.is_file():
            print(json.dumps({"skipped": "no I3D weights (make data-assets)"})); sys.exit(0)
        model = load_i3d().eval()
        video = torch.rand(1, 16, 3, 112, 112, generator=torch.Generator().manual_seed(1), requires_grad=True)
        torch.autograd.grad(model(video)[0, 0], video)  # warm-up
        start = time.perf_counter()
        output = torch.autograd.grad(model(video)[0, 0], video)[0]
        seconds = time.perf_counter() - start
    """,
}

PROLOGUE = """
import json, sys, time
from pathlib import Path
import torch
ROOT = Path({root!r})
import vidsal_core
from vidsal_core import runtime
torch.set_num_threads(1)
torch.manual_seed(0)
"""

EPILOGUE = """
torch.save(output, sys.argv[1])
print(json.dumps({"seconds": seconds, "tuned": runtime.allocator_tuned()}))
"""


def run_case(name: str, switch: str, scratch: Path) -> tuple[dict, Path]:
    """One case in a fresh process with ``VIDSAL_MALLOC_TUNING=switch``: its timing record and output file."""
    root = Path(__file__).resolve().parents[1]
    script = scratch / f"{name}.py"
    script.write_text(PROLOGUE.format(root=str(root)) + textwrap.dedent(CASES[name]) + EPILOGUE)
    output = scratch / f"{name}-{switch}.pt"
    result = subprocess.run([sys.executable, str(script), str(output)], capture_output=True, text=True, check=True,
                            env={**os.environ, "VIDSAL_MALLOC_TUNING": switch}, cwd=root)
    return json.loads(result.stdout.strip().splitlines()[-1]), output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--repeats", type=int, default=1, help="runs of each case and setting; the fastest counts")
    arguments = parser.parse_args()

    import torch

    print(f"torch {torch.__version__}, 1 thread, {os.cpu_count()} cores")
    print("| case | glibc defaults s | tuned s | ratio | bit-identical |")
    print("| --- | ---: | ---: | ---: | --- |")
    with tempfile.TemporaryDirectory(prefix="bench-allocator-") as folder:
        scratch = Path(folder)
        for name in arguments.cases:
            best, outputs, skipped = {}, {}, None
            for _ in range(arguments.repeats):
                for switch in ("0", "1"):
                    record, output = run_case(name, switch, scratch)
                    if "skipped" in record:
                        skipped = record["skipped"]
                        break
                    if record["tuned"] != (switch == "1"):
                        raise SystemExit(f"{name}: the process with VIDSAL_MALLOC_TUNING={switch} reports tuned={record['tuned']}")
                    best[switch] = min(best.get(switch, float("inf")), record["seconds"])
                    outputs[switch] = torch.load(output)
                if skipped:
                    break
            if skipped:
                print(f"| {name} | – | – | – | skipped: {skipped} |")
                continue
            identical = torch.equal(outputs["0"], outputs["1"])
            print(f"| {name} | {best['0']:.2f} | {best['1']:.2f} | {best['0'] / best['1']:.2f}x | {identical} |", flush=True)


if __name__ == "__main__":
    main()
