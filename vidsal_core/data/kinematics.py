"""Kinematics of the SynthKTH figure: joint angles as functions of phase.

The figure is a 2-D puppet. Its pose is a handful of joint angles per frame,
computed here from an action's phase; :mod:`vidsal_core.data.synthkth` turns
poses into filled body parts, images and ground truth.

Conventions
-----------
Angles are in radians inside a :class:`Pose`, in degrees in the parameter
dataclasses (they are read by people). Lengths are in the unit of the
:class:`Body` (the renderer uses pixels). The body frame has its x axis forward
(side views) or toward the person's left (front views), its y axis up and the
ground at ``y = 0``. A segment's angle ``g`` is measured from the downward
vertical, positive forward (side) or toward the person's left (front), so the
segment points along ``(sin g, -cos g)``.

Locomotion (walking, jogging, running) is side-on. The gait phase counts
strides: the left foot touches down at phase 0, the right one at 0.5. Stance
feet roll over heel, sole and toe and never slide: the hip advances exactly one
stride per unit of phase, and the stance foot's contact point stays where it
landed. The legs follow by inverse kinematics in stance and by monotone cubic
interpolation of joint angles through key poses in swing (peak knee flexion,
peak hip flexion), so the peaks equal the parameters; where the swing foot
would scrape the ground, the knee bends more and the ankle flexes until it
clears. The pelvis height follows the gait: highest at mid-stance when
walking, highest in the flight phase when running, and as high as the legs
can reach.

Gait numbers follow the biomechanics literature (walking cadence 100-130
steps/min, duty factor about 0.6, knee flexion peak in swing about 60 degrees,
elbow nearly straight, shoulder swing about 25 degrees; running cadence
150-180 steps/min, duty factor below 0.4 with a flight phase, knee flexion
peak about 90 degrees, hip flexion peak about 55 degrees, elbow bent about 90
degrees, trunk lean 4-11 degrees; stride over hip height at most 2 walking,
above 2.9 running). Jogging sits between, and its ranges overlap both
neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
from scipy.interpolate import PchipInterpolator

from vidsal_core.errors import ConfigError

#: Frames per second of every SynthKTH video (KTH's rate).
FPS = 25
#: Actions where the person crosses the frame, seen from the side.
GAIT_ACTIONS: tuple[str, ...] = ("walking", "jogging", "running")
#: Actions done in place.
IN_PLACE_ACTIONS: tuple[str, ...] = ("boxing", "handwaving", "handclapping")

#: Standing-height fractions of a typical adult (after Drillis and Contini's
#: segment table), the starting point of every :class:`Body`.
BODY_FRACTIONS: dict[str, float] = {
    "head_radius": 0.066, "head_depth": 0.056, "neck": 0.052, "torso": 0.288,
    "shoulder_width": 0.200, "chest_width": 0.250, "waist_width": 0.180,
    "hip_width": 0.095, "chest_depth": 0.135, "pelvis_depth": 0.125,
    "upper_arm": 0.186, "lower_arm": 0.190, "thigh": 0.245, "shank": 0.246,
    "ankle_height": 0.039, "heel": 0.035, "toe": 0.115,
    "upper_arm_width": 0.062, "elbow_width": 0.048, "wrist_width": 0.040,
    "hand_width": 0.056, "thigh_width": 0.105, "knee_width": 0.072,
    "shank_width": 0.064, "ankle_width": 0.045,
}
_PROPORTION_GROUPS: dict[str, tuple[str, ...]] = {
    "legs": ("thigh", "shank"),
    "arms": ("upper_arm", "lower_arm"),
    "torso": ("torso", "neck"),
    "head": ("head_radius", "head_depth"),
    "girth": ("shoulder_width", "chest_width", "waist_width", "hip_width", "chest_depth",
              "pelvis_depth", "upper_arm_width", "elbow_width", "wrist_width", "hand_width",
              "thigh_width", "knee_width", "shank_width", "ankle_width"),
}

#: Per-action parameter ranges. A person's value is ``low + u * (high - low)``
#: with the person's trait ``u`` in [0, 1] (see :func:`motion_traits`).
GAIT_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "walking": {
        "cadence": (100.0, 130.0), "stride_ratio": (1.3, 1.75), "duty_factor": (0.58, 0.64),
        "knee_peak": (56.0, 66.0), "hip_peak": (32.0, 38.0), "elbow": (5.0, 20.0),
        "arm_swing": (10.0, 15.0), "trunk_lean": (0.0, 4.0), "stance_knee": (6.0, 12.0),
        "vertical_excursion": (0.035, 0.055),
    },
    "jogging": {
        "cadence": (120.0, 160.0), "stride_ratio": (1.6, 3.0), "duty_factor": (0.34, 0.52),
        "knee_peak": (58.0, 92.0), "hip_peak": (34.0, 55.0), "elbow": (10.0, 95.0),
        "arm_swing": (12.0, 30.0), "trunk_lean": (2.0, 9.0), "stance_knee": (10.0, 18.0),
        "vertical_excursion": (0.04, 0.065),
    },
    "running": {
        "cadence": (150.0, 180.0), "stride_ratio": (2.95, 3.4), "duty_factor": (0.27, 0.37),
        "knee_peak": (84.0, 98.0), "hip_peak": (50.0, 60.0), "elbow": (82.0, 98.0),
        "arm_swing": (22.0, 32.0), "trunk_lean": (4.0, 11.0), "stance_knee": (10.0, 18.0),
        "vertical_excursion": (0.045, 0.07),
    },
}
#: Longest distance, in hip heights, the body may travel while one foot is on
#: the ground (duty factor x stride ratio): a longer contact would need a
#: crouch. Duty factors are capped by it.
MAX_CONTACT_LENGTH = 1.05

#: Per-action parameter ranges of the actions done in place (periods in frames at 25 fps).
IN_PLACE_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "boxing": {
        "period": (16.0, 26.0), "guard_shoulder": (25.0, 45.0), "guard_elbow": (110.0, 135.0),
        "punch_shoulder": (68.0, 85.0), "stance_width": (0.35, 0.55), "trunk_lean": (4.0, 10.0),
        "stance_knee": (10.0, 22.0),
    },
    "handwaving": {
        "period": (16.0, 26.0), "wave_center": (118.0, 140.0), "wave_amplitude": (30.0, 45.0),
        "elbow": (5.0, 30.0),
    },
    "handclapping": {
        "period": (8.0, 13.0), "hand_separation": (0.28, 0.4), "hand_drop": (0.08, 0.14),
        "hand_reach": (0.18, 0.26),
    },
}


@dataclass(frozen=True)
class Body:
    """Segment lengths and widths of one figure, in one unit (pixels for the renderer).

    Build it with :func:`body_dimensions`; field names follow
    :data:`BODY_FRACTIONS`, plus ``height``, the standing height.
    """

    height: float
    head_radius: float
    head_depth: float
    neck: float
    torso: float
    shoulder_width: float
    chest_width: float
    waist_width: float
    hip_width: float
    chest_depth: float
    pelvis_depth: float
    upper_arm: float
    lower_arm: float
    thigh: float
    shank: float
    ankle_height: float
    heel: float
    toe: float
    upper_arm_width: float
    elbow_width: float
    wrist_width: float
    hand_width: float
    thigh_width: float
    knee_width: float
    shank_width: float
    ankle_width: float

    @property
    def leg_length(self) -> float:
        """Hip joint to ankle joint with the knee straight."""
        return self.thigh + self.shank

    @property
    def hip_height(self) -> float:
        """Hip joint above the ground when standing straight."""
        return self.thigh + self.shank + self.ankle_height


def body_dimensions(height: float, proportions: Mapping[str, float] | None = None) -> Body:
    """A :class:`Body` of standing height ``height``.

    Parameters
    ----------
    height : float
        Nominal standing height (the renderer passes pixels).
    proportions : mapping, optional
        Multipliers for groups of segments: ``legs``, ``arms``, ``torso``,
        ``head`` and ``girth`` (all widths), 1 = typical (default).

    Returns
    -------
    Body
    """
    proportions = dict(proportions or {})
    unknown = sorted(set(proportions) - set(_PROPORTION_GROUPS))
    if unknown:
        raise ConfigError(f"proportions: unknown groups {unknown}; known are {sorted(_PROPORTION_GROUPS)}")
    lengths = {name: fraction * height for name, fraction in BODY_FRACTIONS.items()}
    for group, names in _PROPORTION_GROUPS.items():
        for name in names:
            lengths[name] *= proportions.get(group, 1.0)
    return Body(height=float(height), **lengths)


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class GaitParameters:
    """One person's gait for one action (angles in degrees).

    Attributes
    ----------
    cadence : float
        Steps per minute (two steps per stride).
    stride_ratio : float
        Stride length (same foot to same foot) over standing hip height.
    duty_factor : float
        Share of a stride each foot spends on the ground.
    knee_peak : float
        Peak knee flexion in swing.
    hip_peak : float
        Peak hip flexion (thigh forward of the vertical) in late swing.
    elbow : float
        Mean elbow flexion (0 = straight).
    arm_swing : float
        Half the range of the shoulder's fore-aft swing.
    trunk_lean : float
        Forward lean of the trunk.
    stance_knee : float
        Least knee flexion of the stance leg (how straight it gets).
    vertical_excursion : float
        Peak-to-peak vertical travel of the pelvis over hip height.
    """

    cadence: float
    stride_ratio: float
    duty_factor: float
    knee_peak: float
    hip_peak: float
    elbow: float
    arm_swing: float
    trunk_lean: float
    stance_knee: float
    vertical_excursion: float

    @property
    def strides_per_frame(self) -> float:
        """Gait phase advanced per frame at :data:`FPS`."""
        return self.cadence / 120.0 / FPS


@dataclass(frozen=True)
class BoxingParameters:
    """Side-on boxing: alternating jab (front arm) and cross (rear arm); degrees.

    ``period`` is frames per pair of punches, ``stance_width`` the distance
    between the ankles over hip height.
    """

    period: float
    guard_shoulder: float
    guard_elbow: float
    punch_shoulder: float
    stance_width: float
    trunk_lean: float
    stance_knee: float


@dataclass(frozen=True)
class WavingParameters:
    """Frontal hand waving: both arms swing overhead between about horizontal and vertical.

    ``period`` is frames per wave; ``wave_center`` and ``wave_amplitude`` are
    the shoulder abduction's centre and half range, ``elbow`` its peak flexion;
    degrees.
    """

    period: float
    wave_center: float
    wave_amplitude: float
    elbow: float


@dataclass(frozen=True)
class ClappingParameters:
    """Frontal hand clapping in front of the chest.

    ``period`` is frames per clap; ``hand_separation`` the widest gap between
    the hands, ``hand_drop`` the hands' height below the shoulders and
    ``hand_reach`` their distance in front of them, all over standing height.
    """

    period: float
    hand_separation: float
    hand_drop: float
    hand_reach: float


_PARAMETER_CLASSES = {
    "walking": GaitParameters, "jogging": GaitParameters, "running": GaitParameters,
    "boxing": BoxingParameters, "handwaving": WavingParameters, "handclapping": ClappingParameters,
}
ActionParameters = GaitParameters | BoxingParameters | WavingParameters | ClappingParameters


def _ranges(action: str) -> dict[str, tuple[float, float]]:
    if action in GAIT_RANGES:
        return GAIT_RANGES[action]
    if action in IN_PLACE_RANGES:
        return IN_PLACE_RANGES[action]
    raise ConfigError(f"action={action!r}: expected one of {GAIT_ACTIONS + IN_PLACE_ACTIONS}")


def trait_names() -> tuple[str, ...]:
    """Every trait a person needs: the union of all actions' parameter names."""
    names: list[str] = []
    for ranges in (*GAIT_RANGES.values(), *IN_PLACE_RANGES.values()):
        names += [name for name in ranges if name not in names]
    return tuple(names)


def motion_traits(rng: np.random.Generator) -> dict[str, float]:
    """Draw one person's motion traits, each in [0, 1].

    A trait places the person inside every action's range of that parameter
    (a quick walker is also a quick runner). Duty factor is tied to stride
    (long strides come with shorter contact), as in real gait, so that the
    stance foot's travel stays within reach of the leg.
    """
    traits = {name: float(rng.uniform()) for name in trait_names()}
    traits["duty_factor"] = float(np.clip(1.0 - traits["stride_ratio"] + rng.normal(0.0, 0.12), 0.0, 1.0))
    return traits


def action_parameters(
    action: str,
    traits: Mapping[str, float],
    rng: np.random.Generator | None = None,
    jitter: float = 0.06,
) -> ActionParameters:
    """A person's parameters for one action, optionally jittered for one video.

    Parameters
    ----------
    action : str
        One of the six KTH actions.
    traits : mapping
        The person's traits in [0, 1] (see :func:`motion_traits`).
    rng : numpy.random.Generator, optional
        If given, each trait moves by a normal step of scale ``jitter`` (clipped
        to [0, 1]) before it is mapped to the range: per-video variation that
        never leaves the action's range.
    jitter : float
        Scale of the per-video step (default 0.06).

    Returns
    -------
    GaitParameters, BoxingParameters, WavingParameters or ClappingParameters
    """
    ranges = _ranges(action)
    values = {}
    for name, (low, high) in ranges.items():
        trait = float(traits[name])
        if rng is not None:
            trait = float(np.clip(trait + rng.normal(0.0, jitter), 0.0, 1.0))
        values[name] = low + trait * (high - low)
    if action in GAIT_RANGES:
        low = ranges["duty_factor"][0]
        values["duty_factor"] = max(low, min(values["duty_factor"], MAX_CONTACT_LENGTH / values["stride_ratio"]))
    return _PARAMETER_CLASSES[action](**values)


# --------------------------------------------------------------------------- poses


@dataclass
class Pose:
    """Joint angles of a figure at N instants.

    Attributes
    ----------
    view : str
        ``"side"`` (facing +x) or ``"front"`` (facing the camera).
    pelvis : numpy.ndarray
        ``(N, 2)`` hip-joint centre in the body frame (y = height above ground).
    trunk : numpy.ndarray
        ``(N,)`` forward lean of the trunk (side view; 0 in front view).
    hip, knee, foot, shoulder, elbow : numpy.ndarray
        ``(N, 2)``, columns ``[left, right]``. ``hip``: thigh angle from the
        downward vertical (forward in side view, outward in front view);
        ``knee``: flexion (the shank turns back); ``foot``: pitch of the sole,
        toe up positive (side view); ``shoulder``: upper-arm angle from the
        downward vertical (forward, or outward in front view); ``elbow``:
        flexion (the forearm turns forward, or toward the midline in front view).
    arm_length : numpy.ndarray or None
        ``(N, 2, 2)``: side ``[left, right]``, segment ``[upper, lower]``:
        the arm segment's drawn length as a share of its true length, below 1
        where it points toward the camera (front view); None = all 1.
    """

    view: str
    pelvis: np.ndarray
    trunk: np.ndarray
    hip: np.ndarray
    knee: np.ndarray
    foot: np.ndarray
    shoulder: np.ndarray
    elbow: np.ndarray
    arm_length: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.trunk)

    def arm_lengths(self) -> np.ndarray:
        """``arm_length`` with None read as all ones."""
        if self.arm_length is None:
            return np.ones((len(self), 2, 2))
        return self.arm_length


def _direction(angle: np.ndarray) -> np.ndarray:
    """Unit vectors ``(sin g, -cos g)`` of segment angles, shape ``(..., 2)``."""
    return np.stack([np.sin(angle), -np.cos(angle)], axis=-1)


def _rotate(points: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotate ``(..., 2)`` points counter-clockwise (y up) by ``angle``."""
    cosine, sine = np.cos(angle)[..., None], np.sin(angle)[..., None]
    x, y = points[..., :1], points[..., 1:]
    return np.concatenate([x * cosine - y * sine, x * sine + y * cosine], axis=-1)


def two_link_inverse(dx, dy, upper: float, lower: float):
    """Angles of a two-link limb whose end must sit at ``(dx, dy)`` from its root.

    Parameters
    ----------
    dx, dy : array_like
        Target of the limb's end relative to its root (x forward, y up).
    upper, lower : float
        Link lengths.

    Returns
    -------
    root_angle, flexion : numpy.ndarray
        Angle of the upper link from the downward vertical, and flexion of the
        middle joint; the middle joint lies forward of the root-end line. A
        target out of reach is pulled onto the reachable annulus.
    """
    dx, dy = np.asarray(dx, dtype=float), np.asarray(dy, dtype=float)
    distance = np.clip(np.hypot(dx, dy), abs(upper - lower) + 1e-9, (upper + lower) * (1 - 1e-12))
    inner = (upper**2 + lower**2 - distance**2) / (2 * upper * lower)
    flexion = np.pi - np.arccos(np.clip(inner, -1.0, 1.0))
    offset = np.arccos(np.clip((upper**2 + distance**2 - lower**2) / (2 * upper * distance), -1.0, 1.0))
    return np.arctan2(dx, -dy) + offset, flexion


# ----------------------------------------------------------------- gait: stance feet


@dataclass(frozen=True)
class _FootRoll:
    """How a stance foot rolls: heel rocker, flat foot, toe rocker (radians, stance fractions)."""

    heel_strike: float
    flat_from: float
    flat_until: float
    toe_off: float


def _foot_roll(duty_factor: float) -> _FootRoll:
    """Heel strike when walking, flatter strike and harder push-off when running."""
    running = float(np.clip((0.62 - duty_factor) / 0.30, 0.0, 1.0))
    return _FootRoll(
        heel_strike=np.radians(14.0 - 11.0 * running),
        flat_from=0.15 - 0.05 * running,
        flat_until=0.55 - 0.12 * running,
        toe_off=-np.radians(40.0 + 10.0 * running),
    )


def _stance_foot(stance: np.ndarray, roll: _FootRoll, body: Body) -> tuple[np.ndarray, np.ndarray]:
    """Ankle position relative to the heel's landing point, and sole pitch, over stance.

    Parameters
    ----------
    stance : numpy.ndarray
        Stance fraction in [0, 1].

    Returns
    -------
    ankle : numpy.ndarray
        ``(N, 2)``: the heel lands at (0, 0); the contact point (heel, then
        sole, then toe) never moves.
    pitch : numpy.ndarray
        ``(N,)`` sole pitch, toe up positive.
    """
    stance = np.asarray(stance, dtype=float)
    heel_part = np.clip(stance / roll.flat_from, 0.0, 1.0)
    toe_part = np.clip((stance - roll.flat_until) / (1.0 - roll.flat_until), 0.0, 1.0)
    pitch = np.where(stance < roll.flat_from, roll.heel_strike * (1.0 - smoothstep(heel_part)),
                     np.where(stance > roll.flat_until, roll.toe_off * toe_part**2, 0.0))
    heel_to_ankle = np.array([body.heel, body.ankle_height])
    toe_to_ankle = np.array([-body.toe, body.ankle_height])
    toe_point = np.array([body.heel + body.toe, 0.0])
    about_heel = _rotate(np.broadcast_to(heel_to_ankle, stance.shape + (2,)), pitch)
    about_toe = toe_point + _rotate(np.broadcast_to(toe_to_ankle, stance.shape + (2,)), pitch)
    ankle = np.where((stance > roll.flat_until)[..., None], about_toe, about_heel)
    return ankle, pitch


def smoothstep(x: np.ndarray) -> np.ndarray:
    """0 below 0, 1 above 1, and ``3x^2 - 2x^3`` between: a ramp with flat ends."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


# ------------------------------------------------------------------ gait: the pelvis


def _pelvis_shape(phase: np.ndarray, params: GaitParameters, hip_height: float) -> np.ndarray:
    """Pelvis height over the stride, up to a constant (period half a stride).

    Walking (duty factor 0.5 or more): a cosine, highest at mid-stance.
    Running: a dip during stance and a parabola in flight that leaves and
    lands with the stance curve's vertical speed, highest in mid-flight.
    """
    duty = params.duty_factor
    half = np.mod(phase, 0.5)
    excursion = params.vertical_excursion * hip_height
    if duty >= 0.5:
        return 0.5 * excursion * np.cos(4.0 * np.pi * (half - duty / 2.0))
    flight_over_stance = (0.5 - duty) / duty
    dip = excursion / (1.0 + np.pi * flight_over_stance / 4.0)
    stance_time = duty
    flight_time = 0.5 - duty
    take_off_speed = dip * np.pi / stance_time
    in_flight = half - duty
    flight = take_off_speed * in_flight * (1.0 - in_flight / flight_time)
    stance = -dip * np.sin(np.pi * half / duty)
    return np.where(half < duty, stance, flight)


@dataclass(frozen=True)
class _GaitGeometry:
    """What one stride of one leg needs: foot roll, where the heel lands, pelvis offset."""

    roll: _FootRoll
    heel_landing: float  # heel landing point, relative to the hip at touchdown
    pelvis_base: float  # added to _pelvis_shape


_STANCE_SAMPLES = np.linspace(0.0, 1.0, 97)


def _gait_geometry(params: GaitParameters, body: Body) -> _GaitGeometry:
    """Place the stance foot and the pelvis so that the stance leg just reaches.

    The heel's landing point is chosen (over a grid) to let the pelvis ride as
    high as possible; the pelvis is then as high as the stance leg allows with
    the knee flexed at least ``stance_knee``.
    """
    roll = _foot_roll(params.duty_factor)
    stride = params.stride_ratio * body.hip_height
    sweep = params.duty_factor * stride
    ankle, _ = _stance_foot(_STANCE_SAMPLES, roll, body)
    shape = _pelvis_shape(_STANCE_SAMPLES * params.duty_factor, params, body.hip_height)
    reach = body.leg_length * np.cos(np.radians(params.stance_knee) / 2.0)
    landings = np.linspace(-0.6, 0.6, 241)[:, None] * body.hip_height
    relative_x = landings + ankle[None, :, 0] - sweep * _STANCE_SAMPLES[None, :]
    height_room = np.sqrt(np.clip(reach**2 - relative_x**2, 0.0, None))
    bases = np.min(ankle[None, :, 1] + height_room - shape[None, :], axis=1)
    best = int(np.argmax(bases))
    return _GaitGeometry(roll=roll, heel_landing=float(landings[best, 0]), pelvis_base=float(bases[best]))


def _pelvis_height(phase: np.ndarray, params: GaitParameters, body: Body, geometry: _GaitGeometry) -> np.ndarray:
    return geometry.pelvis_base + _pelvis_shape(phase, params, body.hip_height)


def _stance_leg(leg_phase, params, body, geometry, pelvis_y):
    """Hip angle, knee flexion and sole pitch of a stance leg (inverse kinematics)."""
    stride = params.stride_ratio * body.hip_height
    stance = leg_phase / params.duty_factor
    ankle, pitch = _stance_foot(stance, geometry.roll, body)
    dx = geometry.heel_landing + ankle[:, 0] - stride * leg_phase
    hip, knee = two_link_inverse(dx, ankle[:, 1] - pelvis_y, body.thigh, body.shank)
    return hip, knee, pitch


def _swing_keys(params: GaitParameters, body: Body, geometry: _GaitGeometry):
    """Key poses of the swing: toe-off, peak knee, peak hip, touchdown."""
    duty = params.duty_factor
    ends = np.array([duty * (1 - 1e-12), 0.0])
    pelvis = _pelvis_height(ends, params, body, geometry)
    hip, knee, pitch = _stance_leg(ends, params, body, geometry, pelvis)
    (hip_off, hip_on), (knee_off, knee_on) = hip, knee
    ankle_off, ankle_on = pitch - (hip - knee)
    running = float(np.clip((0.62 - duty) / 0.30, 0.0, 1.0))
    knee_peak, hip_peak = np.radians(params.knee_peak), np.radians(params.hip_peak)
    hip_peak = max(hip_peak, hip_on + np.radians(2.0))
    times = np.array([0.0, 0.30 + 0.10 * running, 0.72 - 0.04 * running, 1.0])
    hips = np.array([hip_off, hip_off + 0.6 * (hip_peak - hip_off), hip_peak, hip_on])
    knees = np.array([knee_off, knee_peak, knee_on + 0.35 * (knee_peak - knee_on), knee_on])
    ankles = np.array([ankle_off, 0.5 * ankle_off, 0.5 * ankle_on, ankle_on])
    return times, hips, knees, ankles


def _swing_leg(leg_phase, params, body, geometry, pelvis_y):
    """Hip angle, knee flexion and sole pitch of a swing leg (key-pose interpolation).

    The ankle then turns the foot, if needed, so that heel and toe clear the
    ground by a margin that grows from 0 at toe-off and touchdown to 1.5 % of
    the hip height, as a real ankle dorsiflexes in swing.
    """
    times, hips, knees, ankles = _swing_keys(params, body, geometry)
    swing = (leg_phase - params.duty_factor) / (1.0 - params.duty_factor)
    hip = PchipInterpolator(times, hips)(swing)
    knee = PchipInterpolator(times, knees)(swing)
    ankle = PchipInterpolator(times, ankles)(swing)
    margin = 0.015 * body.hip_height * np.clip(np.minimum(swing, 1.0 - swing) / 0.08, 0.0, 1.0)
    knee = _lift_the_ankle(hip, knee, pelvis_y, body.ankle_height + margin, body)
    ankle_y = pelvis_y - body.thigh * np.cos(hip) - body.shank * np.cos(hip - knee)
    return hip, knee, _clear_the_ground(ankle + (hip - knee), ankle_y, margin, body)


def _lift_the_ankle(hip, knee, pelvis_y, lowest, body: Body) -> np.ndarray:
    """Knee flexion nearest ``knee`` that keeps the ankle at least ``lowest`` high.

    The shank turns away from the vertical, backward if it points backward
    (more flexion), forward otherwise (less).
    """
    room = (pelvis_y - body.thigh * np.cos(hip) - lowest) / body.shank
    least_tilt = np.arccos(np.clip(room, -1.0, 1.0))
    shank = hip - knee
    tilt = np.where(shank > 0, 1.0, -1.0) * np.maximum(np.abs(shank), least_tilt)
    return hip - tilt


def _clear_the_ground(pitch, ankle_y, margin, body: Body) -> np.ndarray:
    """The sole pitch nearest ``pitch`` that keeps heel and toe ``margin`` above the ground."""
    toe_radius, toe_angle = np.hypot(body.toe, body.ankle_height), np.arctan2(body.ankle_height, body.toe)
    heel_radius, heel_angle = np.hypot(body.heel, body.ankle_height), np.arctan2(body.ankle_height, body.heel)
    lowest = toe_angle + np.arcsin(np.clip((margin - ankle_y) / toe_radius, -1.0, 1.0))
    highest = np.arcsin(np.clip((ankle_y - margin) / heel_radius, -1.0, 1.0)) - heel_angle
    return np.clip(pitch, lowest, np.maximum(lowest, highest))


def _leg(leg_phase, params, body, geometry, pelvis_y):
    in_stance = leg_phase < params.duty_factor
    stance = _stance_leg(np.where(in_stance, leg_phase, 0.0), params, body, geometry, pelvis_y)
    swing = _swing_leg(np.where(in_stance, params.duty_factor, leg_phase), params, body, geometry, pelvis_y)
    return tuple(np.where(in_stance, a, b) for a, b in zip(stance, swing))


def _gait_arms(phase: np.ndarray, params: GaitParameters, lean: float):
    """Shoulder and elbow angles: each arm swings with the opposite leg."""
    swing = np.radians(params.arm_swing) * np.cos(2.0 * np.pi * (phase - 0.05))
    rest = np.radians(-4.0) + lean
    shoulder = np.stack([rest - swing, rest + swing], axis=-1)
    elbow = np.radians(params.elbow) + 0.3 * np.stack([-swing, swing], axis=-1)
    return shoulder, np.clip(elbow, np.radians(2.0), np.radians(150.0))


def gait_pose(phase, params: GaitParameters, body: Body) -> Pose:
    """Side-view pose of walking, jogging or running at gait phases ``phase``.

    Parameters
    ----------
    phase : array_like
        Gait phase in strides (any real; the left foot lands at integers).
    params : GaitParameters
    body : Body

    Returns
    -------
    Pose
        With the pelvis at body x = 0: the caller moves the body forward by
        ``stride_ratio * hip_height`` per unit of phase, which keeps stance
        feet planted.
    """
    phase = np.mod(np.atleast_1d(np.asarray(phase, dtype=float)), 1.0)
    geometry = _gait_geometry(params, body)
    pelvis_y = _pelvis_height(phase, params, body, geometry)
    left = _leg(phase, params, body, geometry, pelvis_y)
    right = _leg(np.mod(phase + 0.5, 1.0), params, body, geometry, pelvis_y)
    lean = np.radians(params.trunk_lean)
    shoulder, elbow = _gait_arms(phase, params, lean)
    return Pose(
        view="side",
        pelvis=np.stack([np.zeros_like(phase), pelvis_y], axis=-1),
        trunk=np.full_like(phase, lean),
        hip=np.stack([left[0], right[0]], axis=-1),
        knee=np.stack([left[1], right[1]], axis=-1),
        foot=np.stack([left[2], right[2]], axis=-1),
        shoulder=shoulder,
        elbow=elbow,
    )


# --------------------------------------------------------------------- in place


def _standing_legs_front(n: int, body: Body):
    spread = np.radians(3.0)
    pelvis_y = body.ankle_height + body.leg_length * np.cos(spread)
    hip = np.full((n, 2), spread)
    return pelvis_y, hip


def _front_pose(n: int, body: Body, shoulder: np.ndarray, elbow: np.ndarray,
                arm_length: np.ndarray | None = None) -> Pose:
    pelvis_y, hip = _standing_legs_front(n, body)
    zeros = np.zeros(n)
    return Pose(
        view="front",
        pelvis=np.stack([zeros, np.full(n, pelvis_y)], axis=-1),
        trunk=zeros, hip=hip, knee=np.zeros((n, 2)), foot=np.zeros((n, 2)),
        shoulder=shoulder, elbow=elbow, arm_length=arm_length,
    )


#: Arms hanging beside the body (front view) and their slight elbow bend, radians.
REST_ABDUCTION = np.radians(9.0)
REST_ELBOW = np.radians(8.0)


def handwaving_pose(phase, envelope, params: WavingParameters, body: Body) -> Pose:
    """Front-view hand waving: both arms sweep between about horizontal and overhead.

    ``envelope`` in [0, 1] blends from arms at rest (0) to the full wave (1).
    """
    phase, envelope = _phase_and_envelope(phase, envelope)
    cycle = np.cos(2.0 * np.pi * phase)
    abduction = np.radians(params.wave_center) + np.radians(params.wave_amplitude) * cycle
    elbow = np.radians(params.elbow) * 0.5 * (1.0 + np.sin(2.0 * np.pi * phase))
    abduction = REST_ABDUCTION + envelope * (abduction - REST_ABDUCTION)
    elbow = REST_ELBOW + envelope * (elbow - REST_ELBOW)
    return _front_pose(len(phase), body, np.stack([abduction, abduction], -1), np.stack([elbow, elbow], -1))


def handclapping_pose(phase, envelope, params: ClappingParameters, body: Body) -> Pose:
    """Front-view hand clapping: the hands meet in front of the chest once per period.

    The arm is posed in 3-D (the hands ``hand_reach`` in front of the chest,
    the elbows down and out) and projected onto the image plane, so the
    forearms, which point toward the camera, are drawn foreshortened. The
    hands' gap closes to a hand's width at integer phase.
    """
    phase, envelope = _phase_and_envelope(phase, envelope)
    touching = 0.9 * body.hand_width
    widest = params.hand_separation * body.height
    gap = touching + (widest - touching) * 0.5 * (1.0 - np.cos(2.0 * np.pi * phase))
    hand = np.stack([gap / 2.0 - body.shoulder_width / 2.0,
                     np.full_like(phase, -params.hand_drop * body.height),
                     np.full_like(phase, params.hand_reach * body.height)], axis=-1)
    upper, lower = _arm_in_depth(hand, body.upper_arm, body.lower_arm)
    abduction = np.arctan2(upper[:, 0], -upper[:, 1])
    elbow = abduction - np.arctan2(lower[:, 0], -lower[:, 1])
    lengths = np.stack([np.hypot(upper[:, 0], upper[:, 1]) / body.upper_arm,
                        np.hypot(lower[:, 0], lower[:, 1]) / body.lower_arm], axis=-1)
    abduction = REST_ABDUCTION + envelope * (abduction - REST_ABDUCTION)
    elbow = REST_ELBOW + envelope * (elbow - REST_ELBOW)
    lengths = 1.0 + envelope[:, None] * (lengths - 1.0)
    return _front_pose(len(phase), body, np.stack([abduction, abduction], -1), np.stack([elbow, elbow], -1),
                       np.stack([lengths, lengths], axis=1))


def _arm_in_depth(hand: np.ndarray, upper: float, lower: float) -> tuple[np.ndarray, np.ndarray]:
    """Upper-arm and forearm vectors of a 3-D arm from the shoulder to ``hand`` ``(N, 3)``.

    Axes: x outward, y up, z toward the camera. Of the circle of possible
    elbows, the one pointing most down, out and back is taken.
    """
    distance = np.linalg.norm(hand, axis=-1, keepdims=True)
    distance = np.clip(distance, abs(upper - lower) + 1e-9, (upper + lower) * (1 - 1e-9))
    toward = hand / np.linalg.norm(hand, axis=-1, keepdims=True)
    along = (upper**2 - lower**2 + distance**2) / (2.0 * distance)
    radius = np.sqrt(np.clip(upper**2 - along**2, 0.0, None))
    pole = np.array([0.6, -1.0, -0.3])
    away = pole - np.sum(pole * toward, axis=-1, keepdims=True) * toward
    away /= np.linalg.norm(away, axis=-1, keepdims=True)
    elbow = along * toward + radius * away
    return elbow, toward * distance - elbow


def _punch(phase: np.ndarray) -> np.ndarray:
    """Extension of one arm over a pair of punches: out and back in the first half."""
    part = np.clip(np.mod(phase, 1.0) / 0.5, 0.0, 1.0)
    return np.sin(np.pi * part) ** 2


def boxing_pose(phase, envelope, params: BoxingParameters, body: Body) -> Pose:
    """Side-view boxing: guard up, jab with the left (front) arm, cross with the right.

    The person stands in a boxing stance (left foot forward) throughout;
    ``envelope`` blends from arms hanging (0) to guard and punches (1).
    """
    phase, envelope = _phase_and_envelope(phase, envelope)
    left_punch, right_punch = _punch(phase), _punch(phase + 0.5)
    knee = np.radians(8.0) + envelope * (np.radians(params.stance_knee) - np.radians(8.0)
                                          + np.radians(4.0) * np.sin(4.0 * np.pi * phase))
    half_stance = 0.5 * params.stance_width * body.hip_height
    reach = body.leg_length * np.cos(knee / 2.0)
    pelvis_y = body.ankle_height + np.sqrt(reach**2 - half_stance**2)
    ankles_x = np.array([half_stance + 0.1 * body.toe, -half_stance + 0.1 * body.toe])
    hip, knee_flexion = two_link_inverse(ankles_x[None, :], (body.ankle_height - pelvis_y)[:, None],
                                         body.thigh, body.shank)
    guard_shoulder, guard_elbow = np.radians(params.guard_shoulder), np.radians(params.guard_elbow)
    punches = np.stack([left_punch, right_punch], axis=-1)
    shoulder = guard_shoulder + punches * (np.radians(params.punch_shoulder) - guard_shoulder)
    elbow = guard_elbow + punches * (np.radians(8.0) - guard_elbow)
    lean = envelope * (np.radians(params.trunk_lean) + np.radians(4.0) * (left_punch + right_punch))
    shoulder = lean[:, None] + envelope[:, None] * shoulder
    elbow = REST_ELBOW + envelope[:, None] * (elbow - REST_ELBOW)
    n = len(phase)
    return Pose(
        view="side",
        pelvis=np.stack([np.zeros(n), pelvis_y], axis=-1),
        trunk=lean, hip=hip, knee=knee_flexion, foot=np.zeros((n, 2)),
        shoulder=shoulder, elbow=elbow,
    )


def _phase_and_envelope(phase, envelope):
    phase = np.atleast_1d(np.asarray(phase, dtype=float))
    if envelope is None:
        envelope = np.ones_like(phase)
    envelope = np.broadcast_to(np.asarray(envelope, dtype=float), phase.shape)
    return phase, envelope


def pose(action: str, phase, params: ActionParameters, body: Body, envelope=None) -> Pose:
    """Pose of any KTH action at ``phase`` (strides for gaits, cycles otherwise).

    ``envelope`` (in-place actions only, default 1) blends from standing still
    (0) to the full action (1).
    """
    if action in GAIT_ACTIONS:
        return gait_pose(phase, params, body)
    makers = {"boxing": boxing_pose, "handwaving": handwaving_pose, "handclapping": handclapping_pose}
    if action not in makers:
        raise ConfigError(f"action={action!r}: expected one of {GAIT_ACTIONS + IN_PLACE_ACTIONS}")
    return makers[action](phase, envelope, params, body)


# ------------------------------------------------------------ forward kinematics


def segments(pose: Pose, body: Body) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Origin ``(N, 2)``, angle ``(N,)`` and length scale ``(N,)`` of every body part, in the body frame.

    A part's origin is its proximal joint (the pelvis for the torso, the
    shoulders' level for the head, the ankle for a foot); its angle follows
    the module's convention (a foot's angle is 90 degrees plus its pitch). The
    length scale (1 but for foreshortened arms) stretches the part along its axis.
    """
    if pose.view == "front":
        return _front_segments(pose, body)
    return _side_segments(pose, body)


def _side_segments(pose: Pose, body: Body):
    pelvis = pose.pelvis
    ones = np.ones(len(pose))
    up = np.pi - pose.trunk
    shoulder = pelvis + body.torso * _direction(up)
    parts = {"torso": (pelvis, up, ones), "head": (shoulder, up, ones)}
    lengths = pose.arm_lengths()
    for column, side in enumerate(("left", "right")):
        hip, knee = pose.hip[:, column], pose.knee[:, column]
        knee_point = pelvis + body.thigh * _direction(hip)
        ankle = knee_point + body.shank * _direction(hip - knee)
        parts[f"{side}_thigh"] = (pelvis, hip, ones)
        parts[f"{side}_shank"] = (knee_point, hip - knee, ones)
        parts[f"{side}_foot"] = (ankle, np.pi / 2 + pose.foot[:, column], ones)
        upper, upper_scale = pose.shoulder[:, column], lengths[:, column, 0]
        elbow_point = shoulder + (body.upper_arm * upper_scale)[:, None] * _direction(upper)
        parts[f"{side}_upper_arm"] = (shoulder, upper, upper_scale)
        parts[f"{side}_lower_arm"] = (elbow_point, upper + pose.elbow[:, column], lengths[:, column, 1])
    return parts


def _front_segments(pose: Pose, body: Body):
    pelvis = pose.pelvis
    ones = np.ones(len(pose))
    neck = pelvis + np.array([0.0, body.torso])
    parts = {"torso": (pelvis, np.full(len(pose), np.pi), ones), "head": (neck, np.full(len(pose), np.pi), ones)}
    lengths = pose.arm_lengths()
    for column, (side, sign) in enumerate((("left", 1.0), ("right", -1.0))):
        hip_point = pelvis + np.array([sign * body.hip_width / 2.0, 0.0])
        thigh = sign * pose.hip[:, column]
        knee_point = hip_point + body.thigh * _direction(thigh)
        ankle = knee_point + body.shank * _direction(thigh)
        parts[f"{side}_thigh"] = (hip_point, thigh, ones)
        parts[f"{side}_shank"] = (knee_point, thigh, ones)
        parts[f"{side}_foot"] = (ankle, np.zeros(len(pose)), ones)
        shoulder = neck + np.array([sign * body.shoulder_width / 2.0, -0.04 * body.height])
        upper, upper_scale = sign * pose.shoulder[:, column], lengths[:, column, 0]
        elbow_point = shoulder + (body.upper_arm * upper_scale)[:, None] * _direction(upper)
        parts[f"{side}_upper_arm"] = (shoulder, upper, upper_scale)
        parts[f"{side}_lower_arm"] = (elbow_point, sign * (pose.shoulder[:, column] - pose.elbow[:, column]),
                                      lengths[:, column, 1])
    return parts


def foot_points(pose: Pose, body: Body) -> tuple[np.ndarray, np.ndarray]:
    """Heel and toe of both feet in the body frame (side view).

    Returns
    -------
    heel, toe : numpy.ndarray
        ``(N, 2, 2)``: instant, ``[left, right]``, ``(x, y)``; y is the height
        above the ground.
    """
    parts = segments(pose, body)
    heels, toes = [], []
    for side in ("left", "right"):
        ankle, angle, _ = parts[f"{side}_foot"]
        pitch = angle - np.pi / 2
        heels.append(ankle + _rotate(np.broadcast_to([-body.heel, -body.ankle_height], ankle.shape), pitch))
        toes.append(ankle + _rotate(np.broadcast_to([body.toe, -body.ankle_height], ankle.shape), pitch))
    return np.stack(heels, axis=1), np.stack(toes, axis=1)


def foot_clearance(pose: Pose, body: Body) -> np.ndarray:
    """Height of each foot's lowest point above the ground, ``(N, 2)`` ``[left, right]``."""
    heel, toe = foot_points(pose, body)
    return np.minimum(heel[..., 1], toe[..., 1])


def ground_contact(pose: Pose, body: Body, tolerance: float = 0.005) -> np.ndarray:
    """Whether each foot touches the ground, ``(N, 2)`` bool.

    ``tolerance`` is in hip heights (default 0.005, a fifth of a pixel for a
    typical SynthKTH figure).
    """
    return foot_clearance(pose, body) <= tolerance * body.hip_height
