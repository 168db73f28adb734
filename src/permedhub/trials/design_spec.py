"""Design documents: the YAML/JSON schema of a simulated trial design (Pydantic).

A document names its design family in `design:` (a discriminated union) and lists one or more
scenarios (true parameter values) to simulate; every scenario becomes one column of results
and one point of the report's power curves. Example::

    design: adaptive_enrichment
    endpoint: normal
    stage_sample_sizes: [150, 150]
    prevalences: [0.4, 0.6]
    intersection_test: simes
    selection: epsilon
    epsilon: 0.1
    scenarios:
      - {name: global null, effect_s: 0.0, effect_r: 0.0}
      - {name: effect in S, effect_s: 0.4, effect_r: 0.1}

Field ranges are checked here (Pydantic) and again, with the field named, when the library's
design objects are built (`TrialInputError`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from permedhub.trials.documents import read_document
from permedhub.trials.errors import TrialInputError, validation_problems

Probability = Annotated[float, Field(gt=0.0, lt=1.0)]
Alpha = Annotated[float, Field(gt=0.0, lt=0.5)]
PositiveInt = Annotated[int, Field(ge=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NormalEnrichmentScenario(_Strict):
    name: str = ""
    effect_s: float
    effect_r: float
    sd_s: Annotated[float, Field(gt=0.0)] = 1.0
    sd_r: Annotated[float, Field(gt=0.0)] = 1.0


class BinaryEnrichmentScenario(_Strict):
    name: str = ""
    control_s: Probability
    treatment_s: Probability
    control_r: Probability
    treatment_r: Probability


class SsrSpec(_Strict):
    target_conditional_power: Probability = 0.8
    min_stage_size: PositiveInt = 1
    max_stage_size: PositiveInt = 1000


class PatientLevelSpec(_Strict):
    dropout: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    accrual_rate: Annotated[float, Field(gt=0.0)] | None = None
    covariate_effect: float = 0.0
    covariate_adjustment: bool = False
    variance: Literal["known", "estimated"] = "known"


class EnrichmentSpec(_Strict):
    design: Literal["adaptive_enrichment"]
    title: str = "Adaptive enrichment design"
    endpoint: Literal["normal", "binary"] = "normal"
    stage_sample_sizes: Annotated[list[Annotated[int, Field(ge=2)]], Field(min_length=2)]
    prevalences: Annotated[list[Probability], Field(min_length=2, max_length=2)]
    alpha: Alpha = 0.025
    boundary: Literal["no_early_efficacy", "obf", "pocock", "ld-obf", "ld-pocock"] = (
        "no_early_efficacy"
    )
    critical_values: list[float] | None = None
    futility_bounds: list[float] | None = None
    weights: list[Annotated[float, Field(gt=0.0)]] | None = None
    intersection_test: Literal["simes", "bonferroni", "spiessens_debois"] = "simes"
    selection: Literal["best", "epsilon", "threshold", "all"] = "epsilon"
    epsilon: Annotated[float, Field(ge=0.0)] = 0.0
    threshold: float = -math.inf
    effect_measure: Literal["standardised_effect", "test_statistic"] = "standardised_effect"
    stratified: bool = True
    subgroup_sizes: Literal["binomial", "expected"] = "binomial"
    success_criterion: Literal["all", "at_least_one"] = "all"
    ssr: SsrSpec | None = None
    patient_level: PatientLevelSpec = PatientLevelSpec()
    scenarios: Annotated[
        list[NormalEnrichmentScenario | BinaryEnrichmentScenario], Field(min_length=1)
    ]

    @model_validator(mode="after")
    def _consistent(self) -> EnrichmentSpec:
        if abs(sum(self.prevalences) - 1.0) > 1e-9:
            raise TrialInputError("prevalences", self.prevalences, "values summing to 1")
        expected = (
            BinaryEnrichmentScenario if self.endpoint == "binary" else (NormalEnrichmentScenario)
        )
        for index, scenario in enumerate(self.scenarios):
            if not isinstance(scenario, expected):
                raise TrialInputError(
                    f"scenarios[{index}]", scenario.model_dump(),
                    f"the fields of a {self.endpoint} scenario",
                )  # fmt: skip
        return self


class BhmPriorSpec(_Strict):
    mu_mean: float = 0.0
    mu_var: Annotated[float, Field(gt=0.0)] = 100.0
    shape: Annotated[float, Field(gt=0.0)] = 0.0005
    scale: Annotated[float, Field(gt=0.0)] = 0.000005


class BasketScenario(_Strict):
    name: str = ""
    response_rates: Annotated[list[Probability], Field(min_length=1)]


class BasketSpec(_Strict):
    design: Literal["basket"]
    title: str = "Basket trial"
    method: Literal["fujikawa", "power_prior", "bhm", "independent"] = "fujikawa"
    p0: Probability
    n: PositiveInt | None = None
    n1: PositiveInt | None = None
    lambda_: Annotated[Probability, Field(alias="lambda")] = 0.99
    calibrate_lambda_to_fwer: Alpha | None = None
    epsilon: Annotated[float, Field(ge=0.0)] = 2.0
    tau: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    logbase: Annotated[float, Field(gt=1.0)] = math.e
    shape1: Annotated[float, Field(gt=0.0)] = 1.0
    shape2: Annotated[float, Field(gt=0.0)] = 1.0
    interim: Literal["postpred", "posterior"] = "postpred"
    futility: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.1
    efficacy: Annotated[float, Field(gt=0.0, le=1.0)] = 0.9
    threshold: Probability = 0.975
    prior: BhmPriorSpec = BhmPriorSpec()
    p1: Probability | None = None
    alpha: Alpha = 0.05
    beta: Probability = 0.2
    criterion: Literal["optimal", "minimax", "single_stage"] = "optimal"
    # fujikawa / power_prior: exact enumeration, or Monte-Carlo for designs too large for it
    computation: Literal["exact", "simulated"] = "exact"
    scenarios: Annotated[list[BasketScenario], Field(min_length=1)]

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _consistent(self) -> BasketSpec:
        if self.method == "independent":
            if self.p1 is None or self.p1 <= self.p0:
                raise TrialInputError("p1", self.p1, f"a response rate above p0 = {self.p0}")
        elif self.n is None:
            raise TrialInputError("n", None, f"patients per basket for method {self.method}")
        return self


class PlatformScenarioSpec(_Strict):
    name: str = ""
    arm_means: Annotated[list[float], Field(min_length=1)]
    control_mean: float = 0.0
    sd: Annotated[float, Field(gt=0.0)] = 1.0


class PlatformSpec(_Strict):
    design: Literal["platform"]
    title: str = "Multi-arm multi-stage platform trial"
    arms: Annotated[int, Field(ge=1, le=50)]
    stage_sizes_per_arm: Annotated[list[PositiveInt], Field(min_length=1)]
    alpha: Alpha = 0.025
    endpoint: Literal["normal", "binary"] = "normal"
    multiplicity: Literal["dunnett", "bonferroni", "none"] = "dunnett"
    boundary_shape: Literal["pocock", "obf"] = "obf"
    futility_bounds: list[float] | None = None
    efficacy_bounds: list[float] | None = None
    control_ratio: Annotated[float, Field(gt=0.0)] = 1.0
    arm_entry_stages: list[Annotated[int, Field(ge=0)]] | None = None
    scenarios: Annotated[list[PlatformScenarioSpec], Field(min_length=1)]


DesignSpec = Annotated[EnrichmentSpec | BasketSpec | PlatformSpec, Field(discriminator="design")]


class DesignDocument(BaseModel):
    """Wrapper that validates any design document by its `design:` discriminator."""

    spec: DesignSpec


def parse_design(data: Any) -> EnrichmentSpec | BasketSpec | PlatformSpec:
    """Validate a design document already loaded into Python objects."""
    if not isinstance(data, dict) or "design" not in data:
        raise TrialInputError(
            "design", data if not isinstance(data, dict) else None,
            "a mapping with design: adaptive_enrichment | basket | platform",
        )  # fmt: skip
    return DesignDocument.model_validate({"spec": data}).spec


def design_problems(error: ValidationError) -> list[str]:
    """The problems `parse_design` found, located as the document writes them: without the
    wrapper's field and the `design:` tag that start every Pydantic location."""
    return validation_problems(error, skip=2)


def load_design(path: str | Path) -> EnrichmentSpec | BasketSpec | PlatformSpec:
    """Read and validate a YAML (.yaml/.yml) or JSON design document."""
    return parse_design(read_document(path, "design file"))
