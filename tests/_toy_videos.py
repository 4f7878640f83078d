"""A tiny in-memory video dataset and tiny model configs for the model tests.

Each video shows a bright square crossing a dark frame; its label is the
square's speed (slow = "walking", fast = "running"), so telling the classes
apart needs the order of frames, like the real task.
"""

from __future__ import annotations

import torch

from vidsal_core.data.dataset import VideoDataset, VideoItem

#: A frame encoder small enough for 16×16 frames and quick tests.
TINY_ENCODER = {"stem_channels": 4, "channels": [8], "stage_strides": [2], "pool_grid": [2, 2], "feature_size": 8}
#: Tiny configurations of every model, keyed by registered name.
TINY_MODELS = {
    "frame_lstm": {"num_classes": 2, "input_size": [16, 16], "encoder": TINY_ENCODER, "hidden_size": 8, "head_size": 8},
    "ica_lstm": {"num_classes": 2, "input_size": [16, 16], "encoder": TINY_ENCODER, "hidden_size": 8, "head_size": 8,
                 "attention_hops": 3, "attention_size": 5},
    "c3d": {"num_classes": 2, "clip_length": 16, "input_size": [16, 16], "width_multiplier": 1 / 16},
}


class MovingSquares(VideoDataset):
    """Videos of a 4×4 square moving right at 1 (label 0) or 2 (label 1) pixels per frame.

    Parameters
    ----------
    count : int
        Number of videos (labels alternate).
    frames : int
        Frames per video.
    size : int
        Frame height and width.
    seed : int
        Seeds the starting rows and columns.
    classes : tuple of str
        Class names.
    """

    def __init__(self, count: int = 12, frames: int = 8, size: int = 16, seed: int = 0,
                 classes: tuple[str, ...] = ("walking", "running")) -> None:
        self.count, self.frames, self.size, self.classes = count, frames, size, classes
        self.starts = torch.randint(0, size - 4, (count, 2), generator=torch.Generator().manual_seed(seed))

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> VideoItem:
        label = index % 2
        row, column = self.starts[index].tolist()
        video = torch.full((self.frames, 1, self.size, self.size), 0.1)
        for time in range(self.frames):
            left = (column + time * (label + 1)) % (self.size - 3)
            video[time, 0, row:row + 4, left:left + 4] = 0.9
        return VideoItem(video=video, label=label, meta={"person": index % 3})

    def labels(self) -> list[int]:
        return [index % 2 for index in range(self.count)]


def moving_square_clip(path, frames: int = 12, channels: int = 1, height: int = 48, width: int = 64,
                       top: int = 16):
    """A reader's clip on disk: a bright 16×16 square moving 2 px per frame to the right on black."""
    from vidsal_core.data.video import write_video

    video = torch.zeros(frames, channels, height, width)
    for t in range(frames):
        video[t, :, top:top + 16, 4 + 2 * t:20 + 2 * t] = 1.0
    return write_video(path, video)


def chapter_outputs(chapter: str, output, parameters: dict) -> str:
    """Run ``notebooks/<chapter>.ipynb`` with papermill and return all its cell outputs as JSON text."""
    import json

    import nbformat
    import papermill

    from vidsal_study.book import NOTEBOOKS, ROOT

    papermill.execute_notebook(str(NOTEBOOKS / f"{chapter}.ipynb"), str(output), parameters=parameters,
                               cwd=str(ROOT), progress_bar=False)
    return json.dumps([cell.get("outputs", []) for cell in nbformat.read(output, as_version=4).cells])
