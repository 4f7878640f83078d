"""Where the incremental masked forward spends its seconds: encoder, recurrence (attention, LSTM), the rest.

cProfile of one :meth:`~vidsal_core.saliency.incremental.IncrementalFrames.masked_logits`
over the 10 × 10 blocks of every frame (1440 masks) of a SynthKTH clip, after a
warm-up call, on the default profile's FrameLSTM and ICA-LSTM (untrained,
seeded), at one torch thread. Prints the cumulative seconds of ``encode_from``
(the masked frames' encoder passes), ``head_from`` (the recurrence from each
mask's first frame), within it the attention rows (``forward_from``) and the
LSTM, and the load average.

Usage::

    .venv/bin/python bench/profile_incremental.py
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _saliency_setup import synthkth_clip  # noqa: E402


def main() -> None:
    from vidsal_core.models.registry import build_model
    from vidsal_study.runs import run_settings
    from vidsal_core.saliency.incremental import IncrementalFrames
    from vidsal_core.saliency.masking import baseline_video, block_labels, label_masks

    torch.set_num_threads(1)
    torch.set_grad_enabled(False)
    for run in ("frame_lstm_binary", "ica_lstm_binary"):
        settings = run_settings("default", run)
        model = build_model(settings["model"], settings["model_config"], seed=0).eval()
        height, width = settings["data"]["size"]
        video = synthkth_clip(frames=settings["data"]["clip_length"], height=height, width=width)
        masks = label_masks(block_labels(height, width, 10).expand(video.shape[0], height, width))
        engine, baseline = IncrementalFrames(model, video), baseline_video(video)
        engine.masked_logits(masks, baseline)  # warm-up
        profile = cProfile.Profile()
        profile.enable()
        engine.masked_logits(masks, baseline)
        profile.disable()
        stats = pstats.Stats(profile).stats

        def seconds(name: str, file: str = "") -> float:
            return sum(entry[3] for key, entry in stats.items() if key[2] == name and file in key[0])

        total, encoder, recurrence = seconds("masked_logits"), seconds("encode_from"), seconds("head_from")
        print(f"{run}: total {total:.3f} s, encoder {encoder:.3f} s ({encoder / total:.0%}), recurrence "
              f"{recurrence:.3f} s ({recurrence / total:.0%}; attention rows {seconds('forward_from'):.3f} s, "
              f"LSTM {seconds('forward', 'rnn.py'):.3f} s), the rest {total - encoder - recurrence:.3f} s; "
              f"load average {' '.join(f'{value:.2f}' for value in os.getloadavg())}")


if __name__ == "__main__":
    main()
