"""Fresh patients of a release's conditions (the filter's known truth)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rdface_hf._errors import InputError
from rdface_hf.sim.draw import draw_patients


def test_fresh_patients_of_the_release_conditions(small_release):
    truth = json.loads((small_release / "phenotypes.json").read_text())
    abbrs = [c["disease_abbr"] for c in truth["conditions"]]
    drawn = draw_patients(small_release, per_condition=2, seed=1, conditions=abbrs[:2], workers=1)
    assert [p.disease_abbr for p in drawn] == [abbrs[0]] * 2 + [abbrs[1]] * 2
    names = {c["disease_abbr"]: c["disease_name"] for c in truth["conditions"]}
    assert all(p.disease_name == names[p.disease_abbr] for p in drawn)
    assert all(set(p.truth["features"]) == set(truth["conditions"][0]["features"]) for p in drawn[:2])
    assert drawn[0].truth["identity"] != drawn[1].truth["identity"], "a new patient each time"
    release_ages = {i["age"] for i in truth["images"]}
    assert not {p.truth["age"] for p in drawn} & release_ages, "not the release's own patients"
    again = draw_patients(small_release, per_condition=2, seed=1, conditions=abbrs[:2], workers=1)
    assert all(np.array_equal(a.pixels, b.pixels) for a, b in zip(drawn, again))


def test_unaffected_patients_and_bad_requests(small_release, tmp_path):
    controls = draw_patients(small_release, per_condition=1, seed=2, affected=False, workers=1)
    assert len(controls) == 6 and all(p.disease_abbr is None and p.disease_name is None for p in controls)
    assert all(set(p.truth["features"].values()) <= {0.0} for p in controls)
    with pytest.raises(InputError, match="no condition"):
        draw_patients(small_release, per_condition=1, seed=0, conditions=["NOPE"])
    with pytest.raises(InputError, match="not a simulated release"):
        draw_patients(tmp_path, per_condition=1, seed=0)
