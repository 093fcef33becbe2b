"""A two-level Gaussian model of feature vectors (PLDA): identity noise around condition means.

Each face's feature vector is ``x = mu + m_c + e``: the population mean ``mu``,
its condition's displacement ``m_c ~ N(0, B)`` and the face's own variation
(identity, pose, expression) ``e ~ N(0, W)``, the same for every condition. All
of it is estimated from one training split:

- ``W``: the pooled within-condition covariance of the standardised features,
  with Ledoit-Wolf shrinkage (a few hundred faces, tens of features);
- ``B``: the between-condition scatter of the condition means minus what
  ``W`` alone would put there (method of moments), clipped at 0 along each
  eigen-direction, so directions in which conditions do not differ carry no
  weight however noisy the few faces of a condition are.

In the whitened, rotated basis (``W = I``, ``B = diag(lam)``) a condition with
``n`` training faces of mean ``xbar`` has the posterior mean
``n lam / (n lam + 1) * xbar`` (shrunk towards the population: empirical Bayes,
so a single-image condition counts for little) and a new face of it has the
predictive variance ``1 + lam / (n lam + 1)``; a face of the population has
``1 + lam``. :meth:`PhenotypeModel.log_ratio` is the log likelihood ratio of
the two: positive when the face looks more like its condition than like anyone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.covariance import ledoit_wolf_shrinkage

MIN_SHRINKAGE = 0.05  # covariance shrinkage floor (Ledoit-Wolf may pick less)


def class_means(x: np.ndarray, labels: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-class means of the rows of ``x`` (NaN for a class with no row) and the class counts."""
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    sums = np.zeros((num_classes, x.shape[1]))
    np.add.at(sums, labels, x)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts[:, None], counts


@dataclass(frozen=True)
class PhenotypeModel:
    """The fitted model (see the module docstring); :meth:`fit`, then :meth:`log_ratio`."""

    centre: np.ndarray  # (D,) population mean
    transform: np.ndarray  # (D, D): u = (x - centre) @ transform has W = I and B = diag(between)
    between: np.ndarray  # (D,) between-condition variances in that basis (>= 0)
    means: np.ndarray  # (C, D) condition means in that basis; NaN rows: no training face
    counts: np.ndarray  # (C,) training faces per condition
    shrinkage: float

    @classmethod
    def fit(cls, x: np.ndarray, labels: np.ndarray, num_classes: int) -> PhenotypeModel:
        """``x``: (N, D) finite features of the training faces, ``labels`` their conditions."""
        x, labels = np.asarray(x, dtype=np.float64), np.asarray(labels, dtype=np.int64)
        if len(x) == 0 or not np.isfinite(x).all():
            raise ValueError("the phenotype model needs finite features of at least one training face")
        means, counts = class_means(x, labels, num_classes)
        centre, present = x.mean(axis=0), counts > 0
        residuals = x - means[labels]
        dof = len(x) - int(present.sum())
        spread = np.sqrt((residuals**2).sum(axis=0) / dof) if dof > 0 else x.std(axis=0)
        scale = np.where(spread > 1e-12 * max(float(spread.max(initial=0.0)), 1e-300), spread, np.inf)
        if dof < 1:  # one face per condition: identity and phenotype cannot be told apart
            d = x.shape[1]
            return cls(centre, np.diag(1.0 / scale), np.zeros(d), np.where(present[:, None], 0.0, np.nan), counts, 1.0)
        r = residuals / scale
        shrinkage = max(float(ledoit_wolf_shrinkage(r, assume_centered=True)), MIN_SHRINKAGE)
        cov = (1 - shrinkage) * (r.T @ r / dof) + shrinkage * np.eye(r.shape[1])
        evals, evecs = np.linalg.eigh(cov)
        whiten = (evecs / np.sqrt(np.maximum(evals, 1e-12))) / scale[:, None]
        z = (means[present] - centre) @ whiten  # condition means, whitened
        n = counts[present]
        scatter = (z * n[:, None]).T @ z / n.sum() - (len(n) - 1) / n.sum() * np.eye(len(whiten))
        lam, rot = np.linalg.eigh(scatter)
        all_means = np.full((num_classes, x.shape[1]), np.nan)
        all_means[present] = z @ rot
        return cls(centre, whiten @ rot, np.maximum(lam, 0.0), all_means, counts, shrinkage)

    def log_ratio(self, x: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """(N,) ``log p(x | its condition) - log p(x | population)``; NaN for a NaN row or a
        condition without a training face."""
        u = (np.asarray(x, dtype=np.float64) - self.centre) @ self.transform
        labels = np.asarray(labels, dtype=np.int64)
        lam, n = self.between[None, :], self.counts[labels][:, None]
        post_var = lam / (n * lam + 1.0)
        posterior = n * post_var * self.means[labels]
        own = (((u - posterior) ** 2) / (1.0 + post_var) + np.log1p(post_var)).sum(axis=1)
        population = ((u**2) / (1.0 + lam) + np.log1p(lam)).sum(axis=1)
        return -0.5 * (own - population)
