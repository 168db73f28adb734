"""The PERMIT checklist: which verified PERMIT items a trial protocol addresses.

The items live in ``data/permit_checklist.yaml`` (its header says what was and was not verified
in the publications). A protocol is a YAML document::

    title: My trial
    stages: [clinical-trial]          # preclinical and/or clinical-trial
    design:
      kind: gsd                       # gsd | fixed | simon | biomarker-targeted |
                                      # biomarker-stratified | biomarker-strategy | basket |
                                      # platform | adaptive-enrichment | other
      core_category: enrichment       # optional (derived from kind where possible)
      biomarker_assessment: entire-population   # or not-in-control-arm (optional)
      parameters: {looks: 3, boundary: ld-obf, alpha: 0.025, beta: 0.1}
    addressed:
      - id: FOSSE2023-R7
        evidence: "Data sharing plan, protocol section 12"

`evaluate_protocol` reports every item as ``addressed`` (declared, with evidence),
``satisfied-by-design`` (the design's own computed results meet it: e.g. the sample size comes
from a calculation, a group-sequential design spends exactly alpha), ``not-addressed`` or
``not-applicable`` (item for a stage the protocol does not cover).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from permedhub.trials import fixed, gsd, simon
from permedhub.trials.documents import read_document
from permedhub.trials.errors import TrialInputError

Stage = Literal["preclinical", "clinical-trial"]
CoreCategory = Literal["master-protocol", "randomise-all", "biomarker-strategy", "enrichment"]
DesignKind = Literal[
    "gsd",
    "fixed",
    "simon",
    "biomarker-targeted",
    "biomarker-stratified",
    "biomarker-strategy",
    "basket",
    "platform",
    "adaptive-enrichment",
    "other",
]
AutoRule = Literal[
    "sample_size_calculation", "core_category", "biomarker_assessment",
    "interim_analysis_error_control",
]  # fmt: skip
_CLINICAL_TRIAL: Stage = "clinical-trial"
Status = Literal["addressed", "satisfied-by-design", "not-addressed", "not-applicable"]

# Superchi et al. (2022) core categories of the designs this library computes or simulates.
_CATEGORY_OF_KIND: dict[str, CoreCategory] = {
    "biomarker-targeted": "enrichment",
    "adaptive-enrichment": "enrichment",
    "biomarker-stratified": "randomise-all",
    "biomarker-strategy": "biomarker-strategy",
    "basket": "master-protocol",
    "platform": "master-protocol",
}


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")
    citation: str
    doi: str


class ChecklistItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    source: str
    locator: str
    kind: Literal["recommendation", "classification", "scope"]
    stage: Literal["preclinical", "clinical-trial", "all"]
    verified: Literal["text", "abstract"]
    text: str
    auto: AutoRule | None = None


class Checklist(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sources: dict[str, Source]
    items: list[ChecklistItem]


class AddressedItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    evidence: str = Field(min_length=1)


class DesignSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: DesignKind
    core_category: CoreCategory | None = None
    biomarker_assessment: Literal["entire-population", "not-in-control-arm"] | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)


class Protocol(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    stages: list[Stage] = Field(default_factory=lambda: [_CLINICAL_TRIAL], min_length=1)
    design: DesignSpec | None = None
    addressed: list[AddressedItem] = Field(default_factory=list)


@dataclass(frozen=True)
class ItemResult:
    id: str
    status: Status
    text: str
    citation: str
    locator: str
    evidence: str | None = None
    design_evidence: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ChecklistReport:
    title: str
    items: list[ItemResult]
    design_summary: dict[str, Any] | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "counts": self.counts,
            "design": self.design_summary,
            "items": [item.to_dict() for item in self.items],
        }


def _validation_error(error: ValidationError, prefix: str) -> TrialInputError:
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"])
    name = f"{prefix}.{location}" if location else prefix
    return TrialInputError(name, first.get("input"), first["msg"])


def load_checklist() -> Checklist:
    """The packaged PERMIT checklist."""
    text = resources.files("permedhub.trials").joinpath("data/permit_checklist.yaml").read_text()
    return Checklist.model_validate(yaml.safe_load(text))


def load_protocol(path: str | Path) -> Protocol:
    """Read and validate a protocol YAML file."""
    return parse_protocol(read_document(path, "protocol"))


def parse_protocol(data: Any) -> Protocol:
    """Validate a protocol given as a mapping."""
    try:
        return Protocol.model_validate(data)
    except ValidationError as error:
        raise _validation_error(error, "protocol") from None


def _computed_design(spec: DesignSpec) -> tuple[dict[str, Any] | None, str | None, str | None]:
    """Compute the design from its parameters: (summary, sample-size evidence, alpha evidence)."""
    params = dict(spec.parameters)
    try:
        if spec.kind == "gsd":
            design = gsd.design_gsd(**params)
            size = (
                f"group-sequential {design.boundary} design with {design.looks} looks: maximum "
                f"information {design.inflation_factor:.4f} x the fixed design for power "
                f"{1 - design.beta:g} (computed)"
            )
            alpha = (
                f"interim analyses with early stopping; cumulative type I error at the final look "
                f"{design.cumulative_alpha_spent[-1]:.6f} = alpha {design.alpha:g} (computed by "
                f"numerical integration)"
            )
            return design.to_dict(), size, alpha
        if spec.kind == "simon":
            result = simon.simon_two_stage(**params)
            o = result.optimal
            size = (
                f"Simon optimal design {o.r1}/{o.n1}, {o.r}/{o.n}: exact alpha {o.alpha:.4f}, "
                f"power {o.power:.4f} (computed by exact enumeration)"
            )
            return result.to_dict(), size, None
        if spec.kind == "fixed":
            endpoint = params.pop("endpoint", None)
            if endpoint == "binary":
                fixed_design = fixed.binary_sample_size(**params)
            elif endpoint == "continuous":
                fixed_design = fixed.continuous_sample_size(**params)
            elif endpoint == "survival":
                median = params.pop("median_control", None)
                if median is None:
                    raise TrialInputError(
                        "design.parameters.median_control", None, "a median for survival designs"
                    )
                params["control_hazard"] = fixed.PiecewiseExponential.from_median(median)
                fixed_design = fixed.survival_sample_size(**params)
            else:
                raise TrialInputError(
                    "design.parameters.endpoint", endpoint, "binary, continuous or survival"
                )
            size = (
                f"fixed {endpoint} design: {fixed_design.n_control} + {fixed_design.n_treatment} "
                f"patients, power {fixed_design.power:.4f} (computed)"
            )
            return fixed_design.to_dict(), size, None
    except TypeError as error:
        raise TrialInputError(
            "design.parameters", spec.parameters, f"valid arguments ({error})"
        ) from None
    return None, None, None


def _auto_evidence(
    rule: AutoRule | None,
    spec: DesignSpec | None,
    size_evidence: str | None,
    alpha_evidence: str | None,
) -> str | None:
    if rule is None or spec is None:
        return None
    if rule == "sample_size_calculation":
        return size_evidence
    if rule == "interim_analysis_error_control":
        return alpha_evidence
    if rule == "core_category":
        if spec.core_category is not None:
            return f"core category declared: {spec.core_category}"
        derived = _CATEGORY_OF_KIND.get(spec.kind)
        return f"core category {derived} (design kind {spec.kind})" if derived else None
    # biomarker_assessment
    if spec.biomarker_assessment is not None:
        return f"biomarker assessment declared: {spec.biomarker_assessment}"
    if spec.kind == "biomarker-strategy" and "marker_in_control" in spec.parameters:
        where = (
            "entire-population" if spec.parameters["marker_in_control"] else "not-in-control-arm"
        )
        return f"biomarker assessment {where} (design parameter marker_in_control)"
    return None


def evaluate_protocol(protocol: Protocol, checklist: Checklist | None = None) -> ChecklistReport:
    """Classify every checklist item for this protocol."""
    items = checklist or load_checklist()
    known = {item.id for item in items.items}
    declared: dict[str, str] = {}
    for index, entry in enumerate(protocol.addressed):
        if entry.id not in known:
            raise TrialInputError(
                f"addressed[{index}].id", entry.id, "an item id of the PERMIT checklist"
            )
        declared[entry.id] = entry.evidence
    summary, size_evidence, alpha_evidence = (
        _computed_design(protocol.design) if protocol.design else (None, None, None)
    )
    results = []
    for item in items.items:
        source = items.sources[item.source]
        citation = f"{source.citation} doi:{source.doi}"
        applicable = item.stage == "all" or item.stage in protocol.stages
        design_evidence = _auto_evidence(item.auto, protocol.design, size_evidence, alpha_evidence)
        status: Status
        if not applicable:
            status = "not-applicable"
        elif item.id in declared:
            status = "addressed"
        elif design_evidence is not None:
            status = "satisfied-by-design"
        else:
            status = "not-addressed"
        results.append(
            ItemResult(
                id=item.id,
                status=status,
                text=item.text,
                citation=citation,
                locator=item.locator,
                evidence=declared.get(item.id),
                design_evidence=design_evidence if applicable else None,
            )
        )
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    return ChecklistReport(
        title=protocol.title, items=results, design_summary=summary, counts=counts
    )
