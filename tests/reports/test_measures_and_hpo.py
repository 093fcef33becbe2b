"""Measures (invariances, signs), the bundled HPO table and the term annotator."""

from __future__ import annotations

import numpy as np
import pytest

from rdface_hf.reports import hpo
from rdface_hf.reports.landmark_report import ReferenceStats, findings, render_regions
from rdface_hf.reports.measures import MEASURES, R_EXO, head_pose, measure_face, to_pixels
from rdface_hf.reports.reference import shared_variation, within_condition_rows


def _similar(points, angle, scale, shift):
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return points @ rot.T * scale + shift


def test_measures_ignore_position_scale_and_roll(base_face):
    pts = base_face[:, :2] * 256
    m = measure_face(pts)
    assert set(m) == set(MEASURES) and all(np.isfinite(v) for v in m.values())
    moved = measure_face(_similar(pts, 0.3, 1.7, np.array([40.0, -12.0])))
    for name in MEASURES:
        assert moved[name] == pytest.approx(m[name], abs=1e-9), name
    assert 0.3 < m["interpupillary_distance"] < 0.7 and m["palpebral_fissure_length"] > 0


def test_measures_move_the_right_way(base_face):
    pts = base_face[:, :2] * 256
    m = measure_face(pts)
    wide = pts.copy()
    wide[[33, 133, 468], 0] -= 4  # the right eye (image left) moves out
    wide[[263, 362, 473], 0] += 4
    assert measure_face(wide)["interpupillary_distance"] > m["interpupillary_distance"]
    down = pts.copy()
    down[[R_EXO, 263], 1] += 3  # outer canthi lower: down-slanting
    assert measure_face(down)["palpebral_fissure_slant"] < m["palpebral_fissure_slant"] - 2
    long_philtrum = pts.copy()
    long_philtrum[[0, 13, 14, 17, 61, 291, 152], 1] += 3
    assert measure_face(long_philtrum)["philtrum_length"] > m["philtrum_length"]


def test_bad_landmarks():
    assert to_pixels(None, 10, 10) is None and to_pixels([], 10, 10) is None
    assert to_pixels(np.full((478, 3), np.nan), 10, 10) is None
    with pytest.raises(ValueError):
        measure_face(np.zeros((478, 2)))
    with pytest.raises(ValueError):
        measure_face(np.zeros((10, 2)))


def test_hpo_table_is_well_formed():
    terms = hpo.terms()
    assert len(terms) >= 30 and "Human Phenotype Ontology" in hpo.table()["source"]
    for t in terms.values():
        assert hpo.HPO_ID.match(t.id) and t.name and t.definition and t.phrase and t.synonyms
        assert t.region in ("impression", "eyes", "nose", "mouth")
        if t.measured:
            assert t.measure in MEASURES and t.direction in ("high", "low") and t.threshold > 0
    expected = {"HP:0000316": "Hypertelorism", "HP:0000343": "Long philtrum", "HP:0000347": "Micrognathia",
                "HP:0000494": "Downslanted palpebral fissures", "HP:0000601": "Hypotelorism"}  # fmt: skip
    for term_id, name in expected.items():
        assert terms[term_id].name == name and terms[term_id].measured
    # the simulator's feature names find their terms
    assert hpo.term_ids_for("downslanting palpebral fissures") == ["HP:0000494"]
    assert hpo.term_ids_for("midface hypoplasia") == ["HP:0011800"]
    assert hpo.term_ids_for("small mouth") == ["HP:0000160"]


def test_annotate_handles_negation():
    assert hpo.annotate("Widely spaced eyes with down-slanting palpebral fissures.") == ["HP:0000316", "HP:0000494"]
    assert hpo.annotate("No hypertelorism; long philtrum.") == ["HP:0000343"]
    assert hpo.annotate("Normal, without micrognathia") == []
    assert hpo.annotate(None) == []


def test_thresholds_and_text():
    stats = ReferenceStats.fit([{k: float(i) for k in MEASURES} for i in range(9)])
    assert stats.faces == 9 and stats.center["mouth_width"] == 4.0
    z = dict.fromkeys(MEASURES, 0.0) | {"interpupillary_distance": 2.5, "philtrum_length": -1.6}
    assert [f.term.id for f in findings(z)] == ["HP:0000316"]
    assert {f.term.id for f in findings(z, threshold=1.5)} == {"HP:0000316", "HP:0000322"}
    regions = render_regions(z, findings(z))
    assert "Hypertelorism" in regions["left_eye"] and regions["nose"].startswith("Normal")
    with pytest.raises(Exception, match="at least 5"):
        ReferenceStats.fit([None, dict.fromkeys(MEASURES, 1.0)])


def _turned(points: np.ndarray, yaw: float, pitch: float) -> np.ndarray:
    """3-D points turned by ``yaw`` about the vertical axis, then tilted by ``pitch`` (degrees)."""
    a, b = np.radians(yaw), np.radians(pitch)
    ry = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), np.sin(b)], [0, -np.sin(b), np.cos(b)]])
    return points @ (rx @ ry).T


def test_head_pose_of_a_turned_plane():
    """A flat face (z = 0) turned by a known yaw and pitch: the plane's normal gives them back."""
    rng = np.random.default_rng(0)
    flat = np.column_stack([rng.uniform(-50, 50, 478), rng.uniform(-60, 60, 478), np.zeros(478)])
    yaw, pitch = head_pose(_turned(flat, 0.5, 0.0))
    assert yaw == pytest.approx(0.5, abs=1e-6) and pitch == pytest.approx(0.0, abs=1e-6)
    yaw, pitch = head_pose(_turned(flat, 20.0, 0.0))
    assert yaw == pytest.approx(20.0, abs=1e-6) and pitch == pytest.approx(0.0, abs=1e-6)
    assert head_pose(_turned(flat, -12.0, 0.0))[0] == pytest.approx(-12.0, abs=1e-6)
    assert head_pose(_turned(flat, 0.0, 8.0))[1] == pytest.approx(8.0, abs=1e-6)
    assert np.isnan(head_pose(flat[:, :2])).all()  # no depth: no pose
    assert np.isnan(head_pose(flat)).all()  # flat in z (no depth information)


def test_pose_regression_on_a_hand_made_reference():
    """Known answer: mouth width = 0.4 + 0.01 x yaw (+ tiny noise) over the reference, no pitch
    effect. The fitted slope is 0.01; a frontal-reference face turned by 20 degrees has z near 0
    after the adjustment and a large z without it."""
    rng = np.random.default_rng(1)
    yaws, pitches = rng.uniform(-20, 20, 40), rng.uniform(-10, 10, 40)
    noise = rng.normal(0.0, 0.002, 40)
    rows = [dict.fromkeys(MEASURES, 1.0) | {"mouth_width": 0.4 + 0.01 * y + e} for y, e in zip(yaws, noise)]
    poses = list(zip(yaws, pitches))
    stats = ReferenceStats.fit(rows, poses)
    yaw_slope, pitch_slope = stats.pose_slope["mouth_width"]
    assert yaw_slope == pytest.approx(0.01, abs=5e-4) and pitch_slope == pytest.approx(0.0, abs=5e-4)
    assert stats.posed_faces == 40 and stats.scale["mouth_width"] == pytest.approx(0.002, rel=0.5)
    turned = dict.fromkeys(MEASURES, 1.0) | {"mouth_width": 0.4 + 0.01 * 20}
    assert abs(stats.z_scores(turned, (20.0, 0.0))["mouth_width"]) < 1.5
    assert stats.z_scores(turned)["mouth_width"] > 20  # without a pose: not adjusted
    raw = ReferenceStats.fit(rows, poses, adjust_pose=False)
    assert raw.pose_slope == {} and raw.z_scores(turned, (20.0, 0.0))["mouth_width"] > 1.2
    wide = dict.fromkeys(MEASURES, 1.0) | {"mouth_width": 0.4 + 0.01 * 20 + 0.02}  # a real finding, turned
    assert stats.z_scores(wide, (20.0, 0.0))["mouth_width"] > 5
    few = ReferenceStats.fit(rows[:6], poses[:6])  # too few faces to fit slopes: no adjustment
    assert few.pose_slope == {} and few.faces == 6


def test_pose_adjustment_removes_a_turned_heads_bias(base_face):
    """The astronaut's real 3-D landmarks turned by known yaws: the pose-adjusted interpupillary
    distance varies less across the turns than the raw one."""
    pts = base_face * np.array([256.0, 256.0, 256.0])
    centre = pts.mean(axis=0)
    faces = [_turned(pts - centre, y, p) + centre for y, p in zip(np.linspace(-25, 25, 21), np.tile([-6, 0, 6], 7))]
    rows, poses = [measure_face(f) for f in faces], [head_pose(f) for f in faces]
    assert np.corrcoef([p[0] for p in poses], np.linspace(-25, 25, 21))[0, 1] > 0.99
    stats = ReferenceStats.fit(rows, poses)
    raw = np.std([r["interpupillary_distance"] for r in rows])
    adjusted = np.std([stats.adjusted(r, p)["interpupillary_distance"] for r, p in zip(rows, poses)])
    assert adjusted < 0.5 * raw


def _built_faces(rng, conditions: int, per: int, wide_mouth: set[int]):
    """Hand-made reference: a face's build ``b`` widens its mouth (0.02 b) and its jaw (0.05 b);
    the conditions in ``wide_mouth`` add 0.03 to every face's mouth and to its interpupillary
    distance (features their faces share: the two measures go together between conditions, not
    within one); every measure has a little independent noise."""
    rows, labels = [], []
    for c in range(conditions):
        for _ in range(per):
            b = rng.normal()
            row = {k: 1.0 + rng.normal(0.0, 0.002) for k in MEASURES}
            shared = 0.03 if c in wide_mouth else 0.0
            row["mouth_width"] = 0.4 + 0.02 * b + shared + rng.normal(0.0, 0.002)
            row["jaw_width"] = 1.0 + 0.05 * b + rng.normal(0.0, 0.002)
            row["interpupillary_distance"] = 0.5 + shared + rng.normal(0.0, 0.002)
            rows.append(row)
            labels.append(f"C{c}")
    return rows, labels


def test_shared_variation_on_a_hand_made_reference():
    """Known answer: mouth and jaw width share the face's build. The regression, fitted on the
    differences within conditions, learns the mouth <- jaw coupling and nothing from the other
    measures, nor the wide mouth that some conditions' faces share. With a light ridge, a broad
    but unaffected face reads average and a wide mouth on an average jaw stands far out; the
    default ridge corrects part of the way (it keeps one region's feature out of another's)."""
    rng = np.random.default_rng(3)
    rows, labels = _built_faces(rng, 40, 3, wide_mouth=set(range(0, 40, 5)))
    light = ReferenceStats.fit(rows, conditions=labels, ridge=0.01)
    assert light.noise_rows == 120 and set(light.noise_coef) == set(MEASURES)
    coef = light.noise_coef["mouth_width"]
    assert coef["jaw_width"] > 0.7 and max(abs(v) for k, v in coef.items() if k != "jaw_width") < 0.1
    # the same regression over whole faces (one group) reads the conditions' shared features as
    # build: it predicts the mouth from the interpupillary distance
    pooled = ReferenceStats.fit(rows, conditions=["all"] * len(rows), ridge=0.01).noise_coef["mouth_width"]
    assert pooled["interpupillary_distance"] > 0.3 and abs(coef["interpupillary_distance"]) < 0.1
    raw = ReferenceStats.fit(rows, conditions=labels, adjust_noise=False)
    assert raw.noise_coef == {} and ReferenceStats.fit(rows).noise_coef == {}  # no labels: no correction
    default = ReferenceStats.fit(rows, conditions=labels)
    assert 0.3 < default.noise_coef["mouth_width"]["jaw_width"] < coef["jaw_width"]  # shrunk by the ridge
    average = dict.fromkeys(MEASURES, 1.0) | {"interpupillary_distance": 0.5}
    broad = average | {"mouth_width": 0.4 + 0.02 * 4, "jaw_width": 1.0 + 0.05 * 4}
    wide = average | {"mouth_width": 0.4 + 0.06, "jaw_width": 1.0}
    z = {name: (s.z_scores(broad)["mouth_width"], s.z_scores(wide)["mouth_width"])
         for name, s in (("raw", raw), ("default", default), ("light", light))}  # fmt: skip
    assert z["raw"][0] > 2.5 and abs(z["light"][0]) < 1 and z["light"][0] < z["default"][0] < z["raw"][0]
    assert z["raw"][1] < 2.5 < 5 < z["default"][1] < z["light"][1]
    # a measure with no spread, or none measured, stays out of the regression; the rest is corrected
    odd = [r | {"face_height": 1.0, "jaw_width": float("nan") if i % 2 else r["jaw_width"], "nose_length": float("nan")}
           for i, r in enumerate(rows)]  # fmt: skip
    partial = ReferenceStats.fit(odd, conditions=labels, ridge=0.01)
    assert "face_height" not in partial.noise_coef and "nose_length" not in partial.noise_coef
    assert (
        partial.noise_coef["mouth_width"]["jaw_width"] > 0.7 and 0 < partial.noise_rows < 120
    )  # faces with a jaw only
    single = ReferenceStats.fit(rows[:11], conditions=[f"S{i}" for i in range(11)])  # no condition twice
    assert single.noise_coef == {} and single.noise_rows == 0


def test_within_condition_rows_and_ridge_by_hand():
    values = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 0.0], [10.0, 10.0]])
    rows = within_condition_rows(values, ["a", "a", "b", "c"])  # c: one face, no row
    np.testing.assert_allclose(rows, np.array([[-1.0, -2.0], [1.0, 2.0]]) * np.sqrt(2.0))
    x = np.tile(np.array([[1.0, 2.0], [-1.0, -3.0], [2.0, 4.5], [-2.0, -4.0]]), (4, 1))
    labels = [i // 2 for i in range(len(x))]  # 8 conditions of two faces: 16 rows
    d = within_condition_rows(x, labels)
    np.testing.assert_allclose(d[:2], np.array([[1.0, 2.5], [-1.0, -2.5]]) * np.sqrt(2.0))
    assert len(d) == 16 and np.abs(d).min() > 0
    coef = shared_variation(x, labels, ridge=0.5)
    expected = (d[:, 1] @ d[:, 0]) / (d[:, 1] @ d[:, 1] + 0.5 * len(d))  # one predictor: ridge by hand
    assert coef[0, 0] == 0.0 and coef[0, 1] == pytest.approx(expected) and 0.3 < expected < 0.6
    assert coef[1, 0] == pytest.approx((d[:, 0] @ d[:, 1]) / (d[:, 0] @ d[:, 0] + 0.5 * len(d)))
    assert shared_variation(x[:8], labels[:8], ridge=0.5) is None  # 8 rows: too few to fit
