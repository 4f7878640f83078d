"""SynthKTH: procedural KTH-like videos with exact ground truth.

Each video is rendered from a :class:`VideoSpec` (action, person, scenario,
seed, length, size, title card) by :func:`render_video`. It follows KTH's
design (Schuldt et al., 2004): 160 x 120 grayscale at 25 fps, 25 persons, six
actions, four scenarios (d1 outdoors, d2 outdoors with camera zoom, d3
outdoors with different clothes, d4 indoors).

The person is an articulated 2-D figure of filled body parts posed by
:mod:`vidsal_core.data.kinematics`; the person's build, clothing and motion
style come from :func:`subject_profile` and vary a little from video to video.
Walking, jogging and running cross the frame from either side (and turn round
off-screen to cross again in long videos); boxing is side-on, hand waving and
hand clapping frontal, done in bouts with still frames before and after.

Rendering order, which the ground truth relies on: the part label map is
rasterised first (no antialiasing); the image is the background where the map
is 0 and the part's shade elsewhere, then sensor noise. So the figure is
exactly the set of pixels that differ from a figure-free render of the same
spec (``render_video(spec, figure=False)``); to keep that exact, a figure pixel
is never closer than :data:`MIN_CONTRAST` grey levels to the background
behind it.

Ground truth, per frame ``t``:

- ``parts``: part labels, indices into :data:`PARTS`.
- ``visibility``: share of the whole figure's area inside the frame.
- ``limb_motion``: mean length of the figure pixels' true displacement to
  frame ``t + 1``, relative to the scene (the camera's own motion at that pixel
  is taken out), in pixels; 0 without a figure.
- ``flow`` (on request): true displacement ``(dx, dy)`` of every pixel from
  frame ``t`` to ``t + 1``. Each part moves as one affine map (rigid, but for
  the foreshortening of arms pointing at the camera), so a part pixel ``p``
  moves to ``A[t+1] A[t]^-1 p`` (``A`` maps the part's own frame to the
  image); the background moves with the camera (zoom about the image centre
  plus jitter).
  The last frame's flow is computed against frame ``T``, one more instant of
  the same continuous motion, which is posed but not drawn. Title-card frames,
  and the cut from the title card to the scene, have zero flow.

Everything is a function of the spec: the random generators are seeded from a
hash of :meth:`VideoSpec.key` (and of the person for the person's traits), never
from global state.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np

from vidsal_core.data import kinematics
from vidsal_core.data.dataset import KTH_ACTIONS, KTH_SCENARIOS
from vidsal_core.errors import ConfigError

#: Part labels: ``parts == i`` marks ``PARTS[i]``; 0 is the background. The
#: accessory is the coat or bag of scenario d3.
PARTS: tuple[str, ...] = (
    "background", "head", "torso",
    "left_upper_arm", "left_lower_arm", "right_upper_arm", "right_lower_arm",
    "left_thigh", "left_shank", "left_foot", "right_thigh", "right_shank", "right_foot",
    "accessory",
)
PART_INDEX: dict[str, int] = {name: index for index, name in enumerate(PARTS)}
#: Frames per second (KTH's).
FPS = kinematics.FPS
#: Smallest frame height and width the renderer accepts.
MIN_SIZE = 32
#: Least grey-level difference between a figure pixel and the background behind it.
MIN_CONTRAST = 4.0
#: Text of the title card, the same for every action.
TITLE_TEXT: tuple[str, ...] = ("vidsal", "presents")

_FIXED_POINT_BITS = 4  # cv2.fillPoly's sub-pixel precision: 1/16 pixel
_FIXED_POINT = 1 << _FIXED_POINT_BITS
_FAR_SIDE_SHADE = 0.8  # far-side limbs are this much darker (side views)
_ACROSS_SHADE = 0.08  # shading across a limb, a share of its intensity
_RAMP_FRAMES = 5.0  # in-place actions fade in and out over this many frames


# ----------------------------------------------------------------------------- spec


@dataclass(frozen=True)
class VideoSpec:
    """What to render.

    Parameters
    ----------
    action : str
        One of :data:`~vidsal_core.data.dataset.KTH_ACTIONS`.
    person : int
        KTH person, 1 to 25: fixes build, clothing and motion style.
    scenario : str
        One of :data:`~vidsal_core.data.dataset.KTH_SCENARIOS`.
    n_frames : int
        Frames in the video (default 48, about 2 s).
    seed : int
        Per-video variation (start position, direction, timing, jitter).
    height, width : int
        Frame size (default 120 x 160, KTH's).
    title_frames : int
        Frames of a static title card at the start (default 0); the scene fills
        the remaining frames.
    """

    action: str
    person: int
    scenario: str
    n_frames: int = 48
    seed: int = 0
    height: int = 120
    width: int = 160
    title_frames: int = 0

    def __post_init__(self) -> None:
        if self.action not in KTH_ACTIONS:
            raise ConfigError(f"action={self.action!r}: expected one of {list(KTH_ACTIONS)}")
        _check_person(self.person)
        if self.scenario not in KTH_SCENARIOS:
            raise ConfigError(f"scenario={self.scenario!r}: expected one of {list(KTH_SCENARIOS)}")
        _check_integer("n_frames", self.n_frames, 1)
        _check_integer("seed", self.seed, 0)
        _check_integer("height", self.height, MIN_SIZE)
        _check_integer("width", self.width, MIN_SIZE)
        _check_integer("title_frames", self.title_frames, 0)
        if self.title_frames >= self.n_frames:
            raise ConfigError(f"title_frames={self.title_frames}: must be less than n_frames={self.n_frames}, "
                              "so that the scene has at least one frame")

    def key(self) -> str:
        """Stable, file-name-safe string naming this video (used for hashing and caching)."""
        return (f"{self.action}_p{self.person:02d}_{self.scenario}_s{self.seed}_n{self.n_frames}"
                f"_t{self.title_frames}_{self.height}x{self.width}")

    @property
    def scene_frames(self) -> int:
        """Frames after the title card."""
        return self.n_frames - self.title_frames


def _check_integer(name: str, value: Any, smallest: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigError(f"{name}={value!r}: expected an integer")
    if value < smallest:
        raise ConfigError(f"{name}={value}: must be at least {smallest}")


def _check_person(person: Any) -> None:
    if isinstance(person, bool) or not isinstance(person, (int, np.integer)) or not 1 <= person <= 25:
        raise ConfigError(f"person={person!r}: KTH has persons 1 to 25")


@dataclass
class SynthVideo:
    """A rendered video and its ground truth.

    Attributes
    ----------
    frames : numpy.ndarray
        ``(T, H, W)`` uint8 grayscale.
    parts : numpy.ndarray
        ``(T, H, W)`` uint8 labels into :data:`PARTS` (0 = background).
    visibility : numpy.ndarray
        ``(T,)`` float32, share of the figure's full area inside the frame.
    limb_motion : numpy.ndarray
        ``(T,)`` float32, mean length (pixels) of the figure pixels' true
        displacement to the next frame relative to the scene; 0 without figure.
    flow : numpy.ndarray or None
        ``(T, H, W, 2)`` float32 true displacement ``(dx, dy)`` to the next
        frame, or None unless asked for.
    meta : dict
        Spec fields and everything drawn for this video (see :func:`render_video`).
    """

    frames: np.ndarray
    parts: np.ndarray
    visibility: np.ndarray
    limb_motion: np.ndarray
    flow: np.ndarray | None
    meta: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------ randomness


def _hash_integer(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def _generator(*words: str | int) -> np.random.Generator:
    """A generator seeded by a hash of ``words``: the same words, the same stream."""
    return np.random.default_rng(_hash_integer("synthkth/" + "/".join(str(word) for word in words)))


# ----------------------------------------------------------------------- persons


def _intensity(rng: np.random.Generator, dark_share: float, light_share: float) -> float:
    """A clothing grey level: dark, light, or (rarely) medium."""
    draw = rng.uniform()
    if draw < dark_share:
        return float(rng.uniform(20, 75))
    if draw < dark_share + light_share:
        return float(rng.uniform(165, 225))
    return float(rng.uniform(90, 130))


def _clothing(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "skin": float(rng.uniform(145, 200)),
        "shirt": _intensity(rng, 0.45, 0.45),
        "trousers": _intensity(rng, 0.7, 0.2),
        "shoes": float(rng.uniform(15, 60)),
        "long_sleeves": bool(rng.uniform() < 0.5),
    }


def subject_profile(person: int) -> dict[str, Any]:
    """The fixed traits of a KTH person 1-25.

    Returns
    -------
    dict
        ``person``; ``height_fraction`` (standing height over frame height at
        zoom 1); ``proportions`` (multipliers of :func:`kinematics.body_dimensions`);
        ``clothing`` (grey levels of skin, shirt, trousers, shoes, and whether
        sleeves are long); ``d3_clothing`` (the other clothes of scenario d3,
        with an ``outfit``, ``"coat"`` or ``"bag"``, and its grey level
        ``accessory``); ``motion_traits`` (each in [0, 1], see
        :func:`kinematics.motion_traits`).
    """
    _check_person(person)
    rng = _generator("person", int(person))
    profile = {
        "person": int(person),
        "height_fraction": float(rng.uniform(0.5, 0.64)),
        "proportions": {
            "legs": float(rng.uniform(0.95, 1.05)), "arms": float(rng.uniform(0.95, 1.05)),
            "torso": float(rng.uniform(0.95, 1.05)), "head": float(rng.uniform(0.93, 1.07)),
            "girth": float(rng.uniform(0.85, 1.2)),
        },
        "clothing": _clothing(rng),
    }
    d3 = _clothing(rng)
    d3["skin"] = profile["clothing"]["skin"]
    d3["outfit"] = "coat" if rng.uniform() < 0.5 else "bag"
    d3["accessory"] = _intensity(rng, 0.5, 0.3)
    profile["d3_clothing"] = d3
    profile["motion_traits"] = kinematics.motion_traits(rng)
    return profile


# ----------------------------------------------------------------------- camera


@dataclass(frozen=True)
class _Camera:
    """Zoom ``scale`` about the image centre, then a ``shift``: image = scale (world - c) + c + shift."""

    scale: np.ndarray  # (N,)
    shift: np.ndarray  # (N, 2)
    centre: np.ndarray  # (2,)
    smallest_scale: float
    largest_shift: float

    def matrices(self) -> np.ndarray:
        """``(N, 3, 3)`` world-to-image matrices."""
        n = len(self.scale)
        matrix = np.zeros((n, 3, 3))
        matrix[:, 0, 0] = matrix[:, 1, 1] = self.scale
        matrix[:, :2, 2] = self.centre * (1.0 - self.scale[:, None]) + self.shift
        matrix[:, 2, 2] = 1.0
        return matrix


def _camera(spec: VideoSpec, rng: np.random.Generator, n_samples: int) -> _Camera:
    """Slight smooth jitter everywhere; a slow zoom in and out in scenario d2."""
    time = np.arange(n_samples, dtype=float)
    total = rng.uniform(0.3, 0.8)
    weights = rng.dirichlet(np.ones(3), size=2) * total
    frequencies = rng.uniform(0.01, 0.08, size=(2, 3))
    phases = rng.uniform(0.0, 2 * np.pi, size=(2, 3))
    shift = np.stack([
        np.sum(weights[axis] * np.sin(2 * np.pi * frequencies[axis] * time[:, None] + phases[axis]), axis=1)
        for axis in range(2)
    ], axis=1)
    if spec.scenario == "d2":
        amplitude = rng.uniform(0.12, 0.2)
        period = rng.uniform(80.0, 160.0)
        scale = np.exp(amplitude * np.sin(2 * np.pi * time / period + rng.uniform(0.0, 2 * np.pi)))
    else:
        amplitude = 0.0
        scale = np.ones(n_samples)
    centre = np.array([(spec.width - 1) / 2.0, (spec.height - 1) / 2.0])
    return _Camera(scale=scale, shift=shift, centre=centre,
                   smallest_scale=float(np.exp(-amplitude)), largest_shift=float(total))


# ------------------------------------------------------------------- backgrounds


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cell: float, octaves: int = 3) -> np.ndarray:
    """Value noise in about [-1, 1]: upsampled random grids, halving cell size per octave."""
    total = np.zeros(shape, np.float32)
    weight, norm = 1.0, 0.0
    for octave in range(octaves):
        size = max(cell / 2**octave, 1.0)
        grid = rng.uniform(-1.0, 1.0, (int(shape[0] / size) + 3, int(shape[1] / size) + 3)).astype(np.float32)
        big = cv2.resize(grid, (int(np.ceil(grid.shape[1] * size)), int(np.ceil(grid.shape[0] * size))),
                         interpolation=cv2.INTER_CUBIC)
        total += weight * big[:shape[0], :shape[1]]
        norm += weight
        weight *= 0.5
    return total / norm


def _outdoor_texture(rng, shape, margin, spec, ground_y) -> np.ndarray:
    """Overcast sky, a band of trees and bushes on the horizon, a grass field."""
    rows = np.arange(shape[0], dtype=np.float32)[:, None] - margin
    columns = np.arange(shape[1])
    horizon = rng.uniform(0.2, 0.4) * spec.height
    sky = rng.uniform(185, 225) + 10 * _smooth_noise(rng, shape, 40)
    tree_tops = horizon - spec.height * rng.uniform(0.04, 0.12) * (1.2 + _smooth_noise(rng, (1, shape[1]), 16, 2)[0])
    trees = rng.uniform(55, 100) + 22 * _smooth_noise(rng, shape, 5)
    field_level = rng.uniform(105, 150)
    depth = np.clip((rows - horizon) / max(ground_y - horizon, 1.0), 0.0, 1.5)
    grass = (field_level + 8 * depth + 12 * _smooth_noise(rng, shape, 28)
             + (3 + 6 * depth) * _smooth_noise(rng, shape, 3, octaves=2))
    texture = np.where(rows < tree_tops[None, columns], sky, np.where(rows < horizon, trees, grass))
    return texture.astype(np.float32)


def _indoor_texture(rng, shape, margin, spec, ground_y) -> np.ndarray:
    """A panelled wall, a skirting board, a floor; lit from one side."""
    rows = np.arange(shape[0], dtype=np.float32)[:, None] - margin
    columns = np.arange(shape[1], dtype=np.float32)[None, :] - margin
    wall = rng.uniform(150, 195) + 7 * _smooth_noise(rng, shape, 50)
    panel = rng.uniform(16, 34)
    seams = np.mod(columns - rng.uniform(0, panel), panel) < rng.uniform(1.0, 2.0)
    wall = wall - rng.uniform(10, 20) * seams
    floor_line = ground_y - rng.uniform(6, 16)
    floor = rng.uniform(80, 125) + 10 * _smooth_noise(rng, shape, 10) + 4 * _smooth_noise(rng, shape, 2, 1)
    texture = np.where(rows < floor_line - 2, wall, np.where(rows < floor_line, rng.uniform(40, 70), floor))
    light_x = rng.uniform(-0.2, 1.2) * spec.width
    fall_off = rng.uniform(0.15, 0.35)
    light = 1.0 - fall_off * ((columns - light_x) / spec.width) ** 2 - 0.1 * (rows / spec.height)
    return (texture * np.clip(light, 0.55, 1.0)).astype(np.float32)


def _background(spec: VideoSpec, rng: np.random.Generator, camera: _Camera, ground_y: float):
    """World texture covering every view of the camera, and its world offset (margin)."""
    half = np.array([spec.width, spec.height]) / 2.0
    margin = int(np.ceil(np.max((half + camera.largest_shift) / camera.smallest_scale - half))) + 4
    shape = (spec.height + 2 * margin, spec.width + 2 * margin)
    maker = _indoor_texture if spec.scenario == "d4" else _outdoor_texture
    texture = maker(rng, shape, margin, spec, ground_y)
    return np.clip(texture, 12.0, 235.0).astype(np.float32), margin


def _background_frame(texture: np.ndarray, margin: int, world_to_image: np.ndarray, spec: VideoSpec) -> np.ndarray:
    texture_to_world = np.array([[1.0, 0.0, -margin], [0.0, 1.0, -margin], [0.0, 0.0, 1.0]])
    matrix = (world_to_image @ texture_to_world)[:2]
    return cv2.warpAffine(texture, matrix, (spec.width, spec.height), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT_101)


def title_card(height: int = 120, width: int = 160) -> np.ndarray:
    """The static title card: ``TITLE_TEXT`` in light grey on a dark plain background, uint8."""
    card = np.full((height, width), 16, np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    scales = (1.0, 0.5)
    base_width = cv2.getTextSize(TITLE_TEXT[0], font, 1.0, 2)[0][0]
    fit = 0.6 * width / base_width
    lines = [(text, scale * fit, max(1, round(2 * fit * scale))) for text, scale in zip(TITLE_TEXT, scales)]
    sizes = [cv2.getTextSize(text, font, scale, thickness)[0] for text, scale, thickness in lines]
    gap = int(0.08 * height)
    y = (height - sum(size[1] for size in sizes) - gap) // 2
    for (text, scale, thickness), (text_width, text_height) in zip(lines, sizes):
        y += text_height
        cv2.putText(card, text, ((width - text_width) // 2, y), font, scale, 230, thickness, cv2.LINE_AA)
        y += gap
    return card


# ----------------------------------------------------------------- part shapes


def _capsule(length: float, near_width: float, far_width: float, points: int = 6) -> np.ndarray:
    """Tapered capsule along +v from 0 to ``length`` (round ends centred on the joints), ``(P, 2)`` (u, v)."""
    near, far = near_width / 2.0, far_width / 2.0
    near_arc = np.linspace(np.pi, 2 * np.pi, points)
    far_arc = np.linspace(0.0, np.pi, points)
    near_points = np.stack([near * np.cos(near_arc), near * np.sin(near_arc)], axis=1)
    far_points = np.stack([far * np.cos(far_arc), length + far * np.sin(far_arc)], axis=1)
    return np.concatenate([near_points, far_points])[::-1]


def _ellipse(centre_u: float, centre_v: float, radius_u: float, radius_v: float, points: int = 16) -> np.ndarray:
    angle = np.linspace(0.0, 2 * np.pi, points, endpoint=False)
    return np.stack([centre_u + radius_u * np.cos(angle), centre_v + radius_v * np.sin(angle)], axis=1)


def _box(u0: float, u1: float, v0: float, v1: float) -> np.ndarray:
    return np.array([[u0, v0], [u1, v0], [u1, v1], [u0, v1]])


def _limb_shapes(body: kinematics.Body) -> dict[str, list[np.ndarray]]:
    shapes = {}
    for side in ("left", "right"):
        shapes[f"{side}_upper_arm"] = [_capsule(body.upper_arm, body.upper_arm_width, body.elbow_width)]
        shapes[f"{side}_lower_arm"] = [_capsule(body.lower_arm - body.hand_width / 2, body.elbow_width,
                                                body.hand_width)]
        shapes[f"{side}_thigh"] = [_capsule(body.thigh, body.thigh_width, body.knee_width)]
        shapes[f"{side}_shank"] = [_capsule(body.shank, body.knee_width, body.ankle_width)]
    return shapes


def _side_shapes(body: kinematics.Body, outfit: str) -> dict[str, list[np.ndarray]]:
    """Part polygons in each part's own frame (u across, v along), seen from the side.

    In the torso's and head's frame +v is up and +u is backward.
    """
    height, ankle = body.height, body.ankle_height
    shapes = _limb_shapes(body)
    head_v = body.neck + body.head_radius
    shapes["head"] = [
        _ellipse(0.1 * body.head_depth, head_v, body.head_depth, body.head_radius),
        np.array([[-0.9 * body.head_depth, head_v - 0.1 * body.head_radius],
                  [-1.25 * body.head_depth, head_v - 0.35 * body.head_radius],
                  [-0.8 * body.head_depth, head_v - 0.55 * body.head_radius]]),
        _box(-0.025 * height, 0.03 * height, -0.02 * height, head_v),
    ]
    shapes["torso"] = [np.array([
        [-0.5 * body.pelvis_depth, -0.04 * height], [0.5 * body.pelvis_depth, -0.04 * height],
        [0.55 * body.chest_depth, 0.55 * body.torso], [0.5 * body.chest_depth, body.torso + 0.01 * height],
        [-0.45 * body.chest_depth, body.torso + 0.01 * height], [-0.6 * body.chest_depth, 0.7 * body.torso],
    ])]
    for side in ("left", "right"):
        shapes[f"{side}_foot"] = [np.array([
            [-ankle, -body.heel], [-ankle, body.toe], [-0.35 * ankle, 0.95 * body.toe],
            [0.55 * ankle, 0.3 * body.toe], [0.75 * ankle, -0.2 * body.heel], [0.2 * ankle, -body.heel],
        ])]
    if outfit == "coat":
        shapes["accessory"] = [np.array([
            [-0.55 * body.chest_depth, body.torso], [0.5 * body.chest_depth, body.torso],
            [0.8 * body.chest_depth, -0.55 * body.thigh], [-0.75 * body.chest_depth, -0.55 * body.thigh],
        ])]
    elif outfit == "bag":
        shapes["accessory"] = [_box(0.4 * body.chest_depth, 0.4 * body.chest_depth + 0.1 * height,
                                    0.35 * body.torso, 0.95 * body.torso)]
    return shapes


def _front_shapes(body: kinematics.Body, outfit: str) -> dict[str, list[np.ndarray]]:
    """Part polygons seen from the front; in the torso's and head's frame +v is up."""
    height = body.height
    shapes = _limb_shapes(body)
    hips = 0.5 * (body.hip_width + body.thigh_width) + 0.01 * height
    chest, waist, torso = body.chest_width / 2, body.waist_width / 2, body.torso
    shapes["torso"] = [np.array([
        [-hips, -0.04 * height], [hips, -0.04 * height], [waist, 0.45 * torso], [chest, 0.85 * torso],
        [0.8 * chest, torso], [-0.8 * chest, torso], [-chest, 0.85 * torso], [-waist, 0.45 * torso],
    ])]
    head_v = body.neck + body.head_radius
    shapes["head"] = [_ellipse(0.0, head_v, 0.8 * body.head_radius, body.head_radius),
                      _box(-0.025 * height, 0.025 * height, -0.02 * height, head_v)]
    for side in ("left", "right"):
        width = body.ankle_width
        shapes[f"{side}_foot"] = [np.array([
            [-0.6 * width, -0.2 * body.ankle_height], [0.6 * width, -0.2 * body.ankle_height],
            [0.85 * width, body.ankle_height], [-0.85 * width, body.ankle_height],
        ])]
    if outfit == "coat":
        shapes["accessory"] = [np.array([
            [-0.95 * chest, torso], [0.95 * chest, torso],
            [1.25 * hips, -0.55 * body.thigh], [-1.25 * hips, -0.55 * body.thigh],
        ])]
    elif outfit == "bag":
        shapes["accessory"] = [_box(chest + 0.005 * height, chest + 0.1 * height, -0.08 * height, 0.08 * height)]
    return shapes


def _drawing_order(view: str, direction: int, outfit: str) -> list[str]:
    """Parts back to front. Side view: the far side first; the near side is the left when facing +x."""
    accessory = ["accessory"] if outfit != "plain" else []
    if view == "front":
        legs = [f"{side}_{part}" for side in ("left", "right") for part in ("thigh", "shank", "foot")]
        arms = [f"{side}_{part}" for side in ("left", "right") for part in ("upper_arm", "lower_arm")]
        return legs + ["torso"] + accessory + ["head"] + arms
    near, far = ("left", "right") if direction > 0 else ("right", "left")
    return ([f"{far}_upper_arm", f"{far}_lower_arm", f"{far}_thigh", f"{far}_shank", f"{far}_foot",
             f"{near}_thigh", f"{near}_shank", f"{near}_foot", "torso"] + accessory
            + ["head", f"{near}_upper_arm", f"{near}_lower_arm"])


# -------------------------------------------------------------------- timelines


@dataclass
class _Timeline:
    """Where the person is and what phase the action is in, at every scene instant."""

    x: np.ndarray  # (N,) pelvis, world pixels
    direction: np.ndarray  # (N,) +1 facing +x, -1 facing -x
    phase: np.ndarray  # (N,) strides or action cycles
    envelope: np.ndarray  # (N,) 1 = acting, 0 = standing still
    events: dict[str, Any]


def _locomotion_timeline(spec, rng, camera: _Camera, n_samples: int, speed: float, reach: float,
                         strides_per_frame: float) -> _Timeline:
    """Cross the view from a random side at a random time; turn round off-screen and cross again.

    The crossing runs between two points where the figure (half-width ``reach``)
    is out of view for every zoom and shift of the camera. The time the
    person passes the image centre is drawn so that the pelvis is in view (at
    zoom 1) for at least half the frames it takes to cross the image, or half
    the video if that is shorter, and within 30 frames of the start in long
    videos.
    """
    centre = camera.centre[0]
    edge = (centre + camera.largest_shift + 1.0) / camera.smallest_scale + reach
    left, right = centre - edge, centre + edge
    duration = (right - left) / speed
    scene = spec.scene_frames
    half_crossing = (centre + 0.5) / speed
    least_visible = min(2.0 * half_crossing, scene) / 2.0
    middle = rng.uniform(least_visible - half_crossing, min(scene - least_visible, 30.0) + half_crossing)
    start = middle - duration / 2.0
    direction = int(rng.choice([-1, 1]))
    crossings = []
    while start < n_samples:
        gap = rng.uniform(4.0, 30.0)
        crossings.append({"start": start, "direction": direction, "gap": gap})
        start += duration + gap
        direction = -direction
    time = np.arange(n_samples, dtype=float)
    x = np.full(n_samples, left if crossings[0]["direction"] > 0 else right)
    facing = np.full(n_samples, crossings[0]["direction"])
    for crossing in crossings:
        now = time >= crossing["start"]
        travelled = np.clip(time - crossing["start"], 0.0, duration) * speed
        origin = left if crossing["direction"] > 0 else right
        x = np.where(now, origin + crossing["direction"] * travelled, x)
        facing = np.where(now, crossing["direction"], facing)
    phase = rng.uniform() + strides_per_frame * time
    events = {
        "crossings": [{"start_frame": float(c["start"] + spec.title_frames), "direction": c["direction"]}
                      for c in crossings],
        "crossing_frames": float(duration),
    }
    return _Timeline(x=x, direction=facing, phase=phase, envelope=np.ones(n_samples), events=events)


def _in_place_timeline(spec, rng, n_samples: int, period: float, side_view: bool) -> _Timeline:
    """Stand still, act for a bout, rest, act again...; the first bout starts at a random frame."""
    bouts = []
    start = float(rng.integers(0, 16))
    while start < n_samples:
        length = float(rng.integers(25, 61))
        bouts.append((start, start + length))
        start += length + float(rng.integers(6, 21))
    time = np.arange(n_samples, dtype=float)
    envelope = np.zeros(n_samples)
    for begin, end in bouts:
        rise = kinematics.smoothstep((time - begin) / _RAMP_FRAMES)
        fall = kinematics.smoothstep((end - time) / _RAMP_FRAMES)
        envelope = np.maximum(envelope, np.minimum(rise, fall))
    steps = 0.5 * (envelope[1:] + envelope[:-1]) / period
    phase = rng.uniform() + np.concatenate([[0.0], np.cumsum(steps)])
    direction = int(rng.choice([-1, 1])) if side_view else 1
    x = np.full(n_samples, rng.uniform(0.35, 0.65) * spec.width)
    events = {"bouts": [[begin + spec.title_frames, end + spec.title_frames] for begin, end in bouts]}
    return _Timeline(x=x, direction=np.full(n_samples, direction), phase=phase, envelope=envelope, events=events)


# ----------------------------------------------------------------- transforms


def _part_matrices(pose: kinematics.Pose, body: kinematics.Body, timeline: _Timeline, ground_y: float,
                   camera: _Camera) -> np.ndarray:
    """``(N, K, 3, 3)`` maps from each part's own frame (u, v) to the image; K = len(PARTS).

    Rigid (a rotation, a mirror for facing -x, the camera's zoom) except that a
    foreshortened arm is scaled along its axis; either way an affine map.

    Body frame to world: x_world = x + direction * x_body, y_world = ground_y - y_body.
    The accessory moves with the torso; the background slot holds the camera.
    """
    segments = kinematics.segments(pose, body)
    segments["accessory"] = segments["torso"]
    n = len(pose)
    world_to_image = camera.matrices()
    direction = timeline.direction.astype(float)
    matrices = np.zeros((n, len(PARTS), 3, 3))
    matrices[:, 0] = world_to_image
    for name, (origin, angle, length_scale) in segments.items():
        cosine, sine = np.cos(angle), np.sin(angle)
        local_to_world = np.zeros((n, 3, 3))
        local_to_world[:, 0, 0] = direction * cosine
        local_to_world[:, 0, 1] = direction * sine * length_scale
        local_to_world[:, 1, 0] = -sine
        local_to_world[:, 1, 1] = cosine * length_scale
        local_to_world[:, 0, 2] = timeline.x + direction * origin[:, 0]
        local_to_world[:, 1, 2] = ground_y - origin[:, 1]
        local_to_world[:, 2, 2] = 1.0
        matrices[:, PART_INDEX[name]] = world_to_image @ local_to_world
    return matrices


def _fixed_point_vertices(matrices: np.ndarray, shapes: dict[str, list[np.ndarray]]):
    """Image vertices of every part polygon at every instant, in cv2's fixed point (1/16 px)."""
    vertices = {}
    for name, polygons in shapes.items():
        linear, offset = matrices[:, PART_INDEX[name], :2, :2], matrices[:, PART_INDEX[name], :2, 2]
        vertices[name] = [np.rint((np.einsum("nij,pj->npi", linear, polygon) + offset[:, None, :])
                                  * _FIXED_POINT).astype(np.int32) for polygon in polygons]
    return vertices


# ------------------------------------------------------------------ rasterising


def _rasterise(vertices, order: list[str], instant: int, spec: VideoSpec, parts_out: np.ndarray) -> int:
    """Draw one instant's part map into ``parts_out`` (H, W); return the figure's full area in pixels.

    The figure is drawn on a canvas around its own bounding box, so its area
    is known even where it leaves the frame.
    """
    corners = np.concatenate([polygon[instant] for name in order for polygon in vertices[name]])
    low = np.floor(corners.min(axis=0) / _FIXED_POINT).astype(int) - 2
    high = np.ceil(corners.max(axis=0) / _FIXED_POINT).astype(int) + 2
    if high[0] < 0 or high[1] < 0 or low[0] >= spec.width or low[1] >= spec.height:
        return 0
    canvas = np.zeros((high[1] - low[1] + 1, high[0] - low[0] + 1), np.uint8)
    shift = low * _FIXED_POINT
    for name in order:
        for polygon in vertices[name]:
            cv2.fillPoly(canvas, [polygon[instant] - shift], PART_INDEX[name], cv2.LINE_8, _FIXED_POINT_BITS)
    area = cv2.countNonZero(canvas)
    x0, y0 = max(low[0], 0), max(low[1], 0)
    x1, y1 = min(high[0] + 1, spec.width), min(high[1] + 1, spec.height)
    parts_out[y0:y1, x0:x1] = canvas[y0 - low[1]:y1 - low[1], x0 - low[0]:x1 - low[0]]
    return area


# ------------------------------------------------------------------ intensities


def _part_intensities(clothing: dict[str, Any], outfit: str, view: str, gain: float, hands: bool = False) -> np.ndarray:
    """``(2, K)`` grey level of every part, for facing +x (row 0) and -x (row 1).

    With ``hands=True``, the lower arms get the skin's grey (for the hand at their end).
    """
    base = np.zeros(len(PARTS))
    lower_arm = clothing["shirt"] if clothing["long_sleeves"] else clothing["skin"]
    for side in ("left", "right"):
        base[PART_INDEX[f"{side}_upper_arm"]] = clothing["shirt"]
        base[PART_INDEX[f"{side}_lower_arm"]] = clothing["skin"] if hands else lower_arm
        base[PART_INDEX[f"{side}_thigh"]] = clothing["trousers"]
        base[PART_INDEX[f"{side}_shank"]] = clothing["trousers"]
        base[PART_INDEX[f"{side}_foot"]] = clothing["shoes"]
    base[PART_INDEX["head"]] = clothing["skin"]
    base[PART_INDEX["torso"]] = clothing["shirt"]
    base[PART_INDEX["accessory"]] = clothing.get("accessory", 0.0) if outfit != "plain" else 0.0
    table = np.stack([base, base]) * gain
    if view == "side":
        for row, far in ((0, "right"), (1, "left")):
            for name in PARTS:
                if name.startswith(far + "_"):
                    table[row, PART_INDEX[name]] *= _FAR_SIDE_SHADE
    return np.clip(table, 10.0, 245.0)


def _half_widths(body: kinematics.Body) -> np.ndarray:
    """Half-width of every part across its own axis, for shading."""
    widths = np.full(len(PARTS), body.chest_depth / 2)
    for side in ("left", "right"):
        widths[PART_INDEX[f"{side}_upper_arm"]] = body.upper_arm_width / 2
        widths[PART_INDEX[f"{side}_lower_arm"]] = body.elbow_width / 2
        widths[PART_INDEX[f"{side}_thigh"]] = body.thigh_width / 2
        widths[PART_INDEX[f"{side}_shank"]] = body.knee_width / 2
        widths[PART_INDEX[f"{side}_foot"]] = body.ankle_height
    widths[PART_INDEX["head"]] = body.head_depth
    widths[PART_INDEX["torso"]] = body.chest_width / 2
    widths[PART_INDEX["accessory"]] = body.chest_width / 2
    return widths


def _apply_matrices(matrices: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apply per-point ``(M, 3, 3)`` (or ``(3, 3)``) affine maps to points (x, y)."""
    return (matrices[..., 0, 0] * x + matrices[..., 0, 1] * y + matrices[..., 0, 2],
            matrices[..., 1, 0] * x + matrices[..., 1, 1] * y + matrices[..., 1, 2])


# ------------------------------------------------------------------- assembling


@dataclass
class _Scene:
    """Everything drawn for one video before the frames are made."""

    spec: VideoSpec
    view: str
    outfit: str
    body: kinematics.Body
    params: Any
    timeline: _Timeline
    camera: _Camera
    matrices: np.ndarray  # (N, K, 3, 3) part frame -> image; slot 0: world -> image
    inverses: np.ndarray
    vertices: dict
    orders: dict[int, list[str]]
    intensities: np.ndarray  # (2, K)
    hand_intensities: np.ndarray  # (2, K): as intensities, but skin on the lower arms
    half_widths: np.ndarray  # (K,)
    texture: np.ndarray
    margin: int
    noise_sigma: float
    ground_y: float
    gain: float


def _build_scene(spec: VideoSpec) -> _Scene:
    profile = subject_profile(spec.person)
    motion_rng = _generator("motion", spec.key())
    scene_rng = _generator("scene", spec.key())
    camera_rng = _generator("camera", spec.key())
    n_samples = spec.scene_frames + 1
    camera = _camera(spec, camera_rng, n_samples)
    figure_height = profile["height_fraction"] * spec.height * scene_rng.uniform(0.95, 1.05)
    body = kinematics.body_dimensions(figure_height, profile["proportions"])
    ground_range = (0.8, 0.88) if spec.scenario == "d2" else (0.86, 0.93)
    ground_y = scene_rng.uniform(*ground_range) * spec.height
    params = kinematics.action_parameters(spec.action, profile["motion_traits"], motion_rng)
    view = "front" if spec.action in ("handwaving", "handclapping") else "side"
    if spec.action in kinematics.GAIT_ACTIONS:
        stride = params.stride_ratio * body.hip_height
        timeline = _locomotion_timeline(spec, motion_rng, camera, n_samples, stride * params.strides_per_frame,
                                        0.62 * figure_height, params.strides_per_frame)
    else:
        timeline = _in_place_timeline(spec, motion_rng, n_samples, params.period, view == "side")
    pose = kinematics.pose(spec.action, timeline.phase, params, body, timeline.envelope)
    clothing = profile["d3_clothing"] if spec.scenario == "d3" else profile["clothing"]
    outfit = clothing.get("outfit", "plain")
    shapes = (_side_shapes if view == "side" else _front_shapes)(body, outfit)
    matrices = _part_matrices(pose, body, timeline, ground_y, camera)
    texture, margin = _background(spec, scene_rng, camera, ground_y)
    indoor = spec.scenario == "d4"
    gain = float(scene_rng.uniform(0.78, 0.92)) if indoor else 1.0
    noise_sigma = float(scene_rng.uniform(2.5, 4.0) if indoor else scene_rng.uniform(1.5, 3.0))
    return _Scene(
        spec=spec, view=view, outfit=outfit, body=body, params=params, timeline=timeline, camera=camera,
        matrices=matrices, inverses=np.linalg.inv(matrices), vertices=_fixed_point_vertices(matrices, shapes),
        orders={direction: _drawing_order(view, direction, outfit) for direction in (-1, 1)},
        intensities=_part_intensities(clothing, outfit, view, gain),
        hand_intensities=_part_intensities(clothing, outfit, view, gain, hands=True), half_widths=_half_widths(body),
        texture=texture, margin=margin, noise_sigma=noise_sigma, ground_y=float(ground_y), gain=gain,
    )


def _figure_pixels(scene: _Scene, instant: int, part_map: np.ndarray):
    """Figure pixels of one instant: coordinates, shaded grey levels, positions at the next instant."""
    ys, xs = np.nonzero(part_map)
    labels = part_map[ys, xs]
    x, y = xs.astype(float), ys.astype(float)
    u, v = _apply_matrices(scene.inverses[instant][labels], x, y)
    row = 0 if scene.timeline.direction[instant] > 0 else 1
    across = np.clip(u / scene.half_widths[labels], -1.0, 1.0)
    on_hand = v > scene.body.lower_arm - scene.body.hand_width
    grey = np.where(on_hand, scene.hand_intensities[row][labels], scene.intensities[row][labels])
    grey = grey * (1.0 + _ACROSS_SHADE * across)
    next_x, next_y = _apply_matrices(scene.matrices[instant + 1][labels], u, v)
    return ys, xs, grey, next_x, next_y


def _keep_contrast(grey: np.ndarray, behind: np.ndarray) -> np.ndarray:
    """Figure grey levels, moved to ``MIN_CONTRAST`` from the background where closer (toward mid-grey)."""
    too_close = np.abs(grey - behind) < MIN_CONTRAST
    return np.where(too_close, behind + np.where(behind > 127.5, -1.0, 1.0) * MIN_CONTRAST, grey)


def _camera_motion(scene: _Scene, instant: int) -> np.ndarray:
    """``(3, 3)`` image-to-image map of the background from ``instant`` to the next."""
    return scene.matrices[instant + 1, 0] @ scene.inverses[instant, 0]


def render_video(spec: VideoSpec, with_flow: bool = False, *, figure: bool = True, noise: bool = True) -> SynthVideo:
    """Render one SynthKTH video and its ground truth.

    Parameters
    ----------
    spec : VideoSpec
        What to render.
    with_flow : bool
        Also return the true motion field (default False: it costs about as
        much again as the rest).
    figure : bool
        Draw the person (default True). ``figure=False`` renders the same
        background, camera and noise without the person: every pixel that
        differs between the two is a figure pixel, and only those.
    noise : bool
        Add sensor noise (default True).

    Returns
    -------
    SynthVideo
        ``meta`` holds the spec's fields, ``key``, ``label`` (index into
        KTH_ACTIONS), ``view``, ``outfit``, ``parameters`` (the action's
        parameters), ``figure_height_px``, ``hip_height_px``, ``ground_y``,
        ``direction`` (facing at the first scene frame, +1 = toward +x),
        gait numbers (``cadence_steps_per_minute``, ``stride_ratio``,
        ``duty_factor``, ``speed_px_per_frame``, ``crossings``,
        ``crossing_frames``) or in-place numbers (``period_frames``, ``bouts``,
        ``first_acting_frame``), ``entry_frames`` (first frame of each
        appearance in view), ``informative`` (per frame: person in view for
        gaits, acting for in-place actions), ``figure_area`` (per frame, whole
        figure in pixels, 0 when out of view), ``camera_scale`` and
        ``camera_shift`` (per frame plus the extra instant T), ``noise_sigma``,
        ``lighting_gain``, ``intensities`` (grey level per part, facing +x).
    """
    if not isinstance(spec, VideoSpec):
        raise ConfigError(f"spec={spec!r}: expected a VideoSpec")
    scene = _build_scene(spec)
    noise_rng = _generator("noise", spec.key())
    shape = (spec.n_frames, spec.height, spec.width)
    frames = np.empty(shape, np.uint8)
    parts = np.zeros(shape, np.uint8)
    visibility = np.zeros(spec.n_frames, np.float32)
    limb_motion = np.zeros(spec.n_frames, np.float32)
    figure_area = np.zeros(spec.n_frames, np.int64)
    flow = np.zeros(shape + (2,), np.float32) if with_flow else None
    frames[:spec.title_frames] = title_card(spec.height, spec.width)
    grid_y, grid_x = np.mgrid[0:spec.height, 0:spec.width].astype(float)
    world_to_image = scene.camera.matrices()
    for instant in range(spec.scene_frames):
        index = spec.title_frames + instant
        image = _background_frame(scene.texture, scene.margin, world_to_image[instant], spec)
        camera_step = _camera_motion(scene, instant)
        if flow is not None:
            next_x, next_y = _apply_matrices(camera_step, grid_x, grid_y)
            flow[index, ..., 0], flow[index, ..., 1] = next_x - grid_x, next_y - grid_y
        if figure:
            order = scene.orders[int(scene.timeline.direction[instant])]
            figure_area[index] = _rasterise(scene.vertices, order, instant, spec, parts[index])
            if figure_area[index]:
                ys, xs, grey, next_x, next_y = _figure_pixels(scene, instant, parts[index])
                visibility[index] = len(ys) / figure_area[index]
                image[ys, xs] = _keep_contrast(grey, image[ys, xs])
                camera_x, camera_y = _apply_matrices(camera_step, xs.astype(float), ys.astype(float))
                if len(ys):
                    limb_motion[index] = np.mean(np.hypot(next_x - camera_x, next_y - camera_y))
                if flow is not None:
                    flow[index, ys, xs, 0], flow[index, ys, xs, 1] = next_x - xs, next_y - ys
        sensor = noise_rng.standard_normal(image.shape, dtype=np.float32) * scene.noise_sigma
        if noise:
            image += sensor
        frames[index] = np.clip(image + 0.5, 0.0, 255.0).astype(np.uint8)
    meta = _meta(scene, visibility, figure_area, figure, noise)
    return SynthVideo(frames=frames, parts=parts, visibility=visibility, limb_motion=limb_motion, flow=flow,
                      meta=meta)


# ------------------------------------------------------------------------- meta


def _entry_frames(visibility: np.ndarray) -> list[int]:
    """Frames where the person comes into view (after a frame without, or at frame 0)."""
    seen = visibility > 0
    return [int(i) for i in np.flatnonzero(seen & ~np.concatenate([[False], seen[:-1]]))]


def _meta(scene: _Scene, visibility, figure_area, figure: bool, noise: bool) -> dict[str, Any]:
    spec, timeline, params = scene.spec, scene.timeline, scene.params
    title = spec.title_frames
    meta: dict[str, Any] = asdict(spec)
    meta.update({
        "key": spec.key(), "label": KTH_ACTIONS.index(spec.action), "view": scene.view, "outfit": scene.outfit,
        "parameters": asdict(params), "figure_height_px": scene.body.height,
        "hip_height_px": scene.body.hip_height, "ground_y": scene.ground_y,
        "direction": int(timeline.direction[0]), "noise_sigma": scene.noise_sigma,
        "lighting_gain": scene.gain, "figure_drawn": figure, "sensor_noise": noise,
        "intensities": {name: float(scene.intensities[0, i]) for i, name in enumerate(PARTS) if i},
    })
    meta.update(timeline.events)
    informative = np.zeros(spec.n_frames, bool)
    if isinstance(params, kinematics.GaitParameters):
        stride = params.stride_ratio * scene.body.hip_height
        meta.update({
            "cadence_steps_per_minute": params.cadence, "stride_ratio": params.stride_ratio,
            "duty_factor": params.duty_factor, "stride_px": stride,
            "speed_px_per_frame": stride * params.strides_per_frame,
        })
        informative[title:] = figure_area[title:] > 0 if figure else False
    else:
        meta["period_frames"] = params.period
        acting = timeline.envelope[:-1] > 0
        informative[title:] = acting if figure else False
        meta["first_acting_frame"] = int(title + np.argmax(acting)) if acting.any() else -1
    meta["entry_frames"] = _entry_frames(visibility)
    meta["informative"] = informative
    meta["figure_area"] = figure_area.astype(np.int32)
    scale = np.ones(spec.n_frames + 1)
    shift = np.zeros((spec.n_frames + 1, 2))
    scale[title:], shift[title:] = scene.camera.scale, scene.camera.shift
    meta["camera_scale"], meta["camera_shift"] = scale, shift
    return meta
