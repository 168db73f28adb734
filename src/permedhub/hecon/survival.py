"""Parametric survival distributions, vectorised over PSA draws.

Parameterisations follow R's ``flexsurv``:

==============  ===========================================  ==========================
exponential     S(t) = exp(-rate t)                          rate > 0
weibull         S(t) = exp(-(t / scale)^shape)               shape, scale > 0
gompertz        S(t) = exp(-(rate / shape)(exp(shape t) - 1)) rate > 0, shape != 0
                (shape = 0 is the exponential)
loglogistic     S(t) = 1 / (1 + (t / scale)^shape)           shape, scale > 0
lognormal       S(t) = 1 - Phi((ln t - meanlog) / sdlog)      sdlog > 0
==============  ===========================================  ==========================

Parameters may be scalars or arrays over draws; ``survival(t)`` returns shape (draws, times).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.special import ndtr

from permedhub.hecon.errors import DistributionError

Kind = Literal["exponential", "weibull", "gompertz", "loglogistic", "lognormal"]
_PARAMS: dict[str, tuple[str, ...]] = {
    "exponential": ("rate",),
    "weibull": ("shape", "scale"),
    "gompertz": ("shape", "rate"),
    "loglogistic": ("shape", "scale"),
    "lognormal": ("meanlog", "sdlog"),
}
_POSITIVE = {"rate", "scale", "sdlog"}


@dataclass(frozen=True)
class Survival:
    """A parametric survival curve; `params` maps parameter names to scalars or arrays."""

    kind: Kind
    params: dict[str, float | np.ndarray]
    name: str = "survival"

    def __post_init__(self) -> None:
        if self.kind not in _PARAMS:
            raise DistributionError(
                f"{self.name}: unknown survival distribution {self.kind!r}; expected one of "
                + ", ".join(_PARAMS)
            )
        expected = set(_PARAMS[self.kind])
        if set(self.params) != expected:
            raise DistributionError(
                f"{self.name}: {self.kind} needs parameters {sorted(expected)}, got "
                f"{sorted(self.params)}"
            )
        for key, value in self.params.items():
            v = np.asarray(value, dtype=float)
            if not np.all(np.isfinite(v)):
                raise DistributionError(f"{self.name}: {key} must be finite")
            positive = key in _POSITIVE or (key == "shape" and self.kind != "gompertz")
            if positive and np.any(v <= 0):
                raise DistributionError(f"{self.name}: {key} must be > 0, got {v.min()}")

    def _p(self, key: str) -> np.ndarray:
        return np.asarray(self.params[key], dtype=float).reshape(-1, 1)

    def survival(self, t: np.ndarray) -> np.ndarray:
        """S(t) for times `t` (years), shape (draws, len(t))."""
        t = np.asarray(t, dtype=float).reshape(1, -1)
        with np.errstate(divide="ignore"):
            if self.kind == "exponential":
                out = np.exp(-self._p("rate") * t)
            elif self.kind == "weibull":
                out = np.exp(-((t / self._p("scale")) ** self._p("shape")))
            elif self.kind == "gompertz":
                shape, rate = self._p("shape"), self._p("rate")
                safe = np.where(shape == 0, 1.0, shape)
                out = np.where(
                    shape == 0, np.exp(-rate * t), np.exp(-rate / safe * np.expm1(safe * t))
                )
            elif self.kind == "loglogistic":
                out = 1 / (1 + (t / self._p("scale")) ** self._p("shape"))
            else:
                z = (np.log(np.where(t > 0, t, 1.0)) - self._p("meanlog")) / self._p("sdlog")
                out = np.where(t > 0, 1 - ndtr(z), 1.0)
        return np.asarray(out, dtype=float)
