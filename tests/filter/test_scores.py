"""The scores: the paper's 5-point cosine by hand, and the landmark score's ranking."""

from __future__ import annotations

import numpy as np
import pytest

from rdface_hf.dataset.geometry import FIVE_POINTS, in_pixels
from rdface_hf.filter.scores import LandmarkScorer, Paper5ptScorer
from rdface_hf.filter.shapes import five_point_vector, region_indices

S = np.sqrt(0.125)  # 0.3536: eye to nose, nose to mouth corner
D = np.sqrt(0.5)  # 0.7071: eye to the far mouth corner


def hand_face(nose=(2.0, 1.0)) -> np.ndarray:
    """Points at (0, 0) but one at (4, 2): the face box is 4 x 2. Eyes (1, .5), (3, .5);
    mouth corners (1, 1.5), (3, 1.5); nose tip as given."""
    pts = np.zeros((478, 3))
    pts[10] = (4.0, 2.0, 0.0)
    for index, xy in zip(FIVE_POINTS, [(1, 0.5), (3, 0.5), nose, (1, 1.5), (3, 1.5)]):
        pts[index, :2] = xy
    return pts


def test_five_points_are_iris_centres_nose_tip_and_mouth_corners():
    assert FIVE_POINTS == (468, 473, 1, 61, 291)


def test_paper5pt_vector_by_hand():
    # Normalised by the box: eyes (.25, .25), (.75, .25); nose (.5, .5); mouth (.25, .75), (.75, .75).
    expected = [
        [0.0, 0.5, S, 0.5, D],
        [0.5, 0.0, S, D, 0.5],
        [S, S, 0.0, S, S],
        [0.5, D, S, 0.0, 0.5],
        [D, 0.5, S, 0.5, 0.0],
    ]
    got = five_point_vector(hand_face()[None])
    assert got.shape == (1, 25)
    np.testing.assert_allclose(got[0], np.ravel(expected), atol=1e-12)


def test_paper5pt_cosine_by_hand():
    # Face B: nose tip up at (2, .5) -> (.5, .25), on the eye line: 0.25 from each eye,
    # sqrt(.25^2 + .5^2) = 0.5590 from each mouth corner.
    n = np.sqrt(0.25**2 + 0.5**2)
    a = np.array([0, .5, S, .5, D, .5, 0, S, D, .5, S, S, 0, S, S, .5, D, S, 0, .5, D, .5, S, .5, 0])  # fmt: skip
    q = 0.25
    b = np.array([0, .5, q, .5, D, .5, 0, q, D, .5, q, q, 0, n, n, .5, D, n, 0, .5, D, .5, n, .5, 0])  # fmt: skip
    mean = (a + b) / 2  # class 0's mean vector over its two training faces
    expected = a @ mean / (np.sqrt(a @ a) * np.sqrt(mean @ mean))
    train = np.stack([hand_face(), hand_face(nose=(2.0, 0.5))])
    scorer = Paper5ptScorer.fit(train * 7.0, np.array([0, 0]), num_classes=2)  # scale: normalised away
    np.testing.assert_allclose(scorer.means[0], mean, atol=1e-12)
    got = scorer.score(hand_face()[None], np.array([0]))["score"]
    assert got[0] == pytest.approx(expected, abs=1e-12)
    assert 0.98 < expected < 1.0  # the paper's cosine barely separates faces
    # class 1 has no training face: no prototype, NaN (the filter rejects and counts it)
    assert np.isnan(scorer.score(hand_face()[None], np.array([1]))["score"][0])


def _faces(toy, labels, seed, strength=1.0):
    rng = np.random.default_rng(seed)
    return np.stack([toy.face(c, rng, strength) for c in labels]) * 256.0


def test_landmark_score_ranks_the_right_condition_first(toy):
    labels = np.repeat([0, 1, 2], 4)
    scorer = LandmarkScorer.fit(_faces(toy, labels, 1), labels, num_classes=3)
    right = _faces(toy, [0, 1, 2] * 4, 2)
    truth = np.array([0, 1, 2] * 4)
    pos = scorer.score(right, truth)
    wrong = scorer.score(right, (truth + 1) % 3)
    plain = scorer.score(_faces(toy, [None] * 12, 3), truth)
    # every right face beats every wrong or unaffected one (AUROC 1 on this clean toy)
    assert pos["score"].min() > max(wrong["score"].max(), plain["score"].max())
    assert (pos["margin"] > 0).all() and (wrong["margin"] < 0).all()
    assert (pos["own_distance"] < wrong["own_distance"]).all()
    assert pos["expression"].min() > 2.0 and plain["expression"].max() < pos["expression"].min() / 2
    # each condition's own region carries its phenotype: right faces show it, wrong ones do not
    for c, region in toy.PHENOTYPE.items():
        rows = truth == c
        assert pos[region][rows].min() > max(wrong[region][rows].max(), plain[region][rows].max())


def test_landmark_score_is_pose_and_scale_invariant(toy):
    labels = np.repeat([0, 1, 2], 3)
    train = _faces(toy, labels, 4)
    scorer = LandmarkScorer.fit(train, labels, num_classes=3)
    faces = _faces(toy, [0, 1, 2], 5)
    theta = 0.4
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    moved = faces.copy()
    moved[:, :, :2] = faces[:, :, :2] @ rot.T * 2.5 + 40.0
    a, b = scorer.score(faces, np.arange(3)), scorer.score(moved, np.arange(3))
    np.testing.assert_allclose(a["score"], b["score"], rtol=1e-6, atol=1e-6)


def test_no_face_and_no_prototype_score_nan(toy):
    labels = np.array([0, 0, 1, 1, 1])
    points = _faces(toy, labels, 6)
    points[1] = np.nan  # a training image without a face is skipped
    scorer = LandmarkScorer.fit(points, labels, num_classes=3)
    query = _faces(toy, [0, 1, 2], 7)
    query[0] = np.nan
    out = scorer.score(query, np.array([0, 1, 2]))
    assert np.isnan(out["score"][0])  # no face
    assert np.isfinite(out["score"][1])
    assert np.isnan(out["score"][2])  # condition 2 has no training face
    with pytest.raises(ValueError, match="no training image"):
        LandmarkScorer.fit(np.full((2, 478, 3), np.nan), np.array([0, 1]), num_classes=2)


def test_single_image_conditions_and_one_condition(toy):
    """One face per condition (no within-condition spread) and a single condition still score."""
    scorer = LandmarkScorer.fit(_faces(toy, [0, 1, 2], 8), np.arange(3), num_classes=3)
    out = scorer.score(_faces(toy, [0, 1, 2], 9), np.arange(3))
    assert np.isfinite(out["score"]).all()
    one = LandmarkScorer.fit(_faces(toy, [0, 0, 0], 10), np.zeros(3, int), num_classes=1)
    out = one.score(_faces(toy, [0], 11), np.zeros(1, int))
    assert np.isfinite(out["score"]).all() and out["margin"][0] == 0.0


def test_pixel_units_keep_the_aspect():
    pts = np.zeros((1, 478, 3))
    pts[0, 0] = (0.5, 0.5, 0.1)
    px = in_pixels(pts, np.array([[200, 100]]))
    np.testing.assert_allclose(px[0, 0], (100.0, 50.0, 20.0))


def test_regions_are_disjoint_enough_and_named():
    regions = region_indices()
    assert set(regions) == {"eyes", "nose", "mouth", "jaw"}
    assert 468 in regions["eyes"] and 473 in regions["eyes"] and 152 in regions["jaw"]
    assert not set(regions["eyes"]) & set(regions["mouth"])


def test_landmark_score_adds_the_phenotype_log_ratio(toy):
    """``score = phenotype + expression + 0.5 * mean(regions) + 0.25 * margin``; the facial-measure
    log ratio alone already puts right faces above wrong ones (the toy widens whole regions)."""
    labels = np.repeat([0, 1, 2], 5)
    scorer = LandmarkScorer.fit(_faces(toy, labels, 12), labels, num_classes=3)
    faces, truth = _faces(toy, [0, 1, 2] * 3, 13), np.array([0, 1, 2] * 3)
    pos, wrong = scorer.score(faces, truth), scorer.score(faces, (truth + 1) % 3)
    for out in (pos, wrong):
        regions = np.mean([out[r] for r in ("eyes", "nose", "mouth", "jaw")], axis=0)
        expected = out["phenotype"] + out["expression"] + 0.5 * regions + 0.25 * out["margin"]
        np.testing.assert_allclose(out["score"], expected, rtol=1e-12)
    assert np.median(pos["phenotype"]) > 0 > np.median(wrong["phenotype"])
    assert (pos["phenotype"] > wrong["phenotype"]).mean() >= 0.8
