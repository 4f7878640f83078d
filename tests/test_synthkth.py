"""SynthKTH: the kinematics keep to the gait literature, the renderer's ground truth is exact."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from vidsal_core.data import kinematics
from vidsal_core.data.dataset import KTH_ACTIONS
from vidsal_core.data.synthkth import (
    PARTS,
    SynthVideo,
    VideoSpec,
    render_video,
    subject_profile,
    title_card,
)
from vidsal_core.errors import ConfigError

PERSONS = range(1, 26)
PHASE = np.linspace(0.0, 1.0, 600, endpoint=False)
BODY = kinematics.body_dimensions(70.0)


def gait_parameters(action: str, person: int, video: int) -> kinematics.GaitParameters:
    """A person's gait as one video would draw it (per-video jitter from ``video``)."""
    traits = subject_profile(person)["motion_traits"]
    return kinematics.action_parameters(action, traits, np.random.default_rng(video))


def all_gaits(action: str):
    return [gait_parameters(action, person, video) for person in PERSONS for video in range(3)]


# ------------------------------------------------------------------ kinematics


def test_inverse_kinematics_reaches_its_target():
    rng = np.random.default_rng(0)
    angle, length = rng.uniform(-1.2, 1.2, 200), rng.uniform(0.3, 1.9, 200)
    dx, dy = length * np.sin(angle), -length * np.cos(angle)
    root, flexion = kinematics.two_link_inverse(dx, dy, 1.0, 0.95)
    middle = np.stack([np.sin(root), -np.cos(root)], -1)
    end = middle + 0.95 * np.stack([np.sin(root - flexion), -np.cos(root - flexion)], -1)
    np.testing.assert_allclose(end, np.stack([dx, dy], -1), atol=1e-9)
    assert np.all(flexion >= 0)
    assert np.all(middle[:, 0] * dy - middle[:, 1] * dx <= 1e-9), "the middle joint must bend forward"


@pytest.mark.parametrize("action, low, high", [("walking", 100, 130), ("jogging", 125, 160),
                                               ("running", 150, 180)])
def test_cadence_of_every_person_is_in_range(action, low, high):
    cadences = [params.cadence for params in all_gaits(action)]
    assert low <= min(cadences) and max(cadences) <= high
    assert max(cadences) - min(cadences) > 0.5 * (high - low), "persons should differ"


def measured_gait(params: kinematics.GaitParameters):
    pose = kinematics.gait_pose(PHASE, params, BODY)
    contact = kinematics.ground_contact(pose, BODY)
    return pose, contact


def test_walking_has_no_flight_phase_and_duty_factor_near_0_6():
    for params in all_gaits("walking"):
        _, contact = measured_gait(params)
        assert contact.any(axis=1).all(), "a walker always has a foot on the ground"
        assert 0.55 <= contact.mean() <= 0.68


def test_running_has_a_flight_phase_and_duty_factor_below_0_4():
    for params in all_gaits("running"):
        pose, contact = measured_gait(params)
        flight = ~contact.any(axis=1)
        assert 0.1 < flight.mean() < 0.5
        assert contact.mean() < 0.4
        pelvis = pose.pelvis[:, 1]
        assert pelvis[flight].mean() > pelvis[~flight].mean(), "the body rises in flight"
        assert np.argmax(pelvis) in np.flatnonzero(flight)


def test_jogging_sits_between_walking_and_running_and_overlaps_both():
    """Ranges overlap; among the 25 persons, what one frame shows overlaps too."""
    def overlap(first, second):
        return first[0] < second[1] and second[0] < first[1]

    for name, jogging in kinematics.GAIT_RANGES["jogging"].items():
        walking, running = kinematics.GAIT_RANGES["walking"][name], kinematics.GAIT_RANGES["running"][name]
        middles = [np.mean(walking), np.mean(jogging), np.mean(running)]
        assert middles == sorted(middles) or middles == sorted(middles, reverse=True), name
        if name in ("cadence", "stride_ratio", "knee_peak", "hip_peak", "elbow", "arm_swing", "trunk_lean"):
            assert overlap(jogging, walking) and overlap(jogging, running), name
    for name in ("stride_ratio", "knee_peak", "hip_peak", "elbow", "trunk_lean"):
        walking = [getattr(p, name) for p in all_gaits("walking")]
        jogging = [getattr(p, name) for p in all_gaits("jogging")]
        running = [getattr(p, name) for p in all_gaits("running")]
        assert min(jogging) < max(walking) and max(jogging) > min(running), name
        assert np.mean(walking) < np.mean(jogging) < np.mean(running), name


@pytest.mark.parametrize("action, knee, hip, elbow", [
    ("walking", (50, 70), (25, 42), (0, 25)),
    ("running", (80, 100), (45, 65), (75, 105)),
])
def test_joint_angle_peaks_follow_the_literature(action, knee, hip, elbow):
    for params in all_gaits(action):
        pose, _ = measured_gait(params)
        assert knee[0] <= np.degrees(pose.knee.max()) <= knee[1]
        assert hip[0] <= np.degrees(pose.hip.max()) <= hip[1]
        assert elbow[0] <= np.degrees(pose.elbow.mean()) <= elbow[1]
        if action == "running":
            assert 4 - 1e-9 <= np.degrees(pose.trunk.mean()) <= 11 + 1e-9


def test_stride_over_hip_height():
    assert max(p.stride_ratio for p in all_gaits("walking")) <= 2.0
    assert min(p.stride_ratio for p in all_gaits("running")) > 2.9


def test_swing_feet_clear_the_ground():
    for action in kinematics.GAIT_ACTIONS:
        for params in all_gaits(action)[::4]:
            pose = kinematics.gait_pose(PHASE, params, BODY)
            assert kinematics.foot_clearance(pose, BODY).min() > -1e-9 * BODY.hip_height


@pytest.mark.parametrize("action", kinematics.GAIT_ACTIONS)
def test_stance_feet_do_not_slide(action):
    """The hip advances one stride per unit phase; heel and toe stay put while on the ground."""
    phase = np.linspace(0.0, 2.0, 1601)
    params = gait_parameters(action, 7, 0)
    pose = kinematics.gait_pose(phase, params, BODY)
    heel, toe = kinematics.foot_points(pose, BODY)
    stride = params.stride_ratio * BODY.hip_height
    tolerance = 1e-6 * BODY.hip_height
    for column, offset in ((0, 0.0), (1, 0.5)):
        leg_phase = phase + offset
        stance = np.mod(leg_phase, 1.0) < params.duty_factor
        stride_index = np.floor(leg_phase)
        for point in (heel, toe):
            on_ground = stance & (point[:, column, 1] < tolerance)
            world_x = point[:, column, 0] + stride * phase
            for index in np.unique(stride_index[on_ground]):
                positions = world_x[on_ground & (stride_index == index)]
                assert np.ptp(positions) < tolerance
    walking_speed = stride * params.strides_per_frame
    assert walking_speed == pytest.approx(stride * params.cadence / 2 / 60 / 25)


# -------------------------------------------------------------------- the spec


@pytest.mark.parametrize("changes, argument", [
    ({"action": "skipping"}, "action"),
    ({"scenario": "d5"}, "scenario"),
    ({"person": 0}, "person"),
    ({"person": 26}, "person"),
    ({"person": 3.0}, "person"),
    ({"n_frames": 0}, "n_frames"),
    ({"title_frames": 48}, "title_frames"),
    ({"title_frames": -1}, "title_frames"),
    ({"height": 16}, "height"),
    ({"width": 20}, "width"),
    ({"seed": -1}, "seed"),
])
def test_bad_spec_is_refused_naming_the_argument(changes, argument):
    values = dict(action="walking", person=1, scenario="d1") | changes
    with pytest.raises(ConfigError, match=argument):
        VideoSpec(**values)


def test_bad_person_profile_and_bad_spec_type_are_refused():
    with pytest.raises(ConfigError, match="person"):
        subject_profile(30)
    with pytest.raises(ConfigError, match="spec"):
        render_video({"action": "walking"})


def test_keys_differ_and_are_file_names():
    specs = [VideoSpec(a, p, s, seed=seed) for a in KTH_ACTIONS for p in (1, 12) for s in ("d1", "d4")
             for seed in (0, 1)]
    keys = [spec.key() for spec in specs]
    assert len(set(keys)) == len(keys)
    assert all(key.replace("_", "").replace("x", "").isalnum() for key in keys)


# --------------------------------------------------------------- determinism


def assert_same_video(first: SynthVideo, second: SynthVideo):
    for name in ("frames", "parts", "visibility", "limb_motion", "flow"):
        a, b = getattr(first, name), getattr(second, name)
        assert (a is None and b is None) or (a.dtype == b.dtype and a.tobytes() == b.tobytes()), name


def test_same_spec_gives_identical_arrays_and_another_seed_another_video():
    spec = VideoSpec("jogging", 5, "d2", n_frames=20)
    first, second = render_video(spec, with_flow=True), render_video(spec, with_flow=True)
    assert_same_video(first, second)
    assert first.meta["entry_frames"] == second.meta["entry_frames"]
    other = render_video(VideoSpec("jogging", 5, "d2", n_frames=20, seed=1))
    assert not np.array_equal(first.frames, other.frames)


def test_subject_profiles_are_fixed_and_differ_between_persons():
    assert subject_profile(4) == subject_profile(4)
    heights = {round(subject_profile(p)["height_fraction"], 6) for p in PERSONS}
    assert len(heights) == 25
    traits = subject_profile(9)["motion_traits"]
    assert set(traits) == set(kinematics.trait_names())
    assert all(0.0 <= value <= 1.0 for value in traits.values())


def test_shapes_and_types():
    video = render_video(VideoSpec("boxing", 2, "d3", n_frames=12, height=60, width=80), with_flow=True)
    assert video.frames.shape == video.parts.shape == (12, 60, 80)
    assert video.frames.dtype == video.parts.dtype == np.uint8
    assert video.flow.shape == (12, 60, 80, 2) and video.flow.dtype == np.float32
    assert video.visibility.dtype == video.limb_motion.dtype == np.float32
    assert video.parts.max() < len(PARTS)
    assert np.isfinite(video.flow).all()
    assert render_video(VideoSpec("boxing", 2, "d3", n_frames=12)).flow is None


# ------------------------------------------------------------ ground truth


SAMPLE_SPECS = [VideoSpec(action, 3 + 4 * index, scenario, n_frames=24, seed=index)
                for index, action in enumerate(KTH_ACTIONS) for scenario in ("d1", "d2", "d3", "d4")[index % 2::2]]


@pytest.mark.parametrize("spec", SAMPLE_SPECS, ids=lambda spec: spec.key())
def test_part_map_covers_exactly_the_drawn_figure(spec):
    video = render_video(spec)
    empty = render_video(spec, figure=False)
    assert not empty.parts.any() and not empty.visibility.any()
    assert np.array_equal(video.frames != empty.frames, video.parts > 0)
    assert video.parts.any()


def test_visibility_is_the_share_of_the_figure_in_view():
    for action in ("walking", "running", "handwaving"):
        video = render_video(VideoSpec(action, 11, "d2", seed=3))
        area = video.meta["figure_area"]
        in_view = (video.parts > 0).sum(axis=(1, 2))
        shown = area > 0
        np.testing.assert_allclose(video.visibility[shown], in_view[shown] / area[shown], rtol=1e-6)
        assert not video.visibility[~shown].any() and not in_view[~shown].any()
        border = np.zeros(video.parts.shape[1:], bool)
        border[[0, -1], :] = border[:, [0, -1]] = True
        inside = (in_view > 0) & ~(video.parts[:, border] > 0).any(axis=1)
        assert np.all(video.visibility[inside] == 1.0)
        assert np.all((0 <= video.visibility) & (video.visibility <= 1))


def test_locomotion_enters_and_leaves_at_frames_that_vary():
    first_seen = {}
    for action in kinematics.GAIT_ACTIONS:
        firsts, empty_videos = [], 0
        for seed in range(8):
            video = render_video(VideoSpec(action, 1 + 3 * seed, "d1", seed=seed))
            seen = video.visibility > 0
            assert seen.sum() >= 12, "at least a quarter of the frames show the person"
            empty_videos += (~seen).any()
            firsts.append(int(np.argmax(seen)))
        assert empty_videos >= 3, action
        assert len(set(firsts)) >= 3, action
        first_seen[action] = firsts
    assert len(set(sum(first_seen.values(), []))) >= 6


def test_in_place_actions_start_at_frames_that_vary_and_stand_still_otherwise():
    for action in kinematics.IN_PLACE_ACTIONS:
        firsts = []
        for seed in range(8):
            video = render_video(VideoSpec(action, 2 + 3 * seed, "d4", seed=seed))
            acting = video.meta["informative"]
            firsts.append(video.meta["first_acting_frame"])
            assert np.all(video.visibility == 1.0), "the person stays in view"
            still = ~acting[:-1] & ~acting[1:]
            assert np.all(video.limb_motion[:-1][still] < 1e-6)
            assert video.limb_motion[acting].max() > 0.3
        assert len(set(firsts)) >= 4, action


def test_long_video_crosses_again_and_repeats_bouts():
    walking = render_video(VideoSpec("running", 8, "d1", n_frames=320, seed=1))
    assert len(walking.meta["entry_frames"]) >= 3
    directions = {crossing["direction"] for crossing in walking.meta["crossings"]}
    assert directions == {-1, 1}
    clapping = render_video(VideoSpec("handclapping", 8, "d1", n_frames=320, seed=1))
    acting = clapping.meta["informative"]
    starts = np.flatnonzero(acting[1:] & ~acting[:-1])
    assert len(starts) >= 3


def test_title_card_is_static_and_empty():
    video = render_video(VideoSpec("boxing", 6, "d1", n_frames=30, title_frames=10), with_flow=True)
    card = title_card(120, 160)
    assert all(np.array_equal(frame, card) for frame in video.frames[:10])
    assert not video.parts[:10].any() and not video.visibility[:10].any()
    assert not video.limb_motion[:10].any() and not video.flow[:10].any()
    assert not np.array_equal(video.frames[10], card)
    assert card.min() < 50 and card.max() > 200, "text on a plain background"
    other = render_video(VideoSpec("running", 9, "d4", n_frames=30, title_frames=10))
    assert np.array_equal(other.frames[:10], video.frames[:10]), "the card says nothing about the action"


# ------------------------------------------------------------------ flow


def mapped_figure_pixels(video: SynthVideo, t: int, flow: np.ndarray):
    ys, xs = np.nonzero(video.parts[t])
    labels = video.parts[t][ys, xs]
    return ys, xs, labels, xs + flow[ys, xs, 0], ys + flow[ys, xs, 1]


def share_landing_on_same_part(video: SynthVideo, zero_flow: bool = False) -> float:
    """Share of figure pixels whose flow lands within a pixel of the same part in the next frame."""
    hits, total = 0, 0
    height, width = video.parts.shape[1:]
    for t in range(len(video.parts) - 1):
        flow = np.zeros_like(video.flow[t]) if zero_flow else video.flow[t]
        ys, xs, labels, x1, y1 = mapped_figure_pixels(video, t, flow)
        inside = (x1 > -0.5) & (x1 < width - 0.5) & (y1 > -0.5) & (y1 < height - 0.5)
        for label in np.unique(labels):
            chosen = inside & (labels == label)
            distance = ndimage.distance_transform_edt(video.parts[t + 1] != label)
            hits += np.sum(distance[np.rint(y1[chosen]).astype(int), np.rint(x1[chosen]).astype(int)] <= 1.0)
            total += chosen.sum()
    return hits / total


def test_true_flow_carries_figure_pixels_onto_their_part():
    video = render_video(VideoSpec("running", 4, "d2", seed=2), with_flow=True, noise=False)
    assert share_landing_on_same_part(video) > 0.95
    assert share_landing_on_same_part(video, zero_flow=True) < 0.5
    errors = []
    for t in range(len(video.frames) - 1):
        ys, xs, labels, x1, y1 = mapped_figure_pixels(video, t, video.flow[t])
        q_x, q_y = np.rint(x1).astype(int), np.rint(y1).astype(int)
        inside = (q_x >= 0) & (q_x < 160) & (q_y >= 0) & (q_y < 120)
        same = np.zeros_like(inside)
        same[inside] = video.parts[t + 1][q_y[inside], q_x[inside]] == labels[inside]
        errors.append(np.abs(video.frames[t][ys[same], xs[same]].astype(float)
                             - video.frames[t + 1][q_y[same], q_x[same]]))
    assert np.concatenate(errors).mean() < 2.0


def test_background_flow_is_the_camera_zoom_and_jitter():
    video = render_video(VideoSpec("handwaving", 10, "d2", seed=4), with_flow=True)
    scale, shift = video.meta["camera_scale"], video.meta["camera_shift"]
    assert np.ptp(scale) > 0.02, "d2 zooms"
    centre = np.array([79.5, 59.5])
    ys, xs = np.mgrid[0:120, 0:160]
    for t in range(len(video.frames)):
        background = video.parts[t] == 0
        points = np.stack([xs, ys], -1)
        world = (points - centre - shift[t]) / scale[t] + centre
        expected = scale[t + 1] * (world - centre) + centre + shift[t + 1] - points
        np.testing.assert_allclose(video.flow[t][background], expected[background], atol=1e-4)
    steady = render_video(VideoSpec("handwaving", 10, "d1", seed=4), with_flow=True)
    assert np.all(steady.meta["camera_scale"] == 1.0)
    assert 0 < np.abs(steady.flow[steady.parts == 0]).max() < 1.0, "jitter moves the background slightly"


def test_walking_feet_are_planted_in_the_video():
    """In each fully visible frame one foot rolls about a point that stays put, while the body moves on."""
    spec = VideoSpec("walking", 13, "d1", n_frames=96, seed=5)
    video = render_video(spec, with_flow=True, noise=False)
    speed = video.meta["speed_px_per_frame"]
    assert speed == pytest.approx(video.meta["stride_px"] * video.meta["cadence_steps_per_minute"] / 120 / 25)
    camera = render_video(spec, with_flow=True, figure=False).flow
    checked, swinging = 0, 0.0
    for t in np.flatnonzero(video.visibility == 1.0)[:-1]:
        moves = []
        for foot in ("left_foot", "right_foot"):
            on_foot = video.parts[t] == PARTS.index(foot)
            relative = np.linalg.norm(video.flow[t][on_foot] - camera[t][on_foot], axis=-1)
            moves.append(relative.min())
        torso = video.parts[t] == PARTS.index("torso")
        body = np.linalg.norm(video.flow[t][torso] - camera[t][torso], axis=-1).mean()
        assert body == pytest.approx(speed, rel=0.2)
        assert min(moves) < 0.1 * speed
        swinging = max(swinging, max(moves))
        checked += 1
    assert checked >= 10
    assert swinging > speed, "a swinging foot overtakes the body"
