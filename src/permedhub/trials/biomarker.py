"""Biomarker designs: targeted vs untargeted, marker-stratified (interaction), biomarker-strategy.

Model. Patients are truly marker-positive with probability ``prevalence``; an assay with
``sensitivity`` and ``specificity`` classifies them (test-positive rate, PPV and NPV follow by
Bayes' rule). ``CellOutcomes`` gives the outcome mean in each (true marker status x treatment)
cell, for a continuous endpoint (common within-cell SD) or a binary one (response rates).
Any population defined by a mixture of true marker status has, per treatment, the mixture mean
and the mixture variance (within-cell variance plus the variance of the cell means), so every
comparison below is a two-sample comparison of means sized with the normal approximation,
n per arm = (z_a + z_b)^2 (v_1 + v_2) / effect^2 (unpooled variances).

Designs (the biomarker families of the PERMIT scoping review, Superchi et al. 2022):

* ``targeted_vs_untargeted``: enrichment (randomise test-positive patients only) against
  randomise-all without a marker (Simon & Maitournam 2004, Clin Cancer Res 10:6759;
  Maitournam & Simon 2005, Stat Med 24:329): randomised and screened patients and their ratios.
  With a perfect assay, no benefit in marker-negative patients and a negligible effect relative
  to the SD, the untargeted design needs 1/prevalence^2 times as many randomised patients and
  1/prevalence times as many as the targeted design screens.
* ``marker_stratified_interaction``: randomise all, stratified by assay result; size for the
  treatment x marker interaction (difference of the two within-stratum effects).
* ``biomarker_strategy``: randomise between a marker-based strategy (test-positive ->
  experimental, test-negative -> control) and a non-marker strategy (all control, or
  randomised experimental/control). Without marker assessment in the non-marker arm the
  comparison is between arms; with assessment in both arms, the analysis can be restricted to
  the test-positive patients (the only ones treated differently when the non-marker arm gets
  control), which needs fewer randomised but more screened patients.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from scipy.special import ndtri

from permedhub.trials.errors import (
    TrialInputError,
    check_alpha,
    check_positive,
    check_probability,
    require,
)

EndpointKind = Literal["continuous", "binary"]


def _check_unit_closed(field_name: str, value: float) -> float:
    """A probability in (0, 1] (assay accuracy may be perfect)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not 0.0 < number <= 1.0:
        raise TrialInputError(field_name, value, "a probability in (0, 1]")
    return number


@dataclass(frozen=True)
class Assay:
    """True marker prevalence and the assay's accuracy."""

    prevalence: float
    sensitivity: float = 1.0
    specificity: float = 1.0

    def __post_init__(self) -> None:
        check_probability("prevalence", self.prevalence)
        _check_unit_closed("sensitivity", self.sensitivity)
        _check_unit_closed("specificity", self.specificity)
        if self.sensitivity + self.specificity <= 1.0:
            raise TrialInputError(
                "specificity", self.specificity, "sensitivity + specificity > 1 (informative)"
            )

    @property
    def test_positive_rate(self) -> float:
        return self.prevalence * self.sensitivity + (1 - self.prevalence) * (1 - self.specificity)

    @property
    def ppv(self) -> float:
        """P(marker-positive | test-positive)."""
        return self.prevalence * self.sensitivity / self.test_positive_rate

    @property
    def false_omission(self) -> float:
        """P(marker-positive | test-negative) = 1 - NPV."""
        negative = 1.0 - self.test_positive_rate
        return self.prevalence * (1 - self.sensitivity) / negative if negative > 0 else 0.0


@dataclass(frozen=True)
class CellOutcomes:
    """Outcome means by true marker status and treatment (and the within-cell SD).

    Build with `continuous_outcomes` or `binary_outcomes`.
    """

    endpoint: EndpointKind
    control_pos: float
    control_neg: float
    treatment_pos: float
    treatment_neg: float
    sd: float | None = None

    def _variance(self, mean: float) -> float:
        if self.endpoint == "binary":
            return mean * (1.0 - mean)
        assert self.sd is not None
        return self.sd**2

    def moments(self, weight_pos: float, treated: bool) -> tuple[float, float]:
        """Mean and variance of the outcome in a population with P(marker+) = weight_pos."""
        pos, neg = (
            (self.treatment_pos, self.treatment_neg)
            if treated
            else (self.control_pos, self.control_neg)
        )
        mean = weight_pos * pos + (1 - weight_pos) * neg
        within = weight_pos * self._variance(pos) + (1 - weight_pos) * self._variance(neg)
        between = weight_pos * (1 - weight_pos) * (pos - neg) ** 2
        return mean, within + between

    def strategy_moments(
        self, share_treated: float, weight_pos_treated: float, weight_pos_control: float
    ) -> tuple[float, float]:
        """Mean and variance of an arm where a share gets treatment (with its own marker mix)
        and the rest control (with theirs)."""
        m1, v1 = self.moments(weight_pos_treated, True)
        m0, v0 = self.moments(weight_pos_control, False)
        mean = share_treated * m1 + (1 - share_treated) * m0
        variance = (
            share_treated * v1
            + (1 - share_treated) * v0
            + share_treated * (1 - share_treated) * (m1 - m0) ** 2
        )
        return mean, variance


def continuous_outcomes(
    effect_pos: float,
    effect_neg: float,
    sd: float,
    control_mean_pos: float = 0.0,
    control_mean_neg: float = 0.0,
) -> CellOutcomes:
    """Continuous endpoint: treatment effects in marker+ / marker- patients and common SD."""
    for name, value in (
        ("effect_pos", effect_pos),
        ("effect_neg", effect_neg),
        ("control_mean_pos", control_mean_pos),
        ("control_mean_neg", control_mean_neg),
    ):
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise TrialInputError(name, value, "a finite number")
    check_positive("sd", sd)
    return CellOutcomes(
        "continuous",
        control_mean_pos,
        control_mean_neg,
        control_mean_pos + effect_pos,
        control_mean_neg + effect_neg,
        sd,
    )


def cell_outcomes(
    endpoint: EndpointKind,
    *,
    effect_pos: float | None = None,
    effect_neg: float | None = None,
    sd: float | None = None,
    p_control_pos: float | None = None,
    p_control_neg: float | None = None,
    p_treatment_pos: float | None = None,
    p_treatment_neg: float | None = None,
) -> CellOutcomes:
    """The cell outcomes of `endpoint` from the inputs it reads (the others are ignored); a
    missing one is named. The portal and the CLI both call this."""
    needed_for = f"the {endpoint} endpoint"
    if endpoint == "continuous":
        return continuous_outcomes(
            require("effect_pos", effect_pos, needed_for),
            require("effect_neg", effect_neg, needed_for),
            require("sd", sd, needed_for),
        )
    if endpoint == "binary":
        return binary_outcomes(
            require("p_control_pos", p_control_pos, needed_for),
            require("p_control_neg", p_control_neg, needed_for),
            require("p_treatment_pos", p_treatment_pos, needed_for),
            require("p_treatment_neg", p_treatment_neg, needed_for),
        )
    raise TrialInputError("endpoint", endpoint, "continuous or binary")


def binary_outcomes(
    p_control_pos: float, p_control_neg: float, p_treatment_pos: float, p_treatment_neg: float
) -> CellOutcomes:
    """Binary endpoint: response rates by marker status under control and treatment."""
    for name, value in (
        ("p_control_pos", p_control_pos),
        ("p_control_neg", p_control_neg),
        ("p_treatment_pos", p_treatment_pos),
        ("p_treatment_neg", p_treatment_neg),
    ):
        check_probability(name, value)
    return CellOutcomes("binary", p_control_pos, p_control_neg, p_treatment_pos, p_treatment_neg)


@dataclass(frozen=True)
class BiomarkerDesign:
    """Size of one biomarker design (patients are totals over arms)."""

    design: str
    effect: float  # the effect the primary comparison estimates
    n_randomised: int
    # expected patients screened: marker-assessed, or (untargeted) assessed for eligibility
    n_screened: float
    n_randomised_exact: float
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "design": self.design,
            "effect": self.effect,
            "n_randomised": self.n_randomised,
            "n_screened": self.n_screened,
            "n_randomised_exact": self.n_randomised_exact,
            "details": self.details,
        }


@dataclass(frozen=True)
class TargetedComparison:
    """Targeted (enrichment) vs untargeted (randomise-all) design."""

    targeted: BiomarkerDesign
    untargeted: BiomarkerDesign

    @property
    def ratio_randomised(self) -> float:
        """Randomised patients: untargeted / targeted (> 1 favours targeting)."""
        return self.untargeted.n_randomised_exact / self.targeted.n_randomised_exact

    @property
    def ratio_screened(self) -> float:
        """Untargeted randomised (= screened for eligibility) / targeted screened."""
        return self.untargeted.n_randomised_exact / self.targeted.n_screened

    def to_dict(self) -> dict[str, Any]:
        return {
            "targeted": self.targeted.to_dict(),
            "untargeted": self.untargeted.to_dict(),
            "ratio_randomised": self.ratio_randomised,
            "ratio_screened": self.ratio_screened,
        }


def _z_sum(alpha: float, beta: float, sided: int) -> float:
    check_alpha("alpha", alpha)
    check_probability("beta", beta)
    if sided not in (1, 2):
        raise TrialInputError("sided", sided, "1 or 2")
    if 1 - beta <= alpha / sided:
        raise TrialInputError("beta", beta, f"power 1 - beta above {alpha / sided:g}")
    return float(ndtri(1 - alpha / sided) + ndtri(1 - beta))


def _per_arm(z_sum: float, variance_sum: float, effect: float, field_name: str) -> float:
    if abs(effect) < 1e-12:
        raise TrialInputError(field_name, effect, "a non-zero effect in the compared population")
    return z_sum**2 * variance_sum / effect**2


def _two_arm_total(per_arm: float) -> tuple[int, float]:
    return 2 * math.ceil(per_arm - 1e-9), 2 * per_arm


def targeted_vs_untargeted(
    outcomes: CellOutcomes,
    assay: Assay,
    alpha: float = 0.05,
    beta: float = 0.2,
    sided: int = 2,
) -> TargetedComparison:
    """Randomised and screened patients of the targeted and the untargeted design."""
    z = _z_sum(alpha, beta, sided)
    # Targeted: the test-positive population (marker+ with probability PPV).
    m1, v1 = outcomes.moments(assay.ppv, True)
    m0, v0 = outcomes.moments(assay.ppv, False)
    targeted_arm = _per_arm(z, v1 + v0, m1 - m0, "effect in test-positive patients")
    n_t, exact_t = _two_arm_total(targeted_arm)
    targeted = BiomarkerDesign(
        design="targeted (enrichment)",
        effect=m1 - m0,
        n_randomised=n_t,
        n_screened=exact_t / assay.test_positive_rate,
        n_randomised_exact=exact_t,
        details={"test_positive_rate": assay.test_positive_rate, "ppv": assay.ppv},
    )
    u1, w1 = outcomes.moments(assay.prevalence, True)
    u0, w0 = outcomes.moments(assay.prevalence, False)
    untargeted_arm = _per_arm(z, w1 + w0, u1 - u0, "overall effect")
    n_u, exact_u = _two_arm_total(untargeted_arm)
    untargeted = BiomarkerDesign(
        design="untargeted (randomise all)",
        effect=u1 - u0,
        n_randomised=n_u,
        n_screened=exact_u,
        n_randomised_exact=exact_u,
        details={"prevalence": assay.prevalence},
    )
    return TargetedComparison(targeted=targeted, untargeted=untargeted)


def marker_stratified_interaction(
    outcomes: CellOutcomes,
    assay: Assay,
    alpha: float = 0.05,
    beta: float = 0.2,
    sided: int = 2,
) -> BiomarkerDesign:
    """Randomise all 1:1 within assay strata; size the treatment x marker interaction test.

    The interaction is (effect in test+) - (effect in test-); its variance with N patients is
    (v1+ + v0+) * 2 / (N pi) + (v1- + v0-) * 2 / (N (1 - pi)), pi = test-positive rate.
    """
    z = _z_sum(alpha, beta, sided)
    pi = assay.test_positive_rate
    if not 0 < pi < 1:
        raise TrialInputError("specificity", assay.specificity, "an assay with both results")
    p1, a1 = outcomes.moments(assay.ppv, True)
    p0, a0 = outcomes.moments(assay.ppv, False)
    n1, b1 = outcomes.moments(assay.false_omission, True)
    n0, b0 = outcomes.moments(assay.false_omission, False)
    interaction = (p1 - p0) - (n1 - n0)
    variance_per_patient = 2 * (a1 + a0) / pi + 2 * (b1 + b0) / (1 - pi)
    if abs(interaction) < 1e-12:
        raise TrialInputError("effect_neg", outcomes.treatment_neg, "an effect differing by marker")
    total = z**2 * variance_per_patient / interaction**2
    # Round so that each stratum-arm cell gets a whole number of patients (expected sizes).
    n_total = math.ceil(total - 1e-9)
    return BiomarkerDesign(
        design="marker-stratified (interaction)",
        effect=interaction,
        n_randomised=n_total,
        n_screened=total,
        n_randomised_exact=total,
        details={
            "effect_test_positive": p1 - p0,
            "effect_test_negative": n1 - n0,
            "expected_test_positive": total * pi,
            "expected_test_negative": total * (1 - pi),
            "attenuation": assay.ppv - assay.false_omission,
        },
    )


def biomarker_strategy(
    outcomes: CellOutcomes,
    assay: Assay,
    alpha: float = 0.05,
    beta: float = 0.2,
    sided: int = 2,
    non_marker_arm: Literal["control", "randomised"] = "control",
    marker_in_control: bool = False,
) -> BiomarkerDesign:
    """Marker-based strategy arm vs non-marker arm, 1:1.

    ``non_marker_arm``: ``control`` (everyone gets control) or ``randomised`` (experimental or
    control 1:1 regardless of marker). ``marker_in_control``: the marker is also assessed in
    the non-marker arm; with ``non_marker_arm="control"`` the primary comparison is then
    restricted to test-positive patients.
    """
    if non_marker_arm not in ("control", "randomised"):
        raise TrialInputError("non_marker_arm", non_marker_arm, "'control' or 'randomised'")
    z = _z_sum(alpha, beta, sided)
    pi = assay.test_positive_rate
    if marker_in_control and non_marker_arm == "control":
        m1, v1 = outcomes.moments(assay.ppv, True)
        m0, v0 = outcomes.moments(assay.ppv, False)
        per_arm_positive = _per_arm(z, v1 + v0, m1 - m0, "effect in test-positive patients")
        exact = 2 * per_arm_positive / pi
        return BiomarkerDesign(
            design="biomarker-strategy, marker assessed in both arms (test-positive analysis)",
            effect=m1 - m0,
            n_randomised=2 * math.ceil(exact / 2 - 1e-9),
            n_screened=exact,
            n_randomised_exact=exact,
            details={"test_positive_rate": pi, "analysed_per_arm": per_arm_positive},
        )
    strategy_mean, strategy_var = outcomes.strategy_moments(pi, assay.ppv, assay.false_omission)
    if non_marker_arm == "control":
        other_mean, other_var = outcomes.moments(assay.prevalence, False)
    else:
        other_mean, other_var = outcomes.strategy_moments(0.5, assay.prevalence, assay.prevalence)
    per_arm = _per_arm(z, strategy_var + other_var, strategy_mean - other_mean, "strategy effect")
    n_total, exact = _two_arm_total(per_arm)
    return BiomarkerDesign(
        design=f"biomarker-strategy vs {non_marker_arm}"
        + (", marker assessed in both arms" if marker_in_control else ""),
        effect=strategy_mean - other_mean,
        n_randomised=n_total,
        n_screened=exact if marker_in_control else exact / 2,
        n_randomised_exact=exact,
        details={"test_positive_rate": pi},
    )


@dataclass(frozen=True)
class BiomarkerComparison:
    """Every biomarker design family sized for one set of cell outcomes and one assay."""

    assay: Assay
    targeted: TargetedComparison
    designs: tuple[BiomarkerDesign, ...]
    # Designs that cannot be sized for these outcomes, with the reason (e.g. no interaction).
    not_applicable: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "test_positive_rate": self.assay.test_positive_rate,
            "ppv": self.assay.ppv,
            "ratio_randomised": self.targeted.ratio_randomised,
            "ratio_screened": self.targeted.ratio_screened,
            "designs": [d.to_dict() for d in self.designs],
            "not_applicable": list(self.not_applicable),
        }


def compare_designs(
    outcomes: CellOutcomes,
    assay: Assay,
    alpha: float = 0.05,
    beta: float = 0.2,
    sided: int = 2,
) -> BiomarkerComparison:
    """Targeted vs untargeted, marker-stratified (interaction) and the three biomarker-strategy
    variants side by side; a design these outcomes cannot size is listed with its reason."""
    targeted = targeted_vs_untargeted(outcomes, assay, alpha, beta, sided)
    designs = [targeted.targeted, targeted.untargeted]
    others: list[Callable[[], BiomarkerDesign]] = [
        lambda: marker_stratified_interaction(outcomes, assay, alpha, beta, sided),
        lambda: biomarker_strategy(outcomes, assay, alpha, beta, sided, "control"),
        lambda: biomarker_strategy(outcomes, assay, alpha, beta, sided, "randomised"),
        lambda: biomarker_strategy(
            outcomes, assay, alpha, beta, sided, "control", marker_in_control=True
        ),
    ]
    skipped = []
    for make in others:
        try:
            designs.append(make())
        except TrialInputError as error:
            skipped.append(str(error))
    return BiomarkerComparison(assay, targeted, tuple(designs), tuple(skipped))
