"""Exact masked attributions for models with a per-frame encoder, from per-frame Jacobians.

A frame-CNN + LSTM (seed 000's model, and the input-cell attention LSTM) is

    logits = temporal(e_1, …, e_T),   e_s = encoder(x_s),

with the encoder applied to every frame on its own. Masking inside frame
``t`` changes only ``e_t``. The input gradient at any other frame ``s`` is

    ∂ logit / ∂ x_s = J_sᵀ g̃_s,   J_s = ∂ e_s / ∂ x_s,   g̃_s = ∂ logit / ∂ e_s,

where ``J_s``, the encoder's Jacobian at the *unchanged* frame ``s``, is the
same for every mask, and ``g̃_s`` comes from the cheap temporal part run on
the masked encodings. So the Jacobians are computed once (``d`` backward
passes through the encoder, ``d`` = encoding size), and every masked saliency
map then costs one single-frame encoder pass forward and back (for frame
``t`` itself), one pass of the temporal part, and a matrix product per frame,
batched over masks. For Integrated Gradients the same holds at every path
point ``b + α_k (x − b)``, with one Jacobian per point and frame.

The result is exact, not an approximation: it differs from the one-call-per-
mask loop only by floating-point rounding (the tests check agreement in
float64 on small models).

Where the time goes, and what is done about it:

- *The per-frame products are memory-bound.* Every mask totals
  ``|R(X) − R(X̄)|`` over all ``T·C·H·W`` values of the clip. Written out,
  that is a ``(masks, C·H·W)`` product per frame, then ``|·|``, the
  difference and the sum, each a pass over memory. :func:`frame_changes`
  fuses them: the product is taken a block of pixels at a time (BLAS-3 over
  all masks of a batch) into one buffer that stays in cache, and the finish,
  the difference, ``|·|`` and the (weighted) sum run on that block before
  the next one is computed. :func:`frame_changes_reference` is its plain twin.
- *A resize before the encoder.* :class:`~vidsal_core.models.lstm.FrameLSTM`
  resizes frames (bilinearly) to its input size before encoding them. The
  resize is linear, ``z = A x``, so the input gradient is ``Aᵀ ∂/∂z``. When
  every pixel of the clip feeds at most one pixel of the resized frame (any
  whole-number downscaling factor, e.g. 120×160 → 60×80), ``(Aᵀ y)_P =
  w_P · y_{o(P)}`` for an owner ``o(P)`` and weight ``w_P``, so
  ``Σ_P |R' − R|_P = Σ_p W_p · |φ(y') − φ(y)|_p`` with ``W_p = Σ_{o(P)=p}
  |w_P|`` (times ``|x − b|_P`` for Integrated Gradients, whose change is
  linear in ``y``) and ``φ = |·|`` for ``|gradient|``. The Jacobians are then
  stored, and the changes summed, at the resized resolution: exact, and
  ``H·W / h·w`` times less work. :func:`resize_ownership` finds ``o`` and
  ``w`` from the resize itself (one-hot vector-Jacobian products) and
  refuses the shortcut when a pixel feeds more than one resized pixel.
- *The Jacobians* come from one forward pass of the frames and one backward
  pass per encoding entry through the kept graph (the forward pass is not
  repeated per row). At seed 000's setting (ResNet-18, ``d = 300``) these
  ``d`` backward passes per frame are most of the engine's time; the naive
  loop pays ``1 + T + |{t > α}| · F`` of them per frame.

:class:`FrameFactorisation` finds the split in a model: a model may offer
``encode_frames(frames) -> (N, d)`` and ``classify_encodings(encodings) ->
logits`` itself; :class:`~vidsal_core.models.lstm.FrameLSTM` and its
subclasses are split through their ``encode``, ``sequence_inputs``, ``lstm``
and ``head`` (and ``resize`` and ``encoder``). Either way the split is
checked against the model's own forward pass and gradient before it is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from vidsal_core.errors import ConfigError
from vidsal_core.models.cudnn import recurrent_backward
from vidsal_core.saliency.attribution import BaseAttribution
from vidsal_core.saliency.masking import (
    DEFAULT_MAX_BATCH_BYTES,
    MaskSet,
    batches,
    model_bytes_per_video,
)

#: Default bound on the memory of the stored Jacobians (bytes).
DEFAULT_MAX_JACOBIAN_BYTES = 4 * 2**30
#: Default size of the block of products :func:`frame_changes` keeps in cache (bytes).
DEFAULT_CHUNK_BYTES = 4 * 2**20
#: Relative tolerance of the check that a split reproduces the model.
SPLIT_TOLERANCE = {torch.float64: 1e-9, torch.float32: 1e-3}


@dataclass(frozen=True)
class FrameFactorisation:
    """A model split into a per-frame encoder and a temporal part.

    Attributes
    ----------
    encode_frames : callable
        ``(N, C, H, W)`` frames → ``(N, d)`` encodings, each frame on its own.
    classify_encodings : callable
        ``(B, T, d)`` encodings → ``(B, classes)`` logits.
    resize : callable, optional
        The linear map ``(N, C, H, W)`` → ``(N, C, h, w)`` that ``encode_frames``
        applies first (it may return its input unchanged), with
    encode_resized : callable, optional
        the rest: ``encode_frames(x) == encode_resized(resize(x))``.
    """

    encode_frames: Callable[[torch.Tensor], torch.Tensor]
    classify_encodings: Callable[[torch.Tensor], torch.Tensor]
    resize: Callable[[torch.Tensor], torch.Tensor] | None = None
    encode_resized: Callable[[torch.Tensor], torch.Tensor] | None = None

    @classmethod
    def of(cls, model: nn.Module) -> "FrameFactorisation | None":
        """The split of ``model``, or None if it has no per-frame encoder vidsal knows of.

        Uses ``model.encode_frames`` and ``model.classify_encodings`` when the
        model has both; otherwise, for a :class:`~vidsal_core.models.lstm.FrameLSTM`
        (or a model with its ``encode``, ``feature_dropout``, ``sequence_inputs``,
        ``lstm`` and ``head``), the same composition as its ``forward``, with
        its ``resize`` and ``encoder`` as the two halves of ``encode`` when it
        has them.
        """
        if callable(getattr(model, "encode_frames", None)) and callable(getattr(model, "classify_encodings", None)):
            return cls(model.encode_frames, model.classify_encodings)
        if all(hasattr(model, name) for name in ("encode", "feature_dropout", "sequence_inputs", "lstm", "head")):
            def encode_frames(frames: torch.Tensor) -> torch.Tensor:
                return model.encode(frames[:, None])[:, 0]

            def classify_encodings(encodings: torch.Tensor) -> torch.Tensor:
                states, _ = model.lstm(model.sequence_inputs(model.feature_dropout(encodings)))
                return model.head(states[:, -1])

            resize = encode_resized = None
            if isinstance(getattr(model, "resize", None), nn.Module) and isinstance(getattr(model, "encoder", None), nn.Module):
                def resize(frames: torch.Tensor) -> torch.Tensor:
                    return model.resize(frames[:, None])[:, 0]

                encode_resized = model.encoder
            return cls(encode_frames, classify_encodings, resize, encode_resized)
        return None


def _temporal_gradient(parts: FrameFactorisation, encodings: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """``∂ logit_target / ∂ encodings`` for ``(B, T, d)`` encodings: ``(B, T, d)``."""
    leaf = encodings.detach().requires_grad_(True)
    logits = parts.classify_encodings(leaf)
    return torch.autograd.grad(logits.gather(1, targets[:, None]).sum(), leaf)[0]


def _owners(matrix: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``(owner, weight)`` of every column of ``matrix`` with at most one non-zero, else None."""
    nonzero = matrix != 0
    if bool((nonzero.sum(0) > 1).any()):
        return None
    owner = nonzero.to(torch.uint8).argmax(0)
    return owner, matrix.gather(0, owner[None])[0]


def _separable_factors(resize: Callable[[torch.Tensor], torch.Tensor], frame: torch.Tensor,
                       resized: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``(A_h, A_w)`` with ``resize(x) = A_h x A_wᵀ`` in every channel, checked on a random frame; else None.

    ``A_h`` comes from resizing frames that are one along one row and zero
    elsewhere (``A_h e_i ⊗ A_w 1``), ``A_w`` likewise from columns; the
    factors are then checked against the resize itself on a random frame
    (bilinear, bicubic and nearest resizing are separable; anything else
    fails the check and is probed pixel by pixel).
    """
    channels, height, width = frame.shape
    with torch.no_grad():
        ones = resize(torch.ones_like(frame)[None])[0, 0]  # (h, w) = v ⊗ u
        rows = resize(torch.eye(height, dtype=frame.dtype, device=frame.device)[:, None, :, None]
                      .expand(height, channels, height, width).contiguous())[:, 0]  # (H, h, w)
        columns = resize(torch.eye(width, dtype=frame.dtype, device=frame.device)[:, None, None, :]
                         .expand(width, channels, height, width).contiguous())[:, 0]  # (W, h, w)
        # ones[a, b] = (A_h 1)_a (A_w 1)_b, rows[i][:, b] = A_h[:, i] (A_w 1)_b, columns[j][a, :] = (A_h 1)_a A_w[:, j]:
        # the factors are defined up to a scale λ A_h ⊗ A_w / λ, so take λ = (A_w 1)_b.
        a, b = divmod(int(torch.argmax(ones.abs())), ones.shape[1])
        if float(ones[a, b]) == 0.0:
            return None
        a_h = rows[:, :, b].T.contiguous()  # (h, H)
        a_w = (columns[:, a, :].T / ones[a, b]).contiguous()  # (w, W)
        probe = torch.rand(channels, height, width, generator=torch.Generator().manual_seed(0), dtype=frame.dtype)
        probe = probe.to(frame.device)
        expected = resize(probe[None])[0]
        ours = a_h @ probe @ a_w.T
        scale = expected.abs().max().clamp_min(torch.finfo(frame.dtype).tiny)
    if tuple(expected.shape) != tuple(resized.shape[1:]) or float((ours - expected).abs().max() / scale) > \
            10 * torch.finfo(frame.dtype).eps * max(height, width):
        return None
    return a_h, a_w


def resize_ownership(resize: Callable[[torch.Tensor], torch.Tensor], frame: torch.Tensor,
                     rows_per_pass: int = 256) -> tuple[torch.Tensor, torch.Tensor, tuple[int, ...]] | None:
    """``(owner, weight, resized_shape)`` of a linear resize whose adjoint has one entry per pixel, else None.

    For ``z = A x`` (``x`` one ``(C, H, W)`` frame): if every pixel ``P`` of
    ``x`` has at most one non-zero ``A[p, P]``, then ``(Aᵀ y)_P = weight_P ·
    y[owner_P]`` (weight 0 where a pixel feeds no resized pixel), and this
    returns ``owner`` ``(P,)`` long, ``weight`` ``(P,)`` and the resized
    frame's shape. It returns None when the resize is the identity (it gives
    back its input unchanged) or when some pixel feeds several resized pixels
    (then the shortcut would not be exact).

    A separable resize (``A = A_h ⊗ A_w`` per channel, checked on a random
    frame) is read from ``H + W + 1`` probe frames. Otherwise every row of
    ``A`` is the gradient of one resized pixel: the resize acts on every
    frame alone, so one backward pass through a batch of zero frames, frame
    ``i`` seeded with resized pixel ``i``, gives ``rows_per_pass`` rows at once.
    """
    probe = torch.zeros_like(frame)[None].requires_grad_(True)
    with torch.enable_grad():
        resized = resize(probe)
    if resized is probe or not resized.requires_grad:
        return None
    factors = _separable_factors(resize, frame, resized)
    if factors is not None:
        a_h, a_w = factors
        rows, columns = _owners(a_h), _owners(a_w)
        if rows is None or columns is None:
            return None
        (row_owner, row_weight), (column_owner, column_weight) = rows, columns
        channels, height, width = frame.shape
        small_height, small_width = a_h.shape[0], a_w.shape[0]
        channel = torch.arange(channels, device=frame.device)[:, None, None]
        owner = (channel * small_height + row_owner[None, :, None]) * small_width + column_owner[None, None, :]
        weight = (row_weight[:, None] * column_weight[None, :]).expand(channels, height, width)
        return owner.flatten(), weight.flatten().contiguous(), tuple(resized.shape[1:])
    values, pixels = resized[0].numel(), frame.numel()
    owner = torch.zeros(pixels, dtype=torch.long, device=frame.device)
    weight = frame.new_zeros(pixels)
    feeds = torch.zeros(pixels, dtype=torch.long, device=frame.device)
    for first in range(0, values, rows_per_pass):
        rows = torch.arange(first, min(first + rows_per_pass, values), device=frame.device)
        leaf = frame.new_zeros(rows.numel(), *frame.shape).requires_grad_(True)
        with torch.enable_grad():
            outputs = resize(leaf).reshape(rows.numel(), values)
        (gradient,) = torch.autograd.grad(outputs[torch.arange(rows.numel()), rows].sum(), leaf)
        gradient = gradient.reshape(rows.numel(), pixels)
        row_index, pixel_index = torch.nonzero(gradient, as_tuple=True)
        feeds += torch.bincount(pixel_index, minlength=pixels)
        owner[pixel_index] = rows[row_index]
        weight[pixel_index] = gradient[row_index, pixel_index]
    if bool((feeds > 1).any()):
        return None
    return owner, weight, tuple(resized.shape[1:])


def _chunk_width(rows: int, values: int, element_size: int, chunk_bytes: int) -> int:
    """Pixels per block so that a ``(rows, width)`` block takes about ``chunk_bytes``."""
    if isinstance(chunk_bytes, bool) or not isinstance(chunk_bytes, int) or chunk_bytes < 1:
        raise ConfigError(f"chunk_bytes={chunk_bytes!r}: expected a positive number of bytes")
    return max(1, min(values, chunk_bytes // max(1, rows * element_size)))


def frame_changes(
    coefficients: torch.Tensor,
    jacobian: torch.Tensor,
    base: torch.Tensor,
    absolute: bool,
    weights: torch.Tensor | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> torch.Tensor:
    """``Σ_p W_p |φ(c_m · J)_p − base_p|`` for every row ``c_m``: ``(m,)`` float64.

    The fused kernel of the factorised engine: one frame's gradients under
    ``m`` masks are ``coefficients @ jacobian``, and only their total
    (weighted) absolute change from ``base`` is needed. The product is
    computed a block of pixels at a time into one buffer of about
    ``chunk_bytes`` (so it stays in cache); ``φ`` (``|·|`` when ``absolute``),
    the difference, ``|·|`` and the row sums (a matrix-vector product with
    ``W`` when weights are given) run on the block in place. Block sums
    (working precision) are totalled in float64; the result does not depend
    on ``chunk_bytes`` beyond rounding.

    Parameters
    ----------
    coefficients : torch.Tensor
        ``(m, k)`` weighted temporal gradients of the frame, one row per mask.
    jacobian : torch.Tensor
        ``(k, P)`` the frame's stored Jacobian rows.
    base : torch.Tensor
        ``(P,)`` ``φ`` of the frame's unmasked gradient.
    absolute : bool
        ``φ = |·|`` (the ``|gradient|`` attribution) or the identity.
    weights : torch.Tensor, optional
        ``(P,)`` non-negative ``W``; None = all ones.
    chunk_bytes : int, default 4 MiB
        Size of the block of products.
    """
    rows, values = coefficients.shape[0], jacobian.shape[1]
    width = _chunk_width(rows, values, jacobian.element_size(), chunk_bytes)
    buffer = jacobian.new_empty(rows * width)
    total = torch.zeros(rows, dtype=torch.float64, device=jacobian.device)
    for first in range(0, values, width):
        last = min(first + width, values)
        block = buffer[:rows * (last - first)].view(rows, last - first)
        torch.mm(coefficients, jacobian[:, first:last], out=block)
        if absolute:
            block.abs_()
        block.sub_(base[first:last]).abs_()
        total += block.sum(1) if weights is None else block @ weights[first:last]
    return total


def frame_changes_reference(
    coefficients: torch.Tensor,
    jacobian: torch.Tensor,
    base: torch.Tensor,
    absolute: bool,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """The plain twin of :func:`frame_changes`: the whole product, then everything in float64, row by row."""
    totals = []
    for row in coefficients.double():
        gradient = row @ jacobian.double()
        values = gradient.abs() if absolute else gradient
        change = (values - base.double()).abs()
        totals.append(change.sum() if weights is None else (change * weights.double()).sum())
    return torch.stack(totals)


class FactorisedEngine:
    """Masked attributions of one video for a model with a per-frame encoder.

    Construction computes the encodings and the encoder's Jacobians at every
    frame (and path point), and the base attribution ``R(X)`` from them; then
    :meth:`changes` gives ``Δ = Σ |R(X) − R(X̄)|`` for any set of single-frame
    masks.

    Parameters
    ----------
    model : nn.Module
        In eval mode, splittable by :meth:`FrameFactorisation.of`.
    video : torch.Tensor
        ``(T, C, H, W)``.
    target : int
        The class explained.
    attribution : BaseAttribution
        The base attribution ``R``.
    max_batch_bytes : int, default 512 MiB
        Memory bound of one batch of masks.
    batch_size : int, optional
        Masks per batch, overriding the bound.
    max_jacobian_bytes : int, default 4 GiB
        Refuse (with a :class:`ConfigError`) to store Jacobians larger than
        this; ``T · K · d · C · h · w`` values are needed (``h × w`` the
        resized frame where the resize allows it, else the frame).
    chunk_bytes : int, default 4 MiB
        Block of products :func:`frame_changes` keeps in cache.
    use_resize : bool, default True
        Store Jacobians at the resized resolution where :func:`resize_ownership`
        says that is exact; False always works at the clip's resolution.

    Raises
    ------
    ConfigError
        If the model has no per-frame encoder, if the split does not reproduce
        the model's logits and gradient, or if the Jacobians would not fit.
    """

    name = "factorised"

    def __init__(
        self,
        model: nn.Module,
        video: torch.Tensor,
        target: int,
        attribution: BaseAttribution,
        max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
        batch_size: int | None = None,
        max_jacobian_bytes: int = DEFAULT_MAX_JACOBIAN_BYTES,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
        use_resize: bool = True,
    ) -> None:
        _chunk_width(1, 1, 1, chunk_bytes)
        self.chunk_bytes = chunk_bytes
        parts = FrameFactorisation.of(model)
        if parts is None:
            raise ConfigError(
                f"engine='factorised': {type(model).__name__} has no per-frame encoder "
                "(encode_frames/classify_encodings); use engine='batched'"
            )
        self.model, self.parts, self.video, self.attribution = model, parts, video.detach(), attribution
        self.target = torch.tensor([int(target)], device=video.device)
        frames, channels, height, width = video.shape
        self.pixels = channels * height * width
        self.alphas, self.weights = attribution.path(video.dtype, video.device)
        self.start = attribution.start(self.video)
        self.ownership = None
        if use_resize and parts.resize is not None and parts.encode_resized is not None:
            self.ownership = resize_ownership(parts.resize, self.video[0])
        with recurrent_backward(self.model):
            self._jacobians(max_jacobian_bytes, max_batch_bytes)
            self._check_split()
            base_gradient = self._frames_gradient(self._temporal(self.encodings[:, None]))[0]  # (T, p)
        self.base = attribution.finish(self._expand(base_gradient).reshape(video.shape), self.video, self.start)
        self.absolute = attribution.method == "gradient" and attribution.absolute
        self.base_values = base_gradient.abs() if self.absolute else base_gradient  # (T, p): φ(y)
        self.change_weights = self._change_weights()  # (T, p) or None
        self.batch_size = batch_size if batch_size is not None else self._masks_per_batch(max_batch_bytes)

    # --- set-up -------------------------------------------------------------------------------

    def _path_points(self, frames: torch.Tensor, starts: torch.Tensor) -> torch.Tensor:
        """``(K, N, C, H, W)`` path points of ``(N, C, H, W)`` frames (the frames themselves for the gradient)."""
        if self.attribution.method == "gradient":
            return frames[None]
        return starts[None] + self.alphas.view(-1, 1, 1, 1, 1) * (frames - starts)[None]

    def _expand(self, gradient: torch.Tensor) -> torch.Tensor:
        """``(..., p)`` gradients with respect to the Jacobians' inputs → ``(..., C·H·W)`` at the clip's pixels."""
        if self.ownership is None:
            return gradient
        owner, weight, _ = self.ownership
        return gradient[..., owner] * weight

    def _change_weights(self) -> torch.Tensor | None:
        """``(T, p)`` weights ``W`` of :func:`frame_changes`, or None when all are one.

        ``W_p = Σ_{o(P)=p} |w_P|`` (times ``|x − b|_P`` for Integrated Gradients).
        """
        frames = self.video.shape[0]
        scale = None if self.attribution.method == "gradient" else (self.video - self.start).reshape(frames, -1).abs()
        if self.ownership is None:
            return scale
        owner, weight, shape = self.ownership
        magnitude = weight.abs().expand(frames, -1) if scale is None else weight.abs() * scale
        summed = magnitude.new_zeros(frames, int(torch.tensor(shape).prod()))
        return summed.index_add_(1, owner, magnitude)

    def _jacobians(self, max_jacobian_bytes: int, max_batch_bytes: int) -> None:
        """Encodings ``(K, T, d)`` and Jacobians ``(T, K·d, p)`` at every path point and frame.

        ``p`` is the resized frame's size where :attr:`ownership` allows, else
        ``C·H·W``. Row ``j`` of every Jacobian is the gradient of encoding
        entry ``j`` summed over frames (frames do not interact in the
        encoder). The frames go through the encoder once (in groups under
        ``max_batch_bytes``) and every row is one backward pass through that
        graph (kept between rows): the forward pass is not repeated per row.
        (On 2 CPU cores this beat both batched vector-Jacobian products with
        ``is_grads_batched``, whose ``vmap`` also costs a one-off import of
        over a second, and repeating the frames once per row.)
        """
        frames = self.video.shape[0]
        count = self.alphas.numel()
        points = self._path_points(self.video, self.start).reshape(count * frames, *self.video.shape[1:]).detach()
        encode = self.parts.encode_frames
        if self.ownership is not None:
            with torch.no_grad():
                points = self.parts.resize(points)
            encode = self.parts.encode_resized
        values = points[0].numel()
        with torch.no_grad():
            size = encode(points[:1]).shape[1]
        needed = frames * count * size * values * self.video.element_size()
        if needed > max_jacobian_bytes:
            raise ConfigError(
                f"engine='factorised': the Jacobians need {needed / 2**30:.1f} GiB, over max_jacobian_bytes="
                f"{max_jacobian_bytes / 2**30:.1f} GiB; use engine='batched', fewer n_steps or smaller frames"
            )
        # One frame's activations (a one-frame video) twice: the graph of a group of frames is kept
        # while one row after another goes back through it.
        frame_bytes = model_bytes_per_video(self.model, self.video[:1])
        group = max(1, min(count * frames, int(max_batch_bytes // (2 * frame_bytes))))
        jacobians = self.video.new_empty(frames, count, size, values)
        encodings = self.video.new_empty(count * frames, size)
        for first in range(0, count * frames, group):
            indices = torch.arange(first, min(first + group, count * frames), device=self.video.device)
            leaf = points[indices].requires_grad_(True)
            outputs = encode(leaf)  # (n, d)
            encodings[indices] = outputs.detach()
            times, steps = indices % frames, indices // frames  # point n = k·T + t
            for row in range(size):
                # A scalar per backward pass: explicit output gradients would make torch import sympy (over 1 s).
                (gradient,) = torch.autograd.grad(outputs[:, row].sum(), leaf, retain_graph=row < size - 1)
                jacobians[times, steps, row] = gradient.reshape(indices.numel(), values)
            del outputs, leaf
        self.encodings = encodings.reshape(count, frames, size)
        # (T, K, d, p) -> (T, K·d, p): one matrix per frame, rows ordered path point by path point.
        self.jacobians = jacobians.reshape(frames, count * size, values)
        self.encoding_size = size

    def _check_split(self) -> None:
        """Refuse a split that does not reproduce the model's logits and gradient at the last path point.

        For the input gradient the last (only) path point is the video itself;
        the check compares the model's own autograd gradient there with the
        stored Jacobians times the temporal gradient (taken back through the
        resize where the Jacobians are the resized frames').
        """
        tolerance = SPLIT_TOLERANCE.get(self.video.dtype, 1e-3)
        last = self.alphas.numel() - 1
        point = self._path_points(self.video, self.start)[last]
        inputs = point[None].detach().requires_grad_(True)
        logits = self.model(inputs)
        (direct,) = torch.autograd.grad(logits[0, self.target[0]], inputs)
        encodings = self.encodings[last][None]
        parts_logits = self.parts.classify_encodings(encodings)
        temporal = _temporal_gradient(self.parts, encodings, self.target)[0]  # (T, d)
        size = self.encoding_size
        jacobians = self.jacobians[:, last * size:(last + 1) * size]  # (T, d, p)
        factorised = self._expand(torch.einsum("td,tdp->tp", temporal, jacobians)).reshape(direct.shape[1:])
        for what, ours, theirs in (("logits", parts_logits, logits), ("input gradient", factorised, direct[0])):
            scale = theirs.detach().abs().max().clamp_min(torch.finfo(theirs.dtype).tiny)
            error = float((ours.detach() - theirs.detach()).abs().max() / scale)
            if not error <= tolerance:
                raise ConfigError(
                    f"engine='factorised': the model's per-frame split does not reproduce its {what} "
                    f"(relative error {error:.2e}); use engine='batched'"
                )

    def _masks_per_batch(self, max_batch_bytes: int) -> int:
        """Masks per batch: single-frame encoder passes, the masked frame's map and the coefficients under the bound.

        The per-frame products take no memory per mask beyond the block of
        :func:`frame_changes`, so batches can be large (BLAS-3).
        """
        frame_bytes = model_bytes_per_video(self.model, self.video[:1])
        per_mask = self.alphas.numel() * 2 * frame_bytes + 3 * self.pixels * self.video.element_size()
        return max(1, int(max_batch_bytes // per_mask))

    # --- masked attributions --------------------------------------------------------------------

    def _temporal(self, encodings: torch.Tensor) -> torch.Tensor:
        """``(K, B, T, d)`` temporal gradients of ``(K, B, T, d)`` encodings."""
        count, batch = encodings.shape[:2]
        targets = self.target.expand(count * batch)
        gradient = _temporal_gradient(self.parts, encodings.reshape(count * batch, *encodings.shape[2:]), targets)
        return gradient.reshape(encodings.shape)

    def _coefficients(self, temporal: torch.Tensor) -> torch.Tensor:
        """``(B, T, K·d)``: temporal gradients times the path weights, path point by path point, per frame."""
        count, batch, frames = temporal.shape[:3]
        weighted = self.weights.view(-1, 1, 1, 1) * temporal.detach()
        return weighted.permute(1, 2, 0, 3).reshape(batch, frames, count * self.encoding_size)

    def _frames_gradient(self, temporal: torch.Tensor) -> torch.Tensor:
        """``(B, T, p)`` weighted gradient sums of unmasked frames from ``(K, B, T, d)`` temporal gradients."""
        coefficients = self._coefficients(temporal)
        return torch.stack([coefficients[:, s] @ self.jacobians[s] for s in range(self.video.shape[0])], dim=1)

    def changes(self, masks: MaskSet, mask_values: torch.Tensor) -> torch.Tensor:
        """``Δ_m = Σ |R(X) − R(X̄_m)|`` over all values of the video, for every mask: ``(M,)``.

        Parameters
        ----------
        masks : MaskSet
            Single-frame masks made for the video.
        mask_values : torch.Tensor
            ``(T, C, H, W)`` values masked entries take.
        """
        masks.check_video(self.video)
        if not masks.single_frame:
            raise ConfigError("engine='factorised': needs masks that each cover one frame; use engine='batched'")
        results = []
        with recurrent_backward(self.model):
            for indices in batches(len(masks), self.batch_size):
                results.append(self._changes(masks, mask_values, indices))
        return torch.cat(results)

    def _changes(self, masks: MaskSet, mask_values: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
        video, count = self.video, self.alphas.numel()
        frames_of = masks.starts[indices].to(video.device)  # (m,)
        batch = frames_of.numel()
        rows = torch.arange(batch, device=video.device)
        covered = masks.spatial(indices, device=video.device)[:, None]  # (m, 1, H, W)
        masked = torch.where(covered, mask_values.to(video)[frames_of], video[frames_of])  # (m, C, H, W)
        starts = self.start[frames_of]
        points = self._path_points(masked, starts).reshape(count * batch, *video.shape[1:]).detach()
        # For the gradient, frame t's change can be summed at the resized resolution like any other
        # frame's (W does not depend on the frame's values); Integrated Gradients' (x̄ − b) does.
        resized = self.ownership is not None and self.attribution.method == "gradient"
        if resized:
            with torch.no_grad():
                points = self.parts.resize(points)
            points.requires_grad_(True)
            masked_encodings = self.parts.encode_resized(points).reshape(count, batch, -1)  # (K, m, d)
        else:
            points.requires_grad_(True)
            masked_encodings = self.parts.encode_frames(points).reshape(count, batch, -1)  # (K, m, d)
        encodings = self.encodings[:, None].expand(count, batch, *self.encodings.shape[1:]).clone()
        encodings[:, rows, frames_of] = masked_encodings.detach()
        temporal = self._temporal(encodings)  # (K, m, T, d)
        # Frame t of each mask: backward through the encoder at the masked frame itself.
        (masked_gradient,) = torch.autograd.grad((masked_encodings * temporal[:, rows, frames_of]).sum(), points)
        masked_gradient = (self.weights.view(-1, 1, 1, 1, 1) * masked_gradient.reshape(count, batch, *points.shape[1:])).sum(0)
        if resized:
            values = masked_gradient.reshape(batch, -1)
            values = values.abs_() if self.absolute else values
            change = ((values - self.base_values[frames_of]).abs_() * self.change_weights[frames_of]).sum(1, dtype=torch.float64)
        else:
            masked_attribution = self.attribution.finish(masked_gradient, masked, starts)
            change = (masked_attribution - self.base[frames_of]).abs_().flatten(1).sum(1, dtype=torch.float64)
        # Every other frame s: the stored Jacobian times the new temporal gradient, fused (frame_changes).
        coefficients = self._coefficients(temporal)  # (m, T, K·d)
        for frame in range(video.shape[0]):
            others = frames_of != frame
            if not bool(others.any()):
                continue
            every = bool(others.all())
            change_of_frame = frame_changes(
                coefficients[:, frame] if every else coefficients[others, frame], self.jacobians[frame],
                self.base_values[frame], self.absolute,
                None if self.change_weights is None else self.change_weights[frame], self.chunk_bytes)
            if every:
                change += change_of_frame
            else:
                change[others] += change_of_frame
        return change.detach()
