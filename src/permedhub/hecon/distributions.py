"""PSA distributions, method-of-moments helpers and reproducible sampling.

Every distribution validates its parameters on construction (a
:class:`~permedhub.hecon.errors.DistributionError` naming the parameter, the value and the
expected range) and samples with a caller-supplied :class:`numpy.random.Generator`.
`sample(n, rng)` returns shape ``(n,)`` for univariate and ``(n, k)`` for multivariate
distributions. `mean` is the distribution's expectation (used as base case unless the model
gives an explicit base-case value).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from permedhub.hecon.errors import DistributionError


def _positive(name: str, value: float, what: str) -> float:
    if not np.isfinite(value) or value <= 0:
        raise DistributionError(f"{what}: {name} must be a finite number > 0, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Fixed:
    """A constant: every draw equals `value`."""

    value: float
    name: str = "fixed"

    def __post_init__(self) -> None:
        if not np.isfinite(self.value):
            raise DistributionError(f"{self.name}: fixed value must be finite, got {self.value!r}")

    @property
    def mean(self) -> float:
        return float(self.value)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return np.full(n, float(self.value))


@dataclass(frozen=True)
class Beta:
    """Beta(alpha, beta) on (0, 1), e.g. for probabilities and utilities."""

    alpha: float
    beta: float
    name: str = "beta"

    def __post_init__(self) -> None:
        _positive("alpha", self.alpha, self.name)
        _positive("beta", self.beta, self.name)

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.beta(self.alpha, self.beta, size=n)


@dataclass(frozen=True)
class Gamma:
    """Gamma(shape, scale) on (0, inf), e.g. for costs."""

    shape: float
    scale: float
    name: str = "gamma"

    def __post_init__(self) -> None:
        _positive("shape", self.shape, self.name)
        _positive("scale", self.scale, self.name)

    @property
    def mean(self) -> float:
        return self.shape * self.scale

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.gamma(self.shape, self.scale, size=n)


@dataclass(frozen=True)
class LogNormal:
    """exp(Normal(meanlog, sdlog)), e.g. for relative risks and hazard ratios."""

    meanlog: float
    sdlog: float
    name: str = "lognormal"

    def __post_init__(self) -> None:
        if not np.isfinite(self.meanlog):
            raise DistributionError(f"{self.name}: meanlog must be finite, got {self.meanlog!r}")
        _positive("sdlog", self.sdlog, self.name)

    @property
    def mean(self) -> float:
        return float(np.exp(self.meanlog + self.sdlog**2 / 2))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.lognormal(self.meanlog, self.sdlog, size=n)


@dataclass(frozen=True)
class Normal:
    """Normal(mean, sd)."""

    mu: float
    sd: float
    name: str = "normal"

    def __post_init__(self) -> None:
        if not np.isfinite(self.mu):
            raise DistributionError(f"{self.name}: mean must be finite, got {self.mu!r}")
        _positive("sd", self.sd, self.name)

    @property
    def mean(self) -> float:
        return float(self.mu)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.normal(self.mu, self.sd, size=n)


@dataclass(frozen=True)
class Triangular:
    """Triangular(low, mode, high) with low <= mode <= high and low < high."""

    low: float
    mode: float
    high: float
    name: str = "triangular"

    def __post_init__(self) -> None:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise DistributionError(
                f"{self.name}: need low <= mode <= high and low < high, got "
                f"low={self.low}, mode={self.mode}, high={self.high}"
            )

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.triangular(self.low, self.mode, self.high, size=n)


_GRID = 2.0**52


@dataclass(frozen=True)
class Dirichlet:
    """Dirichlet(alpha_1..alpha_k): k probabilities per draw that sum to exactly 1.

    Sampled as normalised gammas, rounded to multiples of 2^-52 (a change below 1.2e-16), and
    the largest component set to 1 minus the others: on that grid all sums are exact, so every
    row sums to 1.0 exactly in floating point whatever the summation order.
    """

    alpha: tuple[float, ...]
    name: str = "dirichlet"

    def __post_init__(self) -> None:
        if len(self.alpha) < 2:
            raise DistributionError(f"{self.name}: needs at least 2 alphas, got {self.alpha!r}")
        for i, a in enumerate(self.alpha):
            _positive(f"alpha[{i}]", a, self.name)

    @property
    def mean(self) -> np.ndarray:
        a = np.asarray(self.alpha, dtype=float)
        return a / a.sum()

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        g = rng.gamma(np.asarray(self.alpha, dtype=float), 1.0, size=(n, len(self.alpha)))
        p = g / g.sum(axis=1, keepdims=True)
        # On the grid of multiples of 2^-52 every partial sum of values in [0, 1] is exactly
        # representable, so sums are exact in any order; the largest component takes the rest.
        p = np.round(p * _GRID) / _GRID
        rows = np.arange(n)
        largest = p.argmax(axis=1)
        p[rows, largest] = 0.0
        p[rows, largest] = 1.0 - p.sum(axis=1)
        return p


@dataclass(frozen=True)
class MultivariateNormal:
    """Multivariate normal(mean, cov), e.g. correlated regression coefficients."""

    mu: tuple[float, ...]
    cov: tuple[tuple[float, ...], ...]
    name: str = "mvnormal"

    def __post_init__(self) -> None:
        m = np.asarray(self.mu, dtype=float)
        c = np.asarray(self.cov, dtype=float)
        if c.shape != (m.size, m.size):
            raise DistributionError(
                f"{self.name}: covariance must be {m.size}x{m.size} to match the mean, "
                f"got {c.shape}"
            )
        if not np.allclose(c, c.T):
            raise DistributionError(f"{self.name}: covariance matrix is not symmetric")
        if np.linalg.eigvalsh(c).min() < -1e-10 * max(1.0, float(np.abs(c).max())):
            raise DistributionError(f"{self.name}: covariance matrix is not positive semi-definite")

    @property
    def mean(self) -> np.ndarray:
        return np.asarray(self.mu, dtype=float)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        c = np.asarray(self.cov, dtype=float)
        # Eigen-decomposition also handles semi-definite matrices (Cholesky would fail).
        w, v = np.linalg.eigh(c)
        root = v * np.sqrt(np.clip(w, 0, None))
        z = rng.standard_normal((n, len(self.mu)))
        return self.mean + z @ root.T


@dataclass(frozen=True)
class Bootstrap:
    """Non-parametric bootstrap: each draw resamples the rows of `table` with replacement and
    returns the column means of the resample (one column per output)."""

    table: pd.DataFrame = field(compare=False)
    name: str = "bootstrap"

    def __post_init__(self) -> None:
        if len(self.table) < 2:
            raise DistributionError(f"{self.name}: bootstrap needs at least 2 rows")
        if not np.all(np.isfinite(self.table.to_numpy(dtype=float))):
            raise DistributionError(
                f"{self.name}: bootstrap table has missing or non-finite values"
            )

    @property
    def mean(self) -> np.ndarray:
        return self.table.to_numpy(dtype=float).mean(axis=0)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        data = self.table.to_numpy(dtype=float)
        rows = len(data)
        out = np.empty((n, data.shape[1]))
        # Chunked so memory stays bounded for large tables x many draws.
        step = max(1, 2_000_000 // rows)
        for start in range(0, n, step):
            stop = min(n, start + step)
            idx = rng.integers(0, rows, size=(stop - start, rows))
            out[start:stop] = data[idx].mean(axis=1)
        return out


Distribution = (
    Fixed
    | Beta
    | Gamma
    | LogNormal
    | Normal
    | Triangular
    | Dirichlet
    | MultivariateNormal
    | Bootstrap
)


# --- method of moments -----------------------------------------------------------------------


def beta_from_mean_se(mean: float, se: float, name: str = "beta") -> Beta:
    """Beta with the given mean and standard error: alpha = m(m(1-m)/se^2 - 1), beta = ..."""
    if not 0 < mean < 1:
        raise DistributionError(f"{name}: beta mean must be in (0, 1), got {mean!r}")
    _positive("se", se, name)
    factor = mean * (1 - mean) / se**2 - 1
    if factor <= 0:
        raise DistributionError(
            f"{name}: se={se} too large for a beta with mean {mean}: need se^2 < mean(1-mean)"
        )
    return Beta(mean * factor, (1 - mean) * factor, name=name)


def gamma_from_mean_se(mean: float, se: float, name: str = "gamma") -> Gamma:
    """Gamma with the given mean and SE: shape = (m/se)^2, scale = se^2/m."""
    _positive("mean", mean, name)
    _positive("se", se, name)
    return Gamma(shape=(mean / se) ** 2, scale=se**2 / mean, name=name)


def lognormal_from_mean_se(mean: float, se: float, name: str = "lognormal") -> LogNormal:
    """Lognormal with the given (arithmetic) mean and SE:
    sdlog^2 = ln(1 + se^2/m^2), meanlog = ln(m) - sdlog^2/2."""
    _positive("mean", mean, name)
    _positive("se", se, name)
    var_log = np.log1p((se / mean) ** 2)
    return LogNormal(float(np.log(mean) - var_log / 2), float(np.sqrt(var_log)), name=name)


def lognormal_from_ci(point: float, low: float, high: float, name: str = "lognormal") -> LogNormal:
    """Lognormal for a ratio reported as point estimate and 95% CI: meanlog = ln(point),
    sdlog = (ln(high) - ln(low)) / (2 * 1.96)."""
    for label, v in (("point", point), ("low", low), ("high", high)):
        _positive(label, v, name)
    if not low < point < high:
        raise DistributionError(f"{name}: need low < point < high, got {low}, {point}, {high}")
    return LogNormal(float(np.log(point)), float((np.log(high) - np.log(low)) / 3.92), name=name)


def make_rng(seed: int | np.random.SeedSequence) -> np.random.Generator:
    """A PCG64 generator from an int seed or a SeedSequence (reproducible)."""
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return np.random.Generator(np.random.PCG64(ss))


def sample_all(
    distributions: Sequence[tuple[str, Distribution]], n: int, seed: int
) -> dict[str, np.ndarray]:
    """Sample every named distribution `n` times; each gets its own child SeedSequence (by
    position) so adding a distribution at the end does not change the earlier ones."""
    if n < 1:
        raise DistributionError(f"number of PSA draws must be >= 1, got {n}")
    children = np.random.SeedSequence(seed).spawn(len(distributions))
    return {
        name: dist.sample(n, make_rng(child))
        for (name, dist), child in zip(distributions, children, strict=True)
    }
