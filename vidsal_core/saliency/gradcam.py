"""Grad-CAM, Grad-CAM++ and XGradCAM of a video network's 3-D feature maps, through pytorch-grad-cam.

Grad-CAM (Selvaraju et al., 2017) weighs the feature maps ``A_k`` of one
convolutional layer by the mean gradient of the target logit over each map,
``α_k = mean_{t,h,w} ∂y / ∂A_k``, and keeps the positive part of the weighted
sum, ``ReLU(Σ_k α_k A_k)``. Grad-CAM++ (Chattopadhay et al., 2018) and
XGradCAM (Fu et al., 2020) change only the weights ``α_k``. On a 3-D CNN the
maps have a time axis too, so the class activation map is ``(T', H', W')``:
for C3D's last convolution block (``conv5b`` and its ReLU) 1/8 of the clip's
frames and 1/16 of its height and width, for I3D's ``Mixed_5c`` 1/8 in time
and 1/32 in space.

The weights and the weighted sum are the package's own
(``pytorch_grad_cam.GradCAM.get_cam_image`` and its siblings, which handle
5-D activations since the package's PR #466, with the Grad-CAM++ / XGradCAM
weights fixed for them in PR #603), and the activations and gradients are
recorded by its ``ActivationsAndGradients`` hooks. vidsal differs from the
package's ``__call__`` in three places:

* the gradient is taken only down to the target layer (``torch.autograd.grad``
  with the layer's output as input), not through the whole network and into
  every parameter's ``.grad`` as the package's ``loss.backward()`` does: the
  same gradient at the layer for less work, and nothing left on the model;
* the coarse map is brought to the video's ``(T, H, W)`` by **trilinear**
  interpolation (``torch.nn.functional.interpolate``, ``align_corners=False``)
  and repeated over the channels, so the map has the video's shape
  ``(T, C, H, W)``. pytorch-grad-cam 1.5.7 resizes a 3-D map with
  ``scipy.ndimage.zoom`` at its default spline order 3 (cubic), which
  overshoots below zero next to a peak (the package then cuts at 0);
  trilinear interpolation stays non-negative and keeps each frame a blend of
  the two nearest time positions;
* the map is **not** min-max scaled per video (the package scales each map to
  [0, 1] before and after resizing). The frame-wise share of the border
  study and the faithfulness orderings only need the map's values; scaling
  by ``max - min`` would shift every frame's share when the minimum is not 0.

The package expects channels-first input ``(B, C, T, H, W)``; vidsal's models
take ``(B, T, C, H, W)`` and permute inside, so the target layer's activations
are the usual ``(B, K, T', H', W')`` of a ``Conv3d`` network.

References
----------
Selvaraju, R. R. et al. (2017). Grad-CAM: visual explanations from deep
networks via gradient-based localization. ICCV.
Chattopadhay, A., Sarkar, A., Howlader, P. and Balasubramanian, V. N. (2018).
Grad-CAM++: generalized gradient-based visual explanations for deep
convolutional networks. WACV.
Fu, R. et al. (2020). Axiom-based Grad-CAM: towards accurate visualization and
explanation of CNNs. BMVC.
Gildenblat, J. and contributors (2021). PyTorch library for CAM methods.
https://github.com/jacobgil/pytorch-grad-cam
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from vidsal_core.errors import ConfigError
from vidsal_core.saliency.checks import as_batch, check_eval_mode, check_finite, resolve_targets

Target = int | Sequence[int] | torch.Tensor | None

#: Method name → the pytorch-grad-cam class that computes its weights.
CAM_METHODS: dict[str, str] = {
    "grad_cam": "GradCAM",
    "grad_cam_plus_plus": "GradCAMPlusPlus",
    "xgrad_cam": "XGradCAM",
}
#: The layer each known model is explained at, by the model's ``model_name``: C3D's last
#: convolution block (``conv5b`` after its ReLU, before ``pool5``) and I3D's last Inception block.
DEFAULT_TARGET_LAYERS: dict[str, str] = {
    "c3d": "features.relu5b",
    "i3d": "features.Mixed_5c",
}


def structural_layer(model: nn.Module, videos: torch.Tensor) -> str:
    """The layer Grad-CAM explains in a network the library does not know: found from its structure.

    One forward pass of the first clip records, in the order modules finish, each module's output; the
    layer is the last module whose output is a 5-D feature map ``(1, K, T', H', W')`` with more than one
    position (``T'·H'·W' > 1``), so the last feature map before a global pooling (torchvision's ``r3d_18``:
    ``layer4``, or ``net.layer4`` inside :func:`vidsal_core.models.adapter.as_video_model`).

    Parameters
    ----------
    model : nn.Module
        ``(B, T, C, H, W)`` videos → logits.
    videos : torch.Tensor
        ``(B, T, C, H, W)`` or ``(T, C, H, W)``; only the first clip is passed.

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv3d(1, 2, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool3d(1), nn.Flatten(),
    ...                     nn.Linear(2, 2))
    >>> class Clips(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.net = net
    ...     def forward(self, x):
    ...         return self.net(x.transpose(1, 2))
    >>> structural_layer(Clips().eval(), torch.rand(4, 1, 8, 8))
    'net.1'
    """
    batch, _ = as_batch(videos)
    names = {module: name for name, module in model.named_modules() if name}
    finished: list[str] = []

    def record(module: nn.Module, inputs: Any, output: Any) -> None:
        if isinstance(output, torch.Tensor) and output.dim() == 5 and output.shape[2:].numel() > 1:
            finished.append(names[module])
    hooks = [module.register_forward_hook(record) for module in names]
    try:
        with torch.no_grad():
            model(batch[:1])
    finally:
        for hook in hooks:
            hook.remove()
    if not finished:
        raise ConfigError(f"target_layer: model {type(model).__name__} has no module with a 5-D output "
                          "(B, K, T', H', W') of more than one position; name the layer to explain")
    return finished[-1]


def target_layer_name(model: nn.Module, target_layer: str | None = None, videos: torch.Tensor | None = None) -> str:
    """The name of the layer a model is explained at: ``target_layer``, else the model's default.

    Parameters
    ----------
    model : nn.Module
        A video network; its ``model_name`` (``"c3d"``, ``"i3d"``) picks the
        default of :data:`DEFAULT_TARGET_LAYERS`; any other network's default
        is found from its structure on ``videos`` (:func:`structural_layer`).
    target_layer : str or None, default None
        A name of ``model.named_modules()`` (e.g. ``"features.conv4b"``), or
        None for the default.
    videos : torch.Tensor, optional
        Clips the model is explained on (needed to find the layer of a network the library does not know).
    """
    if target_layer is not None:
        if not isinstance(target_layer, str):
            raise ConfigError(f"target_layer={target_layer!r}: expected a module name such as 'features.relu5b'")
        return target_layer
    name = getattr(model, "model_name", None)
    if name in DEFAULT_TARGET_LAYERS:
        return DEFAULT_TARGET_LAYERS[name]
    if videos is None:
        raise ConfigError(f"target_layer: model {type(model).__name__} (model_name={name!r}) has no default "
                          f"layer ({DEFAULT_TARGET_LAYERS}); name one of its convolutional modules, or give videos "
                          "to find its last feature map")
    return structural_layer(model, videos)


def _layer(model: nn.Module, name: str) -> nn.Module:
    """The submodule called ``name``; a ConfigError that lists a few names when there is none."""
    modules = dict(model.named_modules())
    if name not in modules or name == "":
        shown = [module_name for module_name in modules if module_name][-8:]
        raise ConfigError(f"target_layer={name!r}: the model has no such module; its last modules are {shown}")
    return modules[name]


def _cam_class(method: str) -> type:
    if method not in CAM_METHODS:
        raise ConfigError(f"method={method!r}: choose one of {list(CAM_METHODS)}")
    import pytorch_grad_cam

    return getattr(pytorch_grad_cam, CAM_METHODS[method])


def coarse_class_activation_map(
    model: nn.Module,
    videos: torch.Tensor,
    target: Target = None,
    method: str = "grad_cam",
    target_layer: str | None = None,
) -> torch.Tensor:
    """The class activation map at the target layer's resolution, ``ReLU(Σ_k α_k A_k)``.

    Parameters
    ----------
    model : nn.Module
        In eval mode; ``(B, T, C, H, W)`` videos → ``(B, classes)`` logits.
    videos : torch.Tensor
        ``(B, T, C, H, W)`` float videos, or one ``(T, C, H, W)`` video.
    target : int, sequence of int, torch.Tensor or None, default None
        Class to explain, one for all or one per video; None = the predicted class.
    method : {"grad_cam", "grad_cam_plus_plus", "xgrad_cam"}, default "grad_cam"
        How the channel weights ``α_k`` are computed (:data:`CAM_METHODS`).
    target_layer : str or None, default None
        Module whose output ``(B, K, T', H', W')`` is explained; None = the
        model's default (:data:`DEFAULT_TARGET_LAYERS`: C3D ``features.relu5b``,
        I3D ``features.Mixed_5c``).

    Returns
    -------
    torch.Tensor
        ``(B, T', H', W')`` non-negative, in the videos' dtype (``(T', H', W')``
        for one video). Unsigned: plot with a sequential colour map.
    """
    cam_class = _cam_class(method)
    batch, single = as_batch(videos)
    check_eval_mode(model)
    layer_name = target_layer_name(model, target_layer, batch)
    layer = _layer(model, layer_name)
    outputs: list[torch.Tensor] = []
    cam = cam_class(model=model, target_layers=[layer])  # registers the package's activation and gradient hooks
    keep = layer.register_forward_hook(lambda module, inputs, output: outputs.append(output))
    try:
        with torch.enable_grad():
            logits = cam.activations_and_grads(batch.detach().requires_grad_(True))
            if logits.dim() != 2 or logits.shape[0] != batch.shape[0]:
                raise ConfigError(f"model: expected (B, classes) logits for {batch.shape[0]} videos, "
                                  f"got {tuple(logits.shape)}")
            if len(outputs) != 1 or not isinstance(outputs[0], torch.Tensor) or outputs[0].dim() != 5:
                shapes = [tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
                          for output in outputs]
                raise ConfigError(f"target_layer={layer_name!r}: expected one "
                                  f"(B, K, T', H', W') output per forward pass, got {shapes}")
            targets = resolve_targets(target, check_finite(logits.detach(), "model output"))
            score = logits.gather(1, targets[:, None]).sum()
            torch.autograd.grad(score, outputs[0])  # the package's hook records ∂score/∂A on the way
        recorded = cam.activations_and_grads
        activations = recorded.activations[0].numpy()
        gradients = recorded.gradients[0].numpy()
        weighted = cam.get_cam_image(batch, layer, None, activations, gradients)
    finally:
        keep.remove()
        cam.activations_and_grads.release()
    coarse = torch.from_numpy(np.maximum(weighted, 0)).to(device=batch.device, dtype=batch.dtype)
    coarse = check_finite(coarse, f"{method} map")
    return coarse[0] if single else coarse


def upsample_to_video(coarse: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    """A ``(B, T', H', W')`` map brought to ``(B, T, C, H, W)`` by trilinear interpolation, repeated over C.

    Parameters
    ----------
    coarse : torch.Tensor
        ``(B, T', H', W')`` maps (or one ``(T', H', W')`` map).
    shape : sequence of int
        The videos' shape ``(B, T, C, H, W)`` (or one video's ``(T, C, H, W)``).
    """
    shape = tuple(int(side) for side in shape)
    single = coarse.dim() == 3
    maps = coarse[None] if single else coarse
    target = (maps.shape[0], *shape) if single else shape
    if maps.dim() != 4 or len(target) != 5 or target[0] != maps.shape[0]:
        raise ConfigError(f"upsample_to_video: coarse map {tuple(coarse.shape)} does not fit videos of shape {shape}")
    _, frames, channels, height, width = target
    values = torch.nn.functional.interpolate(maps[:, None], size=(frames, height, width), mode="trilinear",
                                             align_corners=False)[:, 0]
    values = values[:, :, None].expand(-1, -1, channels, -1, -1).contiguous()
    return values[0] if single else values


def class_activation_map(
    model: nn.Module,
    videos: torch.Tensor,
    target: Target = None,
    method: str = "grad_cam",
    target_layer: str | None = None,
) -> torch.Tensor:
    """Grad-CAM (or Grad-CAM++, XGradCAM) of videos, with the videos' shape.

    :func:`coarse_class_activation_map` brought to the videos' frames and
    pixels by :func:`upsample_to_video` (trilinear, the same value in every
    channel). Parameters as :func:`coarse_class_activation_map`.

    Returns
    -------
    torch.Tensor
        ``(B, T, C, H, W)`` (``(T, C, H, W)`` for one video), non-negative.

    Examples
    --------
    A 3-D CNN with one feature map ``A`` (the ReLU, module ``"2"``),
    averaged into a linear head; ``Permute`` turns ``(B, T, C, H, W)`` into
    Conv3d's ``(B, C, T, H, W)``. With a stride of 2 the map is coarser than
    the clip, and is brought back to the clip's shape:

    >>> import torch
    >>> from torch import nn
    >>> from torchvision.ops import Permute
    >>> from vidsal_core.saliency.gradcam import class_activation_map, coarse_class_activation_map
    >>> _ = torch.manual_seed(0)
    >>> model = nn.Sequential(Permute([0, 2, 1, 3, 4]), nn.Conv3d(1, 1, 3, stride=2, padding=1), nn.ReLU(),
    ...                       nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(1, 2)).eval()
    >>> with torch.no_grad():
    ...     _ = model[5].weight.copy_(torch.tensor([[2.0], [-1.0]]))  # A argues for class 0, against class 1
    >>> videos = torch.rand(2, 4, 1, 4, 4)
    >>> coarse_class_activation_map(model, videos, target=0, target_layer="2").shape  # (B, T', H', W')
    torch.Size([2, 2, 2, 2])
    >>> cam = class_activation_map(model, videos, target=0, method="grad_cam", target_layer="2")
    >>> cam.shape, bool((cam >= 0).all()), bool(cam.max() > 0)
    (torch.Size([2, 4, 1, 4, 4]), True, True)
    >>> class_activation_map(model, videos, target=1, method="xgrad_cam", target_layer="2").abs().sum().item()
    0.0
    """
    coarse = coarse_class_activation_map(model, videos, target, method, target_layer)
    return upsample_to_video(coarse, videos.shape)


def grad_cam(model: nn.Module, videos: torch.Tensor, target: Target = None, target_layer: str | None = None) -> torch.Tensor:
    """Grad-CAM (Selvaraju et al., 2017): :func:`class_activation_map` with ``method="grad_cam"``.

    Examples
    --------
    A 3-D CNN with one feature map ``A`` (the ReLU, module ``"2"``),
    averaged into a linear head; ``Permute`` turns ``(B, T, C, H, W)`` into
    Conv3d's ``(B, C, T, H, W)``. The gradient at ``A`` is the head's weight
    over its 64 positions, 2 / 64 for class 0, so Grad-CAM is ``A / 32``:

    >>> import torch
    >>> from torch import nn
    >>> from torchvision.ops import Permute
    >>> from vidsal_core.saliency.gradcam import grad_cam
    >>> _ = torch.manual_seed(0)
    >>> model = nn.Sequential(Permute([0, 2, 1, 3, 4]), nn.Conv3d(1, 1, 3, padding=1), nn.ReLU(),
    ...                       nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(1, 2)).eval()
    >>> with torch.no_grad():
    ...     _ = model[5].weight.copy_(torch.tensor([[2.0], [-1.0]]))  # A argues for class 0, against class 1
    >>> videos = torch.rand(2, 4, 1, 4, 4)
    >>> cam = grad_cam(model, videos, target=0, target_layer="2")
    >>> cam.shape
    torch.Size([2, 4, 1, 4, 4])
    >>> feature_map = model[:3](videos)[:, 0]  # A: (B, T, H, W)
    >>> bool(feature_map.max() > 0), torch.allclose(cam[:, :, 0], feature_map / 32)
    (True, True)
    """
    return class_activation_map(model, videos, target, "grad_cam", target_layer)


def grad_cam_plus_plus(model: nn.Module, videos: torch.Tensor, target: Target = None,
                       target_layer: str | None = None) -> torch.Tensor:
    """Grad-CAM++ (Chattopadhay et al., 2018): :func:`class_activation_map` with ``method="grad_cam_plus_plus"``.

    Examples
    --------
    A 3-D CNN with one feature map ``A`` (the ReLU, module ``"2"``),
    averaged into a linear head; ``Permute`` turns ``(B, T, C, H, W)`` into
    Conv3d's ``(B, C, T, H, W)``. With one feature map every CAM is a
    multiple of ``A``: Grad-CAM++ and Grad-CAM differ only by their scale.

    >>> import torch
    >>> from torch import nn
    >>> from torchvision.ops import Permute
    >>> from vidsal_core.saliency.gradcam import grad_cam, grad_cam_plus_plus
    >>> _ = torch.manual_seed(0)
    >>> model = nn.Sequential(Permute([0, 2, 1, 3, 4]), nn.Conv3d(1, 1, 3, padding=1), nn.ReLU(),
    ...                       nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(1, 2)).eval()
    >>> with torch.no_grad():
    ...     _ = model[5].weight.copy_(torch.tensor([[2.0], [-1.0]]))  # A argues for class 0, against class 1
    >>> videos = torch.rand(2, 4, 1, 4, 4)
    >>> plus_plus = grad_cam_plus_plus(model, videos[:1], target=0, target_layer="2")
    >>> plain = grad_cam(model, videos[:1], target=0, target_layer="2")
    >>> plus_plus.shape, torch.allclose(plus_plus / plus_plus.max(), plain / plain.max())
    (torch.Size([1, 4, 1, 4, 4]), True)
    """
    return class_activation_map(model, videos, target, "grad_cam_plus_plus", target_layer)


def xgrad_cam(model: nn.Module, videos: torch.Tensor, target: Target = None, target_layer: str | None = None) -> torch.Tensor:
    """XGradCAM (Fu et al., 2020): :func:`class_activation_map` with ``method="xgrad_cam"``.

    Examples
    --------
    A 3-D CNN with one feature map ``A`` (the ReLU, module ``"2"``),
    averaged into a linear head; ``Permute`` turns ``(B, T, C, H, W)`` into
    Conv3d's ``(B, C, T, H, W)``. The gradient at ``A`` is the same at every
    position, so XGradCAM's weights equal Grad-CAM's:

    >>> import torch
    >>> from torch import nn
    >>> from torchvision.ops import Permute
    >>> from vidsal_core.saliency.gradcam import grad_cam, xgrad_cam
    >>> _ = torch.manual_seed(0)
    >>> model = nn.Sequential(Permute([0, 2, 1, 3, 4]), nn.Conv3d(1, 1, 3, padding=1), nn.ReLU(),
    ...                       nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(1, 2)).eval()
    >>> with torch.no_grad():
    ...     _ = model[5].weight.copy_(torch.tensor([[2.0], [-1.0]]))  # A argues for class 0, against class 1
    >>> videos = torch.rand(2, 4, 1, 4, 4)
    >>> cam = xgrad_cam(model, videos, target=0, target_layer="2")
    >>> cam.shape, torch.allclose(cam, grad_cam(model, videos, target=0, target_layer="2"))
    (torch.Size([2, 4, 1, 4, 4]), True)
    """
    return class_activation_map(model, videos, target, "xgrad_cam", target_layer)


def applies_to(model: Any) -> bool:
    """Whether a model has a default CAM layer (C3D, I3D); recurrent models have no 3-D feature maps."""
    return getattr(model, "model_name", model if isinstance(model, str) else None) in DEFAULT_TARGET_LAYERS
