"""``vidsal-corpus``: build, inspect and describe SynthKTH corpora.

Examples
--------
::

    vidsal-corpus build --profile default            # render what is missing, print size and time
    vidsal-corpus info --profile quick               # videos per split, action and scenario
    vidsal-corpus contact-sheet --profile default --output sheet.png
    vidsal-corpus card --profile default             # write and print the dataset card
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

from vidsal_core.data.corpus import Corpus, CorpusConfig, build_corpus
from vidsal_core.errors import VidsalError
from vidsal_study.processes import study_process
from vidsal_study.profiles import corpus_config
from vidsal_core.data.card import dataset_card
from vidsal_core.data.card import PART_COLOURS, colour_parts


def _config(arguments: argparse.Namespace) -> CorpusConfig:
    return corpus_config(arguments.profile, "long_corpus" if arguments.long else "corpus")


def _build(arguments: argparse.Namespace) -> Corpus:
    return build_corpus(_config(arguments), root=arguments.root, workers=arguments.workers,
                        progress=not arguments.no_progress)


def command_build(arguments: argparse.Namespace) -> None:
    corpus = _build(arguments)
    report = corpus.build_report
    frames = len(corpus) * corpus.config.n_frames
    print(f"corpus   {corpus.directory}")
    print(f"videos   {len(corpus)} ({report.rendered} rendered now, {len(corpus) - report.rendered} cached)")
    print(f"frames   {frames} of {corpus.config.height}x{corpus.config.width}")
    print(f"on disk  {report.bytes_on_disk / 2**20:.1f} MiB")
    if report.rendered:
        print(f"time     {report.seconds:.1f} s, {report.frames_per_second:.0f} frames/s "
              f"with {report.workers} worker(s)")
    else:
        print("time     0 s (everything was cached)")


def command_info(arguments: argparse.Namespace) -> None:
    corpus = _build(arguments)
    print(f"{corpus}  hash {corpus.config_hash}")
    for key in ("split", "action", "scenario", "title_frames"):
        counts = Counter(video[key] for video in corpus.videos)
        print(f"  {key:<12} " + ", ".join(f"{name}: {count}" for name, count in sorted(counts.items(), key=str)))


def contact_sheet(corpus: Corpus, n_frames: int = 4, person: int | None = None) -> np.ndarray:
    """One row per (action, scenario): frames where the person is in view, then their part maps.

    Returns a BGR uint8 image.
    """
    rows = []
    label_width = 150
    for action in corpus.config.actions:
        for scenario in corpus.config.scenarios:
            candidates = [v for v in corpus.select(actions=[action], scenarios=[scenario], title_frames=0)
                          if person is None or v["person"] == person]
            if not candidates:
                continue
            entry = candidates[0]
            arrays = corpus.load(entry["key"])
            visible = np.flatnonzero(arrays["visibility"] > 0.9)
            if visible.size == 0:
                visible = np.arange(arrays["frames"].shape[0])
            chosen = visible[np.linspace(0, visible.size - 1, n_frames).round().astype(int)]
            frames = [cv2.cvtColor(arrays["frames"][t], cv2.COLOR_GRAY2BGR) for t in chosen]
            parts = [colour_parts(arrays["parts"][t]) for t in chosen]
            for image, t in zip(frames, chosen):
                cv2.putText(image, f"t={t}", (3, 12), cv2.FONT_HERSHEY_PLAIN, 0.8, (0, 255, 255), 1)
            label = np.full((frames[0].shape[0], label_width, 3), 255, np.uint8)
            for line, text in enumerate((action, scenario, f"person {entry['person']}")):
                cv2.putText(label, text, (4, 24 + 22 * line), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1)
            separator = np.full((frames[0].shape[0], 4, 3), 255, np.uint8)
            rows.append(np.hstack([label, *frames, separator, *parts]))
            rows.append(np.full((3, rows[-1].shape[1], 3), 255, np.uint8))
    if not rows:
        raise VidsalError("contact sheet: the corpus has no video without a title card to show")
    return np.vstack(rows)


def command_contact_sheet(arguments: argparse.Namespace) -> None:
    corpus = _build(arguments)
    sheet = contact_sheet(corpus, n_frames=arguments.frames, person=arguments.person)
    output = Path(arguments.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(output), sheet):
        raise VidsalError(f"{output}: OpenCV could not write the image (is the extension .png?)")
    print(f"wrote {output} ({sheet.shape[1]}x{sheet.shape[0]})")


def command_card(arguments: argparse.Namespace) -> None:

    corpus = _build(arguments)
    text = dataset_card(corpus)
    path = corpus.directory / "CARD.md"
    path.write_text(text)
    print(text)
    print(f"(written to {path})")


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(prog="vidsal-corpus", description=__doc__.split("\n")[0])
    commands = main_parser.add_subparsers(dest="command", required=True)
    for name, function, help_text in (
        ("build", command_build, "render what is missing and print size and time"),
        ("info", command_info, "videos per split, action and scenario"),
        ("contact-sheet", command_contact_sheet, "write a PNG: one video per action and scenario with part maps"),
        ("card", command_card, "write and print the dataset card"),
    ):
        sub = commands.add_parser(name, help=help_text)
        sub.set_defaults(function=function)
        sub.add_argument("--profile", default="default", help="quick, default, full or a .yaml path (default: default)")
        sub.add_argument("--long", action="store_true", help="the profile's long_corpus instead of its corpus")
        sub.add_argument("--root", default=None, help="parent folder of corpora (default: data/synthkth)")
        sub.add_argument("--workers", type=int, default=None,
                         help="rendering processes (default: one per core, at most one per 8 videos to render)")
        sub.add_argument("--no-progress", action="store_true", help="no progress bar")
        if name == "contact-sheet":
            sub.add_argument("--output", default="contact_sheet.png", help="PNG to write")
            sub.add_argument("--frames", type=int, default=4, help="frames per row (default: 4)")
            sub.add_argument("--person", type=int, default=None, help="show this person only")
    return main_parser


def main(argv: list[str] | None = None) -> int:
    study_process()
    arguments = parser().parse_args(argv)
    try:
        arguments.function(arguments)
    except VidsalError as error:
        print(f"vidsal-corpus: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
