"""Penalised cubic regression splines with a GCV-chosen smoothing parameter (private).

The GAM metamodel used for EVPPI/EVSI, built like mgcv's ``gam(y ~ te(x1, x2, bs = "cr"))``
(Wood, *Generalized Additive Models*, 2nd ed., 2017, §5.3.1 cubic regression splines, §5.6
tensor products, §6.2 GCV), which is the default of the R package voi:

- Each input gets a cubic regression spline basis with ``k`` knots at evenly spaced quantiles of
  its unique values (mgcv ``place.knots``). The coefficients are the function's values at the
  knots; the penalty is the integrated squared second derivative of the natural cubic spline.
- A set of inputs is modelled by the tensor product of the marginal bases with one penalty per
  margin (``S_j`` = I ⊗ … ⊗ S_j ⊗ … ⊗ I), or additively (one smooth per input).
- Every smooth term is centred (sum-to-zero over the data, absorbed by a QR step) and an
  unpenalised intercept is added, as mgcv does.
- The smoothing parameters minimise the GCV score ``n · RSS / (n - tr(A))²``. The data enter
  only through the thin QR factorisation of the design, so each score costs O(p³) for p
  coefficients, independent of the number of draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import linalg, optimize

FloatArray = npt.NDArray[np.float64]

GamStructure = Literal["tensor", "additive"]

_LOG_LAMBDA_BOUNDS = (-30.0, 30.0)


@dataclass(frozen=True)
class CubicRegressionSpline:
    """A natural cubic spline basis parameterised by the function values at the knots."""

    knots: FloatArray
    second_derivative_map: FloatArray  # (k, k): knot values -> second derivatives at knots
    penalty: FloatArray  # (k, k)

    @property
    def size(self) -> int:
        return int(self.knots.size)

    def basis(self, x: FloatArray) -> FloatArray:
        """Evaluate the basis at ``x`` (linear extrapolation outside the knot range)."""
        k = self.knots.size
        if k == 1:
            return np.ones((x.size, 1))
        if k == 2:
            t = (x - self.knots[0]) / (self.knots[1] - self.knots[0])
            return np.column_stack((1.0 - t, t))
        interval = np.clip(np.searchsorted(self.knots, x, side="right") - 1, 0, k - 2)
        left = self.knots[interval]
        right = self.knots[interval + 1]
        width = right - left
        xc = np.clip(x, self.knots[0], self.knots[-1])
        a_minus = (right - xc) / width
        a_plus = (xc - left) / width
        c_minus = ((right - xc) ** 3 / width - width * (right - xc)) / 6.0
        c_plus = ((xc - left) ** 3 / width - width * (xc - left)) / 6.0
        rows = np.arange(x.size)
        values = np.zeros((x.size, k))
        values[rows, interval] += a_minus
        values[rows, interval + 1] += a_plus
        values += c_minus[:, None] * self.second_derivative_map[interval]
        values += c_plus[:, None] * self.second_derivative_map[interval + 1]
        # Beyond the end knots a natural spline continues linearly.
        below = x < self.knots[0]
        above = x > self.knots[-1]
        if below.any() or above.any():
            slope_left = self._end_slope(0)
            slope_right = self._end_slope(k - 2)
            values[below] += (x[below] - self.knots[0])[:, None] * slope_left
            values[above] += (x[above] - self.knots[-1])[:, None] * slope_right
        return values

    def _end_slope(self, interval: int) -> FloatArray:
        """Derivative of each basis function at the left (interval 0) or right end knot."""
        h = self.knots[interval + 1] - self.knots[interval]
        unit = np.eye(self.knots.size)
        d = self.second_derivative_map
        if interval == 0:  # derivative at the left end of the first interval
            return (unit[1] - unit[0]) / h - h / 3.0 * d[0] - h / 6.0 * d[1]
        return (unit[-1] - unit[-2]) / h + h / 6.0 * d[-2] + h / 3.0 * d[-1]


def cubic_regression_spline(x: FloatArray, n_knots: int) -> CubicRegressionSpline:
    """Place ``n_knots`` knots at evenly spaced quantiles of the unique values of ``x``.

    Fewer unique values than knots: one knot per unique value (a linear basis for two values,
    a constant for one).
    """
    unique = np.unique(x)
    k = int(min(n_knots, unique.size))
    if k == 1:
        return CubicRegressionSpline(unique[:1], np.zeros((1, 1)), np.zeros((1, 1)))
    # mgcv place.knots: linear interpolation between sorted unique values.
    positions = np.linspace(0.0, unique.size - 1.0, k)
    lower = np.floor(positions).astype(int)
    upper = np.minimum(lower + 1, unique.size - 1)
    fraction = positions - lower
    knots = unique[lower] * (1.0 - fraction) + unique[upper] * fraction
    if k == 2:
        return CubicRegressionSpline(knots, np.zeros((2, 2)), np.zeros((2, 2)))
    h = np.diff(knots)
    d_matrix = np.zeros((k - 2, k))
    b_matrix = np.zeros((k - 2, k - 2))
    for i in range(k - 2):
        d_matrix[i, i] = 1.0 / h[i]
        d_matrix[i, i + 1] = -1.0 / h[i] - 1.0 / h[i + 1]
        d_matrix[i, i + 2] = 1.0 / h[i + 1]
        b_matrix[i, i] = (h[i] + h[i + 1]) / 3.0
        if i < k - 3:
            b_matrix[i, i + 1] = b_matrix[i + 1, i] = h[i + 1] / 6.0
    interior = linalg.solve(b_matrix, d_matrix, assume_a="sym")
    second = np.zeros((k, k))
    second[1:-1] = interior
    penalty = d_matrix.T @ interior
    return CubicRegressionSpline(knots, second, 0.5 * (penalty + penalty.T))


def evenly_spaced_values_map(spline: CubicRegressionSpline) -> FloatArray:
    """Map from function values at ``k`` evenly spaced points of the knot range to the
    spline's own coefficients (values at the quantile knots).

    mgcv's ``te(..., np = TRUE)`` reparameterises each margin this way before forming the
    tensor-product penalties ``S_j ⊗ I``; the identity factors then refer to these coordinates.
    """
    points = np.linspace(spline.knots[0], spline.knots[-1], spline.size)
    return np.asarray(linalg.inv(spline.basis(points)), dtype=np.float64)


@dataclass(frozen=True)
class _Term:
    """One centred smooth term: marginal splines, the centring map and its penalties."""

    columns: tuple[int, ...]
    margins: tuple[CubicRegressionSpline, ...]
    reparameterisations: tuple[FloatArray, ...]
    centring: FloatArray  # (prod k, prod k - 1)
    penalties: tuple[FloatArray, ...]

    def raw_basis(self, inputs: FloatArray, shrink: FloatArray | None = None) -> FloatArray:
        """Tensor-product basis at ``inputs``. With ``shrink`` (one factor per input column),
        each marginal basis function is first pulled towards its mean over the rows,
        ``v B + (1 - v) mean(B)`` (the preposterior basis of Jalal & Alarid-Escudero 2018)."""
        bases = []
        for column, margin, reparam in zip(
            self.columns, self.margins, self.reparameterisations, strict=True
        ):
            marginal = margin.basis(inputs[:, column]) @ reparam
            if shrink is not None:
                factor = shrink[column]
                marginal = factor * marginal + (1.0 - factor) * marginal.mean(axis=0)
            bases.append(marginal)
        design = bases[0]
        for marginal in bases[1:]:
            design = (design[:, :, None] * marginal[:, None, :]).reshape(design.shape[0], -1)
        return design

    def basis(self, inputs: FloatArray) -> FloatArray:
        return self.raw_basis(inputs) @ self.centring


def _tensor_penalties(marginal_penalties: list[FloatArray]) -> list[FloatArray]:
    sizes = [s.shape[0] for s in marginal_penalties]
    penalties = []
    for j, penalty in enumerate(marginal_penalties):
        if not np.any(penalty):
            continue
        factor: FloatArray = np.ones((1, 1))
        for i, size in enumerate(sizes):
            factor = np.asarray(
                np.kron(factor, penalty if i == j else np.eye(size)), dtype=np.float64
            )
        penalties.append(factor)
    return penalties


def _make_term(inputs: FloatArray, columns: tuple[int, ...], n_knots: int) -> _Term:
    margins = tuple(cubic_regression_spline(inputs[:, c], n_knots) for c in columns)
    reparams = tuple(
        evenly_spaced_values_map(m) if len(columns) > 1 and m.size > 2 else np.eye(m.size)
        for m in margins
    )
    marginal_penalties = [p.T @ m.penalty @ p for m, p in zip(margins, reparams, strict=True)]
    provisional = _Term(columns, margins, reparams, np.eye(1), ())
    raw = provisional.raw_basis(inputs)
    # Sum-to-zero constraint: keep the null space of the column sums (mgcv's centring).
    constraint = raw.sum(axis=0)[:, None]
    q, _ = linalg.qr(constraint)
    centring = q[:, 1:]
    penalties = tuple(centring.T @ s @ centring for s in _tensor_penalties(marginal_penalties))
    return _Term(columns, margins, reparams, centring, penalties)


@dataclass(frozen=True)
class SplineFit:
    """A fitted penalised regression spline: coefficients, terms and the GCV optimum."""

    terms: tuple[_Term, ...]
    coefficients: FloatArray
    log_lambdas: FloatArray
    effective_df: float
    gcv: float
    fitted: FloatArray

    def design(self, inputs: FloatArray) -> FloatArray:
        blocks = [np.ones((inputs.shape[0], 1))] + [t.basis(inputs) for t in self.terms]
        return np.hstack(blocks)

    def predict(self, inputs: FloatArray) -> FloatArray:
        return self.design(inputs) @ self.coefficients

    def predict_preposterior(self, inputs: FloatArray, shrink: FloatArray) -> FloatArray:
        """Fitted values with every marginal basis function shrunk towards its mean by the
        factor ``shrink[j]`` of its input (see :meth:`_Term.raw_basis`)."""
        blocks = [np.ones((inputs.shape[0], 1))] + [
            t.raw_basis(inputs, shrink) @ t.centring for t in self.terms
        ]
        return np.hstack(blocks) @ self.coefficients


def n_coefficients(n_inputs: int, structure: GamStructure, n_knots: int) -> int:
    """Number of coefficients of the metamodel (intercept included)."""
    if structure == "tensor":
        return int(n_knots**n_inputs)
    return 1 + n_inputs * (n_knots - 1)


@dataclass(frozen=True)
class PenalisedSplineDesign:
    """Everything about the metamodel that depends on the inputs only: built once per
    parameter set and reused for every output regressed on it."""

    terms: tuple[_Term, ...]
    design: FloatArray
    q: FloatArray
    u: FloatArray
    to_beta: FloatArray
    penalties: tuple[FloatArray, ...]

    def fit(self, y: FloatArray) -> SplineFit:
        """Fit y with GCV-chosen smoothing parameters."""
        return _fit_design(self, y)


def spline_design(
    inputs: FloatArray, structure: GamStructure, n_knots: int
) -> PenalisedSplineDesign:
    """Basis, penalties and factorisations for a regression on the columns of ``inputs``."""
    n, d = inputs.shape
    groups: list[tuple[int, ...]] = (
        [tuple(range(d))] if structure == "tensor" else [(j,) for j in range(d)]
    )
    terms = tuple(_make_term(inputs, group, n_knots) for group in groups)
    blocks = [np.ones((n, 1))] + [t.basis(inputs) for t in terms]
    design = np.hstack(blocks)
    p = design.shape[1]
    penalties: list[FloatArray] = []
    offset = 1
    for term in terms:
        width = term.centring.shape[1]
        for s in term.penalties:
            full = np.zeros((p, p))
            full[offset : offset + width, offset : offset + width] = s
            penalties.append(full)
        offset += width
    q, r = linalg.qr(design, mode="economic")
    # Work in the coordinates gamma = Sigma V^T beta of the SVD R = U Sigma V^T, dropping
    # directions the data cannot identify: the penalised system becomes I + sum lambda_j S~_j,
    # positive definite and well conditioned for every lambda.
    u, sigma, vt = linalg.svd(r)
    keep = sigma > 1e-9 * sigma[0]
    u, sigma, vt = u[:, keep], sigma[keep], vt[keep]
    to_beta = vt.T / sigma[None, :]
    transformed = []
    for penalty in penalties:
        s_tilde = to_beta.T @ penalty @ to_beta
        s_tilde = 0.5 * (s_tilde + s_tilde.T)
        top = float(np.linalg.eigvalsh(s_tilde)[-1])
        if top > 0:
            transformed.append(s_tilde / top)
    return PenalisedSplineDesign(terms, design, q, u, to_beta, tuple(transformed))


def fit_penalised_spline(
    inputs: FloatArray, y: FloatArray, structure: GamStructure, n_knots: int
) -> SplineFit:
    """Fit y on the columns of ``inputs`` (n × d) with GCV-chosen smoothing parameters."""
    return spline_design(inputs, structure, n_knots).fit(y)


def _fit_design(spec: PenalisedSplineDesign, y: FloatArray) -> SplineFit:
    n = spec.design.shape[0]
    z = spec.q.T @ y
    rss_outside = float(np.sum((y - spec.q @ z) ** 2))
    z_kept = spec.u.T @ z
    rss_base = rss_outside + float(np.sum(z * z) - np.sum(z_kept * z_kept))
    transformed = list(spec.penalties)
    identity = np.eye(z_kept.size)

    def solve(log_lambdas: FloatArray) -> tuple[FloatArray, float, float]:
        system = identity.copy()
        for log_lambda, s_tilde in zip(log_lambdas, transformed, strict=True):
            system += np.exp(log_lambda) * s_tilde
        factor = linalg.cho_factor(system, lower=True, check_finite=False)
        gamma = linalg.cho_solve(factor, z_kept, check_finite=False)
        inverse_half = linalg.solve_triangular(factor[0], identity, lower=True, check_finite=False)
        trace = float(np.sum(inverse_half * inverse_half))
        rss = rss_base + float(np.sum((z_kept - gamma) ** 2))
        return gamma, trace, rss

    def gcv(log_lambdas: FloatArray) -> float:
        _, trace, rss = solve(log_lambdas)
        return n * rss / max(n - trace, 1e-8) ** 2

    def gcv_and_gradient(log_lambdas: FloatArray) -> tuple[float, FloatArray]:
        # d gamma / d rho_j = -A^-1 lambda_j S_j gamma; d tr(A^-1) / d rho_j =
        # -lambda_j tr(S_j A^-2) (Wood 2017, section 6.2 for the GCV derivatives).
        system = identity.copy()
        lambdas = np.exp(log_lambdas)
        for lam, s_tilde in zip(lambdas, transformed, strict=True):
            system += lam * s_tilde
        inverse = linalg.cho_solve(
            linalg.cho_factor(system, lower=True, check_finite=False), identity
        )
        gamma = inverse @ z_kept
        residual = z_kept - gamma
        trace = float(np.trace(inverse))
        rss = rss_base + float(residual @ residual)
        dof = max(n - trace, 1e-8)
        inverse_squared = inverse @ inverse
        weighted = inverse @ residual
        gradient = np.empty(lambdas.size)
        for j, (lam, s_tilde) in enumerate(zip(lambdas, transformed, strict=True)):
            d_rss = 2.0 * lam * float(weighted @ (s_tilde @ gamma))
            d_trace = -lam * float(np.sum(s_tilde * inverse_squared))
            gradient[j] = n * d_rss / dof**2 + 2.0 * n * rss / dof**3 * d_trace
        return n * rss / dof**2, gradient

    if transformed:
        # A common smoothing parameter on a coarse grid, then each one refined.
        grid = np.linspace(-20.0, 20.0, 41)
        scores = [gcv(np.full(len(transformed), g)) for g in grid]
        start = np.full(len(transformed), grid[int(np.argmin(scores))])
        if len(transformed) == 1:
            result = optimize.minimize_scalar(
                lambda v: gcv(np.array([v])),
                bounds=(start[0] - 1.0, start[0] + 1.0),
                method="bounded",
                options={"xatol": 1e-6},
            )
            best = np.array([result.x]) if result.fun <= min(scores) else start
        else:
            result = optimize.minimize(
                gcv_and_gradient,
                start,
                jac=True,
                method="L-BFGS-B",
                bounds=[_LOG_LAMBDA_BOUNDS] * len(transformed),
                options={"maxiter": 200},
            )
            best = result.x if result.fun <= min(scores) else start
    else:
        best = np.zeros(0)
    gamma, trace, rss = solve(best)
    beta = spec.to_beta @ gamma
    fitted = spec.design @ beta
    return SplineFit(
        terms=spec.terms,
        coefficients=beta,
        log_lambdas=best,
        effective_df=trace,
        gcv=n * rss / max(n - trace, 1e-8) ** 2,
        fitted=fitted,
    )
