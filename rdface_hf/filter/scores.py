"""Landmark scores of synthetic faces against prototypes fitted on real training faces.

Both scorers are fitted on one training split (never the test split: the
caller passes ``RDFaceDataset.training_split(fold)``) and then score any face
for any condition. A face without landmarks, or a condition without a training
face, scores NaN (the filter rejects and counts it).

``landmarks`` (:class:`LandmarkScorer`, the default) works on Procrustes-aligned
478-point shapes. Identity is factored out by whitening with the pooled
within-condition covariance (Ledoit-Wolf shrinkage, so a few hundred faces
suffice for 956 coordinates: the LDA metric); condition prototypes are
shrunk towards the average face by ``n / (n + 1)``, so a single-image condition
counts for less. For a face ``x`` and its condition ``c`` (``z``: whitened
``x - average face``; ``m_c``: whitened prototype displacement):

- ``expression`` = ``<z, m_c> / |m_c|``: how far, in within-condition standard
  deviations, the face has moved from the average face in the direction of the
  condition's phenotype (0 for an average face);
- ``own_distance`` = ``|z - m_c|``, and ``margin`` = distance to the nearest
  *other* prototype minus ``own_distance`` (positive: closer to its own);
- ``eyes``, ``nose``, ``mouth``, ``jaw``: ``expression`` of each region alone
  (its landmarks, its own whitening);
- ``phenotype``: the log likelihood ratio (nats) of the face's 32 facial
  measures (:mod:`~rdface_hf.filter.measures`: inter-canthal distance, fissure
  length and slant, philtrum, mouth width, jaw, ..., pose-normalised) under its
  condition against under the whole population, from a two-level Gaussian fitted
  on the training faces (:mod:`~rdface_hf.filter.plda`: pooled within-condition
  covariance, between-condition variances by the method of moments, empirical
  Bayes prototypes); the 956 coordinates are too many for a handful of faces per
  condition, a few tens of measures are not;

and ``score = phenotype + expression + 0.5 * mean(regions) + 0.25 * margin``.

``paper5pt`` (:class:`Paper5ptScorer`) is the RDFace paper's score, for
comparison: the cosine between a face's 25 five-point distances
(:func:`~rdface_hf.filter.shapes.five_point_vector`) and its condition's mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.covariance import ledoit_wolf_shrinkage

from ..dataset.geometry import has_face
from .measures import facial_measures
from .plda import PhenotypeModel, class_means
from .shapes import REGIONS, aligned, fit_template, five_point_vector, region_columns

REGION_WEIGHT = 0.5
MARGIN_WEIGHT = 0.25
MEAN_SHRINK = 1.0  # prototype weight n / (n + MEAN_SHRINK)
MIN_SHRINKAGE = 0.05  # covariance shrinkage floor (Ledoit-Wolf may pick less)
LANDMARK_COMPONENTS = ("phenotype", "expression", "own_distance", "margin", *REGIONS)


def _distances(z: np.ndarray, prototypes: np.ndarray, orth: np.ndarray) -> np.ndarray:
    """(N, C) Euclidean distances (``orth``: squared norm outside the prototypes' span), no (N, C, D) temporary."""
    absent = np.isnan(prototypes).any(axis=1)
    p = np.where(absent[:, None], 0.0, prototypes)
    d2 = (z**2).sum(axis=1)[:, None] - 2.0 * z @ p.T + (p**2).sum(axis=1)[None, :]
    d = np.sqrt(np.maximum(d2, 0.0) + orth[:, None])
    d[:, absent] = np.nan
    return d


def _span(xc: np.ndarray) -> np.ndarray:
    """(D, r) orthonormal basis of the rows' span, through the (N, N) Gram matrix (N << D here)."""
    evals, evecs = np.linalg.eigh(xc @ xc.T)
    keep = evals > max(float(evals.max(initial=0.0)), 1e-300) * 1e-12
    return (xc.T @ evecs[:, keep]) / np.sqrt(evals[keep])


@dataclass(frozen=True)
class _Whitened:
    """Prototypes of one coordinate block in the whitened (LDA) metric.

    The shrunk covariance ``(1 - a) * S + a * mu * I`` is exact but handled in the span of
    the training faces (at most N - 1 of the D coordinates): outside it every direction has
    variance ``a * mu`` and no prototype has a component, so it only adds ``orth`` to distances.
    """

    centre: np.ndarray  # (D,) average training face
    basis: np.ndarray  # (D, r) orthonormal span of the training faces
    whitener: np.ndarray  # (r, r): z = (x - centre) @ basis @ whitener
    orth_var: float  # variance of each direction outside the span
    prototypes: np.ndarray  # (C, r) whitened, shrunk displacements; NaN rows: no training face
    shrinkage: float

    @classmethod
    def fit(cls, x: np.ndarray, labels: np.ndarray, num_classes: int) -> _Whitened:
        means, counts = class_means(x, labels, num_classes)
        centre = x.mean(axis=0)
        basis = _span(x - centre)
        residuals = x - means[labels]
        target = float((residuals**2).sum() / len(x) / x.shape[1])
        if len(x) > len(np.unique(labels)) and target > 0:
            shrinkage = max(float(ledoit_wolf_shrinkage(residuals, assume_centered=True)), MIN_SHRINKAGE)
            r = residuals @ basis
            cov = (1 - shrinkage) * (r.T @ r / len(x)) + shrinkage * target * np.eye(basis.shape[1])
        else:  # one face per condition: no within-condition spread to learn, use the total spread
            target = max(float(((x - centre) ** 2).mean()), 1e-12)
            shrinkage, cov = 1.0, np.eye(basis.shape[1]) * target
        evals, evecs = np.linalg.eigh(cov)
        whitener = evecs / np.sqrt(np.maximum(evals, max(float(evals.max(initial=0.0)), 1e-300) * 1e-9))
        weight = counts / (counts + MEAN_SHRINK)
        prototypes = ((means - centre) @ basis @ whitener) * weight[:, None]
        return cls(centre, basis, whitener, shrinkage * target, prototypes, shrinkage)

    def project(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Whitened coordinates in the span, and the squared whitened norm outside it."""
        xc = x - self.centre
        inside = xc @ self.basis
        orth = np.maximum((xc**2).sum(axis=1) - (inside**2).sum(axis=1), 0.0) / max(self.orth_var, 1e-300)
        return inside @ self.whitener, orth

    def expression(self, z: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """``<z, m_c> / |m_c|``; where the prototype is the average face itself (a single
        condition), no direction exists and it is minus the distance to the prototype."""
        m = self.prototypes[labels]
        norm = np.linalg.norm(m, axis=1)
        flat = norm <= 1e-9 * max(float(np.nanmax(np.linalg.norm(self.prototypes, axis=1), initial=0.0)), 1e-300)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(flat, -np.linalg.norm(z - m, axis=1), (z * m).sum(axis=1) / norm)


@dataclass(frozen=True)
class LandmarkScorer:
    """The ``landmarks`` score (see the module docstring); fit with :meth:`fit`."""

    template: np.ndarray  # (478, 2) Procrustes mean of the training faces
    whole: _Whitened
    regions: dict[str, _Whitened]
    phenotype: PhenotypeModel  # on the facial measures
    num_classes: int

    @classmethod
    def fit(cls, points: np.ndarray, labels: np.ndarray, num_classes: int) -> LandmarkScorer:
        """``points``: (N, 478, 3) training landmarks in pixel units (NaN rows: no face)."""
        labels = np.asarray(labels, dtype=np.int64)
        face = has_face(points)
        if not face.any():
            raise ValueError("no training image has landmarks")
        template = fit_template(points[face])
        x = aligned(points[face], template)
        y = labels[face]
        regions = {r: _Whitened.fit(x[:, region_columns(r)], y, num_classes) for r in REGIONS}
        measured = facial_measures(points[face])
        usable = np.isfinite(measured).all(axis=1)  # a degenerate face (all points equal) has none
        if not usable.any():
            raise ValueError("no training face has facial measures")
        phenotype = PhenotypeModel.fit(measured[usable], y[usable], num_classes)
        return cls(template, _Whitened.fit(x, y, num_classes), regions, phenotype, num_classes)

    def score(self, points: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
        """``score`` and its components for each row (NaN: no face or no prototype)."""
        labels = np.asarray(labels, dtype=np.int64)
        x = aligned(points, self.template)
        z, orth = self.whole.project(np.nan_to_num(x))
        out = {"expression": self.whole.expression(z, labels)}
        dist = _distances(z, self.whole.prototypes, orth)  # (N, C), NaN for conditions without a prototype
        rows = np.arange(len(labels))
        out["own_distance"] = dist[rows, labels]
        dist[rows, labels] = np.inf
        nearest = dist.min(axis=1, initial=np.inf, where=~np.isnan(dist))
        out["margin"] = np.where(np.isfinite(nearest), nearest - out["own_distance"], 0.0)
        for r, block in self.regions.items():
            cols = region_columns(r)
            out[r] = block.expression(block.project(np.nan_to_num(x[:, cols]))[0], labels)
        out["phenotype"] = self.phenotype.log_ratio(facial_measures(points), labels)
        region_mean = np.mean([out[r] for r in REGIONS], axis=0)
        shape = out["expression"] + REGION_WEIGHT * region_mean + MARGIN_WEIGHT * out["margin"]
        out["score"] = out["phenotype"] + shape
        missing = ~has_face(points) | np.isnan(out["expression"]) | np.isnan(out["phenotype"])
        for value in out.values():
            value[missing] = np.nan
        return out


@dataclass(frozen=True)
class Paper5ptScorer:
    """The paper's score: cosine of the 25 five-point distances to the condition's mean vector."""

    means: np.ndarray  # (C, 25); NaN rows for conditions without a training face

    @classmethod
    def fit(cls, points: np.ndarray, labels: np.ndarray, num_classes: int) -> Paper5ptScorer:
        face = has_face(points)
        if not face.any():
            raise ValueError("no training image has landmarks")
        vectors = five_point_vector(points[face])
        means, _ = class_means(vectors, np.asarray(labels, dtype=np.int64)[face], num_classes)
        return cls(means)

    def score(self, points: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
        v = five_point_vector(points)
        m = self.means[np.asarray(labels, dtype=np.int64)]
        with np.errstate(invalid="ignore", divide="ignore"):
            cos = (v * m).sum(axis=1) / (np.linalg.norm(v, axis=1) * np.linalg.norm(m, axis=1))
        return {"score": cos}
