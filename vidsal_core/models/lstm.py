"""Frame-CNN + LSTM video classifiers, with and without input-cell attention.

Both models follow seed 000 (*Interpretability of Video Classifiers*): a CNN
encodes every frame into a feature vector of size ``feature_size``, an LSTM
reads the sequence of encodings, and a two-layer head classifies the last
hidden state. Unlike the seed's code, the encoder trains with the rest (the
seed ran its ResNet under ``no_grad``, so its 512→300 head never trained), and
the input-cell attention window is set (the seed's never was, so its attention
saw only the current frame).

Input-cell attention (Ismail et al., 2019, "Input-Cell Attention Reduces
Vanishing Saliency of Recurrent Neural Networks", NeurIPS) replaces the LSTM's
input ``x_t`` by an attention summary of the past inputs::

    A_t = softmax_over_s( W2 · tanh(W1 · x_s) ),  s in window(t)    (r hops)
    M_t = A_t · X_window(t)                                          (r × F)
    gates_t = mean_hops(M_t) · W_ih + h_{t-1} · W_hh + b

Because the gates use ``M_t`` exactly where a plain LSTM uses ``x_t``, the
model is an attention layer followed by an ordinary (multi-layer) LSTM, which
is how the seed stacked it too. The attention of all steps is computed at once
with a causal mask; a naive step-by-step version lives in the tests.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Mapping, Sequence

import torch
from torch import nn

from vidsal_core.errors import ConfigError
from vidsal_core.models.resize import FrameResize, check_frame_size, check_videos

#: Frame encoder of the default profile: three stride-2 convolutions (8, 16 and
#: 32 channels), so a 60×80 frame becomes 8×10 cells, pooled to a 2×5 grid that
#: keeps where the person is across the frame, then 320 → 64 features.
DEFAULT_ENCODER: dict[str, Any] = {
    "stem_channels": 8,
    "stem_kernel": 5,
    "stem_pool": False,
    "channels": (16, 32),
    "stage_strides": (2, 2),
    "blocks_per_stage": 1,
    "residual": False,
    "pool_grid": (2, 5),
    "feature_size": 64,
    "norm": "batch",
}
#: Groups of every GroupNorm layer of the frame encoder (Wu & He, 2018).
NORM_GROUPS = 4


def _positive(value: Any, argument: str) -> int:
    """Return ``value`` as a positive int or raise :class:`ConfigError`."""
    if isinstance(value, bool) or not isinstance(value, (int,)) or value < 1:
        raise ConfigError(f"{argument}={value!r}: expected a positive integer")
    return int(value)


def _dropout_probability(value: Any, argument: str) -> float:
    """Return ``value`` as a probability in [0, 1) or raise :class:`ConfigError`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ConfigError(f"{argument}={value!r}: expected a dropout probability in [0, 1)")
    return float(value)


def normalisation(kind: str, channels: int) -> nn.Module:
    """A normalisation layer of ``kind`` for ``channels`` feature maps.

    ``"batch"``: BatchNorm (as ResNet). Its running statistics must be
    estimated well for eval mode to behave as training did; the trainer
    recomputes them (:func:`vidsal_core.models.train.recompute_batch_norm`).
    ``"group"``: GroupNorm with :data:`NORM_GROUPS` groups (Wu & He, 2018),
    the same in train and eval mode, but on SynthKTH it learned far slower.
    ``"none"``: identity.
    """
    if kind == "group":
        if channels % NORM_GROUPS:
            raise ConfigError(f"encoder norm='group': {channels} channels are not divisible into {NORM_GROUPS} groups")
        return nn.GroupNorm(NORM_GROUPS, channels)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "none":
        return nn.Identity()
    raise ConfigError(f"encoder norm={kind!r}: expected 'group', 'batch' or 'none'")


def _conv_norm_relu(in_channels: int, out_channels: int, kernel: int, stride: int, norm: str) -> nn.Sequential:
    """Convolution (no bias) → normalisation → ReLU, padding ``kernel // 2``."""
    return nn.Sequential(OrderedDict([
        ("conv", nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=kernel // 2, bias=False)),
        ("norm", normalisation(norm, out_channels)),
        ("relu", nn.ReLU()),
    ]))


class BasicBlock(nn.Module):
    """ResNet basic block: two 3×3 convolutions and a shortcut (He et al., 2016).

    Parameters
    ----------
    in_channels, out_channels : int
        Channels in and out.
    stride : int
        Stride of the first convolution (and of the projection shortcut).
    norm : {"group", "batch", "none"}
        Normalisation after each convolution; see :func:`normalisation`.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int, norm: str) -> None:
        super().__init__()
        self.first = _conv_norm_relu(in_channels, out_channels, 3, stride, norm)
        self.second_conv = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.second_norm = normalisation(norm, out_channels)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                normalisation(norm, out_channels),
            )
        self.relu = nn.ReLU()

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Apply the block to ``(N, C, H, W)`` frames."""
        residual = self.second_norm(self.second_conv(self.first(frames)))
        return self.relu(residual + self.shortcut(frames))


class FrameEncoder(nn.Module):
    """Per-frame CNN: ``(N, C, H, W)`` frames → ``(N, feature_size)`` encodings.

    A stem convolution, then stages of plain (conv-norm-ReLU) or residual blocks,
    adaptive average pooling to ``pool_grid`` cells, and a linear layer. The
    default is a small plain network for CPUs; ``residual=True`` with
    ``channels=(64, 128, 256, 512)``, ``blocks_per_stage=2``,
    ``stage_strides=(1, 2, 2, 2)``, ``stem_kernel=7``, ``stem_pool=True`` and
    ``pool_grid=(1, 1)``, ``norm="batch"`` is ResNet-18 (He et al., 2016) with
    the seed's 512 → 300 head.

    Parameters
    ----------
    in_channels : int
        Channels of a frame (1 for grayscale).
    stem_channels : int, default 8
        Channels of the stem convolution (stride 2).
    stem_kernel : int, default 5
        Kernel size of the stem convolution.
    stem_pool : bool, default False
        Follow the stem with a 3×3 stride-2 max pool, as ResNet does.
    channels : sequence of int, default (16, 32)
        Channels of each stage.
    stage_strides : sequence of int, default (2, 2)
        Stride of the first block of each stage.
    blocks_per_stage : int, default 1
        Blocks per stage.
    residual : bool, default False
        Residual basic blocks instead of single convolutions.
    pool_grid : (int, int), default (2, 5)
        Cells of the final average pooling; more than one cell keeps a coarse
        layout of where things are in the frame, which a motion classifier needs.
    feature_size : int, default 64
        Size of the encoding (the seed's d = 300).
    norm : {"batch", "group", "none"}, default "batch"
        Normalisation after each convolution; see :func:`normalisation`.
    """

    def __init__(
        self,
        in_channels: int = 1,
        stem_channels: int = DEFAULT_ENCODER["stem_channels"],
        stem_kernel: int = DEFAULT_ENCODER["stem_kernel"],
        stem_pool: bool = DEFAULT_ENCODER["stem_pool"],
        channels: Sequence[int] = DEFAULT_ENCODER["channels"],
        stage_strides: Sequence[int] = DEFAULT_ENCODER["stage_strides"],
        blocks_per_stage: int = DEFAULT_ENCODER["blocks_per_stage"],
        residual: bool = DEFAULT_ENCODER["residual"],
        pool_grid: Sequence[int] = DEFAULT_ENCODER["pool_grid"],
        feature_size: int = DEFAULT_ENCODER["feature_size"],
        norm: str = DEFAULT_ENCODER["norm"],
    ) -> None:
        super().__init__()
        if len(channels) != len(stage_strides) or not channels:
            raise ConfigError(
                f"encoder channels={list(channels)!r} and stage_strides={list(stage_strides)!r}: "
                "need one stride per stage and at least one stage"
            )
        grid = check_frame_size(pool_grid, "encoder pool_grid")
        self.config = {
            "in_channels": _positive(in_channels, "in_channels"),
            "stem_channels": _positive(stem_channels, "encoder stem_channels"),
            "stem_kernel": _positive(stem_kernel, "encoder stem_kernel"),
            "stem_pool": bool(stem_pool),
            "channels": [_positive(value, "encoder channels") for value in channels],
            "stage_strides": [_positive(value, "encoder stage_strides") for value in stage_strides],
            "blocks_per_stage": _positive(blocks_per_stage, "encoder blocks_per_stage"),
            "residual": bool(residual),
            "pool_grid": list(grid),
            "feature_size": _positive(feature_size, "encoder feature_size"),
            "norm": norm,
        }
        self.stem = self._stem()
        self.stages = self._stages()
        self.pool = nn.AdaptiveAvgPool2d(grid)
        self.flatten = nn.Flatten()
        self.projection = nn.Linear(self.config["channels"][-1] * grid[0] * grid[1], self.config["feature_size"])

    def _stem(self) -> nn.Sequential:
        config = self.config
        stem = _conv_norm_relu(config["in_channels"], config["stem_channels"], config["stem_kernel"], 2, config["norm"])
        if config["stem_pool"]:
            stem.add_module("pool", nn.MaxPool2d(3, stride=2, padding=1))
        return stem

    def _stages(self) -> nn.Sequential:
        config = self.config
        layers: list[nn.Module] = []
        in_channels = config["stem_channels"]
        for out_channels, stride in zip(config["channels"], config["stage_strides"]):
            for block in range(config["blocks_per_stage"]):
                block_stride = stride if block == 0 else 1
                if config["residual"]:
                    layers.append(BasicBlock(in_channels, out_channels, block_stride, config["norm"]))
                else:
                    layers.append(_conv_norm_relu(in_channels, out_channels, 3, block_stride, config["norm"]))
                in_channels = out_channels
        return nn.Sequential(*layers)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Encode ``(N, C, H, W)`` frames into ``(N, feature_size)``."""
        return self.projection(self.flatten(self.pool(self.stages(self.stem(frames)))))


def window_mask(length: int, window: int | str, device: torch.device | None = None) -> torch.Tensor:
    """Boolean ``(length, length)`` mask of which input steps each step attends to.

    ``mask[t, s]`` is true when step ``t`` may attend to step ``s``: ``s <= t``
    (causal), and, for a fixed window ``w``, ``t - s < w``.

    Parameters
    ----------
    length : int
        Number of time steps T.
    window : int or "growing"
        ``"growing"``: all past steps, as the reference cell (Ismail et al.,
        2019, ``Scripts/cell.py``). An int ``w``: the last ``w`` steps, the
        current one included (``w = 1`` is what the seed's code did).
    device : torch.device, optional
        Device of the mask.
    """
    steps = torch.arange(length, device=device)
    lag = steps[:, None] - steps[None, :]
    mask = lag >= 0
    if window != "growing":
        mask = mask & (lag < window)
    return mask


def check_window(window: Any) -> int | str:
    """Validate an attention window: ``"growing"`` or a positive int."""
    if window == "growing":
        return "growing"
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ConfigError(f"window={window!r}: expected 'growing' or a positive number of steps")
    return window


class InputCellAttention(nn.Module):
    """Attention over a window of past inputs, for all time steps at once.

    Ismail et al. (2019), Eq. 3 and reference ``Scripts/cell.py``: scores
    ``W2 · tanh(W1 · x_s)`` (``W1``: F → d_a, ``W2``: d_a → r) are normalised by
    a softmax over the steps ``s`` in the window of each step ``t``; the ``r``
    hops of ``M_t = A_t · X`` are averaged (the reference) or flattened.

    Parameters
    ----------
    input_size : int
        Features per step, F.
    hops : int, default 20
        Attention hops r (reference default 20).
    attention_size : int, default 50
        Hidden size d_a of the scoring MLP (reference default 50).
    window : int or "growing", default "growing"
        Which past steps each step sees; see :func:`window_mask`.
    hop_aggregation : {"mean", "flatten"}, default "mean"
        ``"mean"``: output F features per step (reference). ``"flatten"``:
        output r·F features per step (the paper's other variant).
    """

    def __init__(
        self,
        input_size: int,
        hops: int = 20,
        attention_size: int = 50,
        window: int | str = "growing",
        hop_aggregation: str = "mean",
    ) -> None:
        super().__init__()
        if hop_aggregation not in ("mean", "flatten"):
            raise ConfigError(f"hop_aggregation={hop_aggregation!r}: expected 'mean' or 'flatten'")
        self.hops = _positive(hops, "attention_hops")
        self.window = check_window(window)
        self.hop_aggregation = hop_aggregation
        self.first = nn.Linear(_positive(input_size, "input_size"), _positive(attention_size, "attention_size"))
        self.tanh = nn.Tanh()
        self.second = nn.Linear(attention_size, self.hops)
        for layer in (self.first, self.second):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)

    @property
    def output_size(self) -> int:
        """Features per step of the output."""
        factor = self.hops if self.hop_aggregation == "flatten" else 1
        return self.first.in_features * factor

    def weights(self, features: torch.Tensor) -> torch.Tensor:
        """Attention weights ``(B, r, T, T)``: ``[b, hop, t, s]`` is the weight of step s at step t.

        Parameters
        ----------
        features : torch.Tensor
            ``(B, T, F)`` inputs of the cell.
        """
        scores = self.second(self.tanh(self.first(features))).transpose(1, 2)  # (B, r, T)
        length = features.shape[1]
        mask = window_mask(length, self.window, features.device)
        logits = scores[:, :, None, :].expand(-1, -1, length, -1)
        logits = logits.masked_fill(~mask, float("-inf"))
        return torch.softmax(logits, dim=-1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Summaries ``M_t`` of all steps: ``(B, T, F)`` (mean) or ``(B, T, r·F)`` (flatten)."""
        return self.forward_from(features, 0)

    def forward_from(self, features: torch.Tensor, first: int) -> torch.Tensor:
        """Summaries ``M_t`` of steps ``first`` to ``T - 1`` only: ``(B, T - first, F)`` (or ``r·F``).

        The attention is causal (:func:`window_mask`: step ``t`` looks at steps
        ``s <= t`` only), so a change of input ``s`` changes the summaries of
        steps ``t >= s`` and no earlier one; the incremental masked forward
        (:mod:`vidsal_core.saliency.incremental`) recomputes only these. The
        scores of every step are computed (a step's window reaches back before
        ``first``); only the softmax rows and products of steps ``>= first`` are.
        """
        scores = self.second(self.tanh(self.first(features))).transpose(1, 2)  # (B, r, T)
        length = features.shape[1]
        mask = window_mask(length, self.window, features.device)[first:]  # (T - first, T)
        logits = scores[:, :, None, :].expand(-1, -1, length - first, -1)
        weights = torch.softmax(logits.masked_fill(~mask, float("-inf")), dim=-1)  # (B, r, T - first, T)
        if self.hop_aggregation == "mean":
            return weights.mean(dim=1) @ features
        summaries = weights @ features[:, None]  # (B, r, T - first, F)
        return summaries.permute(0, 2, 1, 3).flatten(start_dim=2)


class FrameLSTM(nn.Module):
    """Frame encoder → LSTM → classifier on the last step (seed 000's model).

    Parameters
    ----------
    num_classes : int
        Number of classes (2 for walking vs running, 6 for KTH).
    in_channels : int, default 1
        Channels of a frame.
    input_size : (int, int) or None, default (60, 80)
        Frames are resized to this ``(height, width)`` inside the model (half
        of KTH's 120×160); ``None`` uses the frames as given.
    encoder : mapping, optional
        Keyword arguments of :class:`FrameEncoder` (defaults: ``DEFAULT_ENCODER``).
    hidden_size : int, default 64
        LSTM hidden size (seed: 256).
    num_layers : int, default 1
        LSTM layers (seed: 3).
    head_size : int, default 32
        Hidden units of the two-layer classifier head (seed: 128).
    dropout : float, default 0.0
        Dropout on the encodings, between LSTM layers and before the head.
    frame_differences : bool, default False
        Give the frame encoder, beside each frame, its difference to the
        previous frame (zero for the first), as extra channels: the per-frame
        CNN then sees where something moves, as C3D's first 3-D convolution
        can. The difference is computed inside the model, so every
        attribution is still of the frames themselves (a frame's relevance
        includes its part in its neighbour's difference). Off is the seed's
        model; the key is in ``config`` only when on, so checkpoints of the
        seed's model keep their configuration.
    """

    model_name = "frame_lstm"

    def __init__(
        self,
        num_classes: int,
        in_channels: int = 1,
        input_size: Sequence[int] | None = (60, 80),
        encoder: Mapping[str, Any] | None = None,
        hidden_size: int = 64,
        num_layers: int = 1,
        head_size: int = 32,
        dropout: float = 0.0,
        frame_differences: bool = False,
    ) -> None:
        super().__init__()
        size = check_frame_size(input_size, "input_size")
        if not isinstance(frame_differences, bool):
            raise ConfigError(f"frame_differences={frame_differences!r}: expected true or false")
        channels = _positive(in_channels, "in_channels")
        self.resize = FrameResize(size)
        self.encoder = FrameEncoder(in_channels=channels * (2 if frame_differences else 1),
                                    **{**DEFAULT_ENCODER, **dict(encoder or {})})
        self.config: dict[str, Any] = {
            "num_classes": _positive(num_classes, "num_classes"),
            "in_channels": channels,
            "input_size": None if size is None else list(size),
            "encoder": {key: value for key, value in self.encoder.config.items() if key != "in_channels"},
            "hidden_size": _positive(hidden_size, "hidden_size"),
            "num_layers": _positive(num_layers, "num_layers"),
            "head_size": _positive(head_size, "head_size"),
            "dropout": _dropout_probability(dropout, "dropout"),
        }
        if frame_differences:
            self.config["frame_differences"] = True
        self.feature_dropout = nn.Dropout(self.config["dropout"])
        self.lstm = nn.LSTM(
            self.sequence_input_size, hidden_size, num_layers=num_layers, batch_first=True,
            dropout=self.config["dropout"] if num_layers > 1 else 0.0,
        )
        self.head = nn.Sequential(OrderedDict([
            ("dropout", nn.Dropout(self.config["dropout"])),
            ("hidden", nn.Linear(hidden_size, head_size)),
            ("relu", nn.ReLU()),
            ("output", nn.Linear(head_size, num_classes)),
        ]))

    @property
    def sequence_input_size(self) -> int:
        """Features per step that the LSTM reads."""
        return self.encoder.config["feature_size"]

    def encode(self, videos: torch.Tensor) -> torch.Tensor:
        """Frame encodings ``(B, T, feature_size)`` of ``(B, T, C, H, W)`` videos."""
        return self.encode_from(videos, 0)

    def encode_from(self, videos: torch.Tensor, first: int) -> torch.Tensor:
        """Encodings of frames ``first`` to ``T - 1`` only: ``encode(videos)[:, first:]``, without encoding the others.

        Part of the per-frame protocol of :mod:`vidsal_core.saliency.incremental`:
        the frames before ``first`` are read only as the previous frames of
        a frame difference (``frame_differences``), not encoded.
        """
        check_videos(videos, self.config["in_channels"], self.model_name)
        if not 0 <= first < videos.shape[1]:
            raise ConfigError(f"first={first!r}: expected a frame from 0 to {videos.shape[1] - 1}")
        videos = self.resize(videos)
        if self.config.get("frame_differences"):
            videos = torch.cat([videos, torch.diff(videos, dim=1, prepend=videos[:, :1])], dim=2)
        videos = videos[:, first:]
        batch, time = videos.shape[:2]
        encodings = self.encoder(videos.reshape(batch * time, *videos.shape[2:]))
        return encodings.reshape(batch, time, -1)

    def sequence_inputs(self, encodings: torch.Tensor) -> torch.Tensor:
        """What the LSTM reads at each step: the encodings themselves."""
        return encodings

    def hidden_states(self, videos: torch.Tensor) -> torch.Tensor:
        """Top-layer LSTM hidden states ``(B, T, hidden_size)``."""
        inputs = self.sequence_inputs(self.feature_dropout(self.encode(videos)))
        states, _ = self.lstm(inputs)
        return states

    def forward(self, videos: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, num_classes)`` of ``(B, T, C, H, W)`` videos in [0, 1]."""
        return self.head(self.hidden_states(videos)[:, -1])

    # --- the per-frame protocol of vidsal_core.saliency.incremental -------------------------------

    @property
    def frame_reach(self) -> int:
        """Later frames whose encoding a change of one frame reaches: 1 with ``frame_differences``, else 0.

        Part of the per-frame protocol of :mod:`vidsal_core.saliency.incremental`:
        :meth:`encode` (and :meth:`encode_from`) give encoding ``t`` from frames ``t - frame_reach`` to
        ``t`` alone (frame ``t`` and, with ``frame_differences``, its
        difference to frame ``t - 1``).
        """
        return 1 if self.config.get("frame_differences") else 0

    def sequence_inputs_from(self, encodings: torch.Tensor, first: int) -> torch.Tensor:
        """What the LSTM reads at steps ``first`` to ``T - 1``: ``sequence_inputs(encodings)[:, first:]``.

        Step ``t`` of :meth:`sequence_inputs` depends on encodings ``s <= t``
        only (the identity here; causal attention in :class:`ICALSTM`).
        """
        return self.sequence_inputs(encodings[:, first:])

    def recurrence_states(self, encodings: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Hidden and cell states of every LSTM layer after every step: two ``(T, num_layers, B, hidden_size)``.

        Part of the per-frame protocol of :mod:`vidsal_core.saliency.incremental`:
        ``head_from(encodings, (h[t - 1], c[t - 1]), t)`` continues the
        recurrence from step ``t``. The LSTM is stepped one step at a time (an
        ``nn.LSTM`` returns the cell state of its last step only).

        Parameters
        ----------
        encodings : torch.Tensor
            ``(B, T, feature_size)`` frame encodings (:meth:`encode`).
        """
        inputs = self.sequence_inputs(self.feature_dropout(encodings))
        hidden, cells, state = [], [], None
        for step in range(inputs.shape[1]):
            _, state = self.lstm(inputs[:, step:step + 1], state)
            hidden.append(state[0])
            cells.append(state[1])
        return torch.stack(hidden), torch.stack(cells)

    def head_from(self, encodings: torch.Tensor, states: tuple[torch.Tensor, torch.Tensor] | None,
                  first: int) -> torch.Tensor:
        """Logits ``(B, num_classes)`` with the recurrence re-run from step ``first`` only.

        Part of the per-frame protocol of :mod:`vidsal_core.saliency.incremental`.
        ``head_from(encode(videos), None, 0)`` equals ``forward(videos)``.

        Parameters
        ----------
        encodings : torch.Tensor
            ``(B, T, feature_size)`` encodings of every frame (the attention of
            :class:`ICALSTM` looks back before ``first``).
        states : (torch.Tensor, torch.Tensor) or None
            Hidden and cell states ``(num_layers, B, hidden_size)`` after step
            ``first - 1`` (from :meth:`recurrence_states`); None when ``first`` is 0.
        first : int
            The first step to recompute.
        """
        if not 0 <= first < encodings.shape[1]:
            raise ConfigError(f"first={first!r}: expected a step from 0 to {encodings.shape[1] - 1}")
        if (states is None) != (first == 0):
            raise ConfigError(f"states: give the states after step {first - 1} (None only when first is 0)")
        inputs = self.sequence_inputs_from(self.feature_dropout(encodings), first)
        outputs, _ = self.lstm(inputs, states)
        return self.head(outputs[:, -1])


class ICALSTM(FrameLSTM):
    """Frame encoder → input-cell attention → LSTM → classifier (Ismail et al., 2019).

    Parameters
    ----------
    num_classes, in_channels, input_size, encoder, hidden_size, num_layers, head_size, dropout
        As :class:`FrameLSTM`.
    attention_hops : int, default 20
        Attention hops r (reference default).
    attention_size : int, default 50
        Scoring MLP size d_a (reference default).
    window : int or "growing", default "growing"
        The attention window; "growing" is the reference's.
    hop_aggregation : {"mean", "flatten"}, default "mean"
        Average the hops (reference) or flatten them.
    frame_differences : bool, default False
        As :class:`FrameLSTM`.
    """

    model_name = "ica_lstm"

    def __init__(
        self,
        num_classes: int,
        in_channels: int = 1,
        input_size: Sequence[int] | None = (60, 80),
        encoder: Mapping[str, Any] | None = None,
        hidden_size: int = 64,
        num_layers: int = 1,
        head_size: int = 32,
        dropout: float = 0.0,
        attention_hops: int = 20,
        attention_size: int = 50,
        window: int | str = "growing",
        hop_aggregation: str = "mean",
        frame_differences: bool = False,
    ) -> None:
        feature_size = {**DEFAULT_ENCODER, **dict(encoder or {})}["feature_size"]
        attention = InputCellAttention(feature_size, attention_hops, attention_size, window, hop_aggregation)
        self._attention_output_size = attention.output_size
        super().__init__(num_classes, in_channels, input_size, encoder, hidden_size, num_layers, head_size, dropout,
                         frame_differences)
        self.attention = attention
        self.config.update({
            "attention_hops": attention.hops,
            "attention_size": attention.first.out_features,
            "window": attention.window,
            "hop_aggregation": attention.hop_aggregation,
        })

    @property
    def sequence_input_size(self) -> int:
        """Features per step that the LSTM reads: the attention's output size."""
        return self._attention_output_size

    def sequence_inputs(self, encodings: torch.Tensor) -> torch.Tensor:
        """What the LSTM reads at each step: the attention summaries ``M_t``."""
        return self.attention(encodings)

    def sequence_inputs_from(self, encodings: torch.Tensor, first: int) -> torch.Tensor:
        """Attention summaries of steps ``first`` to ``T - 1`` (:meth:`InputCellAttention.forward_from`).

        The input-cell attention is causal: step ``t`` attends to encodings
        ``s <= t`` (its window, "growing" or fixed), never to later ones, so
        a change of frame ``s`` reaches the summaries of steps ``>= s`` only.
        """
        return self.attention.forward_from(encodings, first)

    def attention_weights(self, videos: torch.Tensor) -> torch.Tensor:
        """Attention weights ``(B, r, T, T)`` over frames, for inspection."""
        return self.attention.weights(self.encode(videos))
