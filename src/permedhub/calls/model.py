"""The call document and the proposals: Pydantic schemas, validated like every import.

A call is data: its stages, its funders with their national budgets and rules, its consortium
rules, its evaluation criteria and its funding mode. The rules are a closed vocabulary of
named rules (the fields of `FunderRules` and `ConsortiumRules`), each evaluated by the one
engine in `permedhub.calls.eligibility`, so a new call needs a new document, not new code.
An unknown rule name is an error naming the rule and the known ones.

Amounts are EUR with at most two decimals, kept as `Decimal` so sums are exact; the engines
work on integer cents.
"""

from __future__ import annotations

import itertools
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    field_validator,
    model_validator,
)

from permedhub.calls.countries import Programme
from permedhub.calls.errors import CallInputError
from permedhub.graph.geography import known_codes, normalise_country_code
from permedhub.graph.schemas import ID_PATTERN, OrganisationKind

# Proposal ids are the applicants' or the submission tool's: upper case is allowed.
PROPOSAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
FundingMode = Literal["virtual", "real", "mixed"]
TIE_BREAK_HELP = "'criterion:<criterion id>' (higher first) or 'lower_request' (smaller first)"


def _amount(value: Any) -> Any:
    """EUR as a number or a plain decimal string ("250000", "1234.5"); not a bool, not
    "1,000" or "1.5M" (Pydantic then says what it expected)."""
    if isinstance(value, bool):
        raise ValueError("expected an amount in EUR (a number), not true/false")
    if isinstance(value, str) and not re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value):
        raise ValueError(
            f"expected an amount in EUR as a plain number such as 250000 or 1234.50, got {value!r}"
        )
    return value


Eur = Annotated[
    Decimal,
    BeforeValidator(_amount),
    Field(ge=0, decimal_places=2, allow_inf_nan=False, description="EUR, >= 0, cents at most"),
]


def _country(value: Any) -> str:
    code = normalise_country_code(value) if isinstance(value, str) else value
    if code not in known_codes():
        raise ValueError(
            "expected an ISO 3166-1 alpha-2/alpha-3 country code or an ISO 3166-2 subdivision "
            "code such as DE, ESP or ES-CT"
        )
    return str(code)


CountryCode = Annotated[str, BeforeValidator(_country)]
Slug = Annotated[str, Field(pattern=ID_PATTERN.pattern, min_length=1, max_length=120)]
Name = Annotated[str, Field(min_length=1, max_length=300)]
Citation = Annotated[str, Field(min_length=1, max_length=2000)]
# Marks on a document's values, keyed by the field's path from where the mark sits
# ("deadline", "rules.max_request_per_partner_eur", "stages[1].deadline").
FieldPath = Annotated[str, Field(pattern=r"^[a-z_]+(\[\d+\])?(\.[a-z_]+(\[\d+\])?)*$")]
Sources = dict[FieldPath, Citation]
Doubts = dict[FieldPath, Annotated[str, Field(min_length=1)]]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _marks_name_fields(model: BaseModel, *marks: str) -> None:
    """Every key of the `sources`/`uncertain` mappings starts with a field of `model`."""
    fields = set(type(model).model_fields) - {"source", *marks}
    for mark in marks:
        for path in getattr(model, mark):
            head = path.split(".")[0].split("[")[0]
            if head not in fields:
                raise CallInputError(
                    f"{mark}.{path}",
                    path,
                    f"a path starting with a field: {', '.join(sorted(fields))}",
                )


# ---------------------------------------------------------------- the call


class Stage(Strict):
    name: Name
    deadline: AwareDatetime = Field(description="time-zone aware, e.g. 2026-03-05T14:00:00+01:00")
    opens: AwareDatetime | None = None
    as_written: str | None = Field(
        None, description="the deadline as the call text writes it, e.g. '17:00 (CET)'"
    )

    @model_validator(mode="after")
    def _opens_before_deadline(self) -> Stage:
        if self.opens is not None and self.opens >= self.deadline:
            raise CallInputError(
                "opens", self.opens.isoformat(), f"a time before the deadline {self.deadline}"
            )
        return self


class FunderRules(Strict):
    """A funder's national eligibility rules, applied to the partners it funds."""

    eligible_kinds: list[OrganisationKind] | None = Field(
        None, description="organisation kinds this funder may fund; absent: every kind"
    )
    max_request_per_partner_eur: Eur | None = None
    max_request_per_project_eur: Eur | None = Field(
        None, description="the sum requested from this funder by one proposal's partners"
    )
    own_funded_allowed: bool = Field(
        True, description="may partners from this funder's country join with their own funding"
    )
    extra_documents: list[Name] = Field(
        default_factory=list, description="documents each partner it funds must provide"
    )


class Funder(Strict):
    organisation: Slug = Field(description="the funder's organisation id in the graph")
    name: Name | None = None
    country: CountryCode
    budget_eur: Eur | None = Field(
        None, description="the national budget; absent: not stated (a decision then refuses)"
    )
    rules: FunderRules = Field(default_factory=FunderRules)
    source: Citation | None = Field(None, description="the page this funder's entry is read on")
    sources: Sources = Field(default_factory=dict, description="field -> page, where they differ")
    uncertain: Doubts = Field(default_factory=dict, description="field -> the doubt")

    @model_validator(mode="after")
    def _marks(self) -> Funder:
        _marks_name_fields(self, "sources", "uncertain")
        return self


class EuAssociatedRule(Strict):
    """At least `countries` eligible partners from that many different EU member states or
    countries associated to `programme` (the lists in `permedhub.calls.countries`)."""

    countries: PositiveInt
    programme: Programme = Field(
        description="whose associated countries count: h2020 (ERA-NETs such as ERA PerMed) or "
        "horizon-europe"
    )


class ConsortiumRules(Strict):
    """Rules on a whole consortium. Eligible partners are those not own-funded, asking a
    participating funder whose `eligible_kinds` include the partner's kind."""

    min_eligible_partners: NonNegativeInt | None = None
    min_countries: NonNegativeInt | None = Field(
        None, description="distinct countries among the eligible partners"
    )
    max_partners: PositiveInt | None = Field(None, description="all partners, own-funded too")
    max_per_country: PositiveInt | None = Field(None, description="partners of one country")
    max_own_funded: NonNegativeInt | None = None
    coordinator_eligible: bool = Field(False, description="the coordinator must be eligible")
    required_modules: list[Slug] = Field(
        default_factory=list, description="modules every proposal must address, all of them"
    )
    modules_one_of: list[Slug] = Field(
        default_factory=list, description="a proposal must address at least one of these"
    )
    modules_one_of_each: list[Annotated[list[Slug], Field(min_length=1)]] = Field(
        default_factory=list,
        description="groups of modules: a proposal must address at least one module of each "
        "group (e.g. one of research area 3 and one of research area 1 or 2)",
    )
    min_eu_associated_countries: EuAssociatedRule | None = None

    @model_validator(mode="after")
    def _bounds_consistent(self) -> ConsortiumRules:
        low, high = self.min_eligible_partners, self.max_partners
        if low is not None and high is not None and low > high:
            raise CallInputError("min_eligible_partners", low, f"at most max_partners ({high})")
        eu = self.min_eu_associated_countries
        if eu is not None and high is not None and eu.countries > high:
            raise CallInputError(
                "min_eu_associated_countries.countries", eu.countries,
                f"at most max_partners ({high})",
            )  # fmt: skip
        return self


RULE_SECTIONS: dict[str, type[BaseModel]] = {"rules": FunderRules, "consortium": ConsortiumRules}


class Criterion(Strict):
    id: Slug
    name: Name | None = None
    weight: float = Field(gt=0, allow_inf_nan=False)
    scale_min: float = Field(0, allow_inf_nan=False)
    scale_max: float = Field(5, allow_inf_nan=False)
    threshold: float | None = Field(
        None, allow_inf_nan=False, description="the aggregated score must reach it"
    )

    @model_validator(mode="after")
    def _scale(self) -> Criterion:
        if self.scale_max <= self.scale_min:
            raise CallInputError(
                "scale_max", self.scale_max, f"more than scale_min ({self.scale_min})"
            )
        if self.threshold is not None and not self.scale_min <= self.threshold <= self.scale_max:
            raise CallInputError(
                "threshold", self.threshold,
                f"a score on the scale {self.scale_min}-{self.scale_max}",
            )  # fmt: skip
        return self


class Evaluation(Strict):
    """How reviewers' scores become a ranking: see `permedhub.calls.scores` for the rule."""

    criteria: list[Criterion] = Field(min_length=1)
    aggregation: Literal["mean", "median"] = Field(
        "mean", description="how one criterion's scores by several reviewers are combined"
    )
    total_threshold: float | None = Field(None, allow_inf_nan=False)
    tie_breaks: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names(self) -> Evaluation:
        ids = [c.id for c in self.criteria]
        for i, (a, b) in enumerate(itertools.combinations(ids, 2)):
            if a == b:
                raise CallInputError(f"criteria[{i}].id", a, "criterion ids that are unique")
        for i, rule in enumerate(self.tie_breaks):
            kind, _, name = rule.partition(":")
            ok = rule == "lower_request" or (kind == "criterion" and name in ids)
            if not ok:
                raise CallInputError(
                    f"tie_breaks[{i}]", rule, f"{TIE_BREAK_HELP}; criteria: {', '.join(ids)}"
                )
        return self


class Funding(Strict):
    mode: FundingMode = Field(
        "virtual",
        description="virtual: each funder pays its own partners; real: one pot of all budgets; "
        "mixed: national budgets first, a top-up pot pays the shortfalls",
    )
    top_up_eur: Eur = Decimal(0)


class Module(Strict):
    id: Slug
    name: Name | None = None


class PublishedOutcome(Strict):
    """What the call's public announcements state of its outcome; a figure they do not state
    stays empty. The statistics take success rates from these."""

    pre_proposals_submitted: NonNegativeInt | None = None
    pre_proposals_eligible: NonNegativeInt | None = None
    full_proposals_invited: NonNegativeInt | None = None
    projects_funded: NonNegativeInt | None = None
    funding_eur: Eur | None = Field(None, description="the total funding announced")
    source: Citation = Field(description="the page the figures are read on")
    uncertain: Doubts = Field(default_factory=dict, description="field -> the doubt")

    @model_validator(mode="after")
    def _marks(self) -> PublishedOutcome:
        _marks_name_fields(self, "uncertain")
        return self


class Call(Strict):
    id: Slug
    title: Name
    synthetic: bool = Field(False, description="true for invented example or benchmark calls")
    source: str | None = None
    secretariat: Slug | None = Field(
        None, description="the organisation (graph id) hosting the joint call secretariat"
    )
    budget_eur: Eur | None = Field(None, description="the call's announced total budget")
    funders_count: PositiveInt | None = Field(
        None, description="how many funding organisations the call text says take part (the "
        "`funders` listed may be fewer: those the sources name)",
    )  # fmt: skip
    sources: Sources = Field(default_factory=dict, description="field -> page, where they differ")
    uncertain: Doubts = Field(default_factory=dict, description="field -> the doubt")
    notes: list[str] = Field(
        default_factory=list, description="what the sources say that no field holds"
    )
    modules: list[Module] = Field(default_factory=list)
    stages: list[Stage] = Field(min_length=1)
    funders: list[Funder] = Field(min_length=1)
    consortium: ConsortiumRules = Field(default_factory=ConsortiumRules)
    evaluation: Evaluation | None = None
    funding: Funding = Field(default_factory=Funding)
    outcome: PublishedOutcome | None = Field(
        None, description="the outcome as the call's announcements state it (real calls)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Call:
        _marks_name_fields(self, "sources", "uncertain")
        for i, (a, b) in enumerate(itertools.pairwise(self.stages)):
            if b.deadline <= a.deadline:
                raise CallInputError(
                    f"stages[{i + 1}].deadline",
                    b.deadline.isoformat(),
                    f"a deadline after that of stage {a.name!r} ({a.deadline.isoformat()}): "
                    "stages in order",
                )
        seen: set[str] = set()
        for i, funder in enumerate(self.funders):
            if funder.organisation in seen:
                raise CallInputError(
                    f"funders[{i}].organisation", funder.organisation, "each funder once"
                )
            seen.add(funder.organisation)
        module_ids = {m.id for m in self.modules}
        if module_ids:
            named = [
                (f"{field}[{i}]", name)
                for field in ("required_modules", "modules_one_of")
                for i, name in enumerate(getattr(self.consortium, field))
            ] + [
                (f"modules_one_of_each[{i}][{j}]", name)
                for i, group in enumerate(self.consortium.modules_one_of_each)
                for j, name in enumerate(group)
            ]
            for path, name in named:
                if name not in module_ids:
                    raise CallInputError(
                        f"consortium.{path}", name,
                        f"one of the call's modules: {', '.join(sorted(module_ids))}",
                    )  # fmt: skip
        return self

    def funder_ids(self) -> list[str]:
        return [f.organisation for f in self.funders]


# ---------------------------------------------------------------- proposals


class Partner(Strict):
    organisation: Slug
    name: Name | None = None
    country: CountryCode
    kind: OrganisationKind
    funder: Slug | None = Field(None, description="the funder asked; none when own-funded")
    requested_eur: Eur = Decimal(0)
    own_funded: bool = False
    coordinator: bool = False
    documents: list[Name] = Field(default_factory=list)

    @model_validator(mode="after")
    def _funding(self) -> Partner:
        if self.own_funded and self.requested_eur > 0:
            raise CallInputError(
                "requested_eur", float(self.requested_eur), "0 for an own-funded partner"
            )
        if self.own_funded and self.funder is not None:
            raise CallInputError("funder", self.funder, "no funder for an own-funded partner")
        if not self.own_funded and self.funder is None:
            raise CallInputError(
                "funder", None, "the participating funder asked (or own_funded: true)"
            )
        return self


class Proposal(Strict):
    id: Annotated[str, Field(pattern=PROPOSAL_ID.pattern, max_length=120)]
    acronym: Name | None = None
    title: Name | None = None
    modules: list[Slug] = Field(default_factory=list)
    topics: list[Slug] = Field(default_factory=list, description="for reviewer matching")
    score: float | None = Field(None, allow_inf_nan=False, description="final score")
    rank: PositiveInt | None = Field(None, description="final rank, 1 = best")
    scores: dict[str, float] = Field(
        default_factory=dict, description="final score per criterion (for tie-breaks)"
    )
    partners: list[Partner] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_coordinator(self) -> Proposal:
        flagged = [i for i, p in enumerate(self.partners) if p.coordinator]
        if len(flagged) > 1:
            raise CallInputError(
                f"partners[{flagged[1]}].coordinator", True,
                f"one coordinator per proposal (partners[{flagged[0]}] is already)",
            )  # fmt: skip
        return self

    def coordinator_index(self) -> int:
        """The flagged coordinator, else the first partner (the submission tools' convention)."""
        return next((i for i, p in enumerate(self.partners) if p.coordinator), 0)


class ProposalSet(Strict):
    call: Slug | None = Field(None, description="the call's id; checked when given")
    proposals: list[Proposal]

    @field_validator("proposals")
    @classmethod
    def _unique(cls, proposals: list[Proposal]) -> list[Proposal]:
        seen: dict[str, int] = {}
        ranks: dict[int, int] = {}
        for i, proposal in enumerate(proposals):
            if proposal.id in seen:
                raise CallInputError(
                    f"[{i}].id", proposal.id, f"a unique id ([{seen[proposal.id]}] has it)"
                )
            seen[proposal.id] = i
            if proposal.rank is not None:
                if proposal.rank in ranks:
                    raise CallInputError(
                        f"[{i}].rank", proposal.rank,
                        f"a unique rank ([{ranks[proposal.rank]}] has it); ties are broken "
                        "by the call's tie_breaks when proposals give scores instead",
                    )  # fmt: skip
                ranks[proposal.rank] = i
        return proposals


# ---------------------------------------------------------------- reviewers


class Reviewer(Strict):
    id: Annotated[str, Field(pattern=PROPOSAL_ID.pattern, max_length=120)]
    organisation: Slug
    country: CountryCode
    expertise: list[Slug] = Field(default_factory=list, description="topics")
    conflicts: list[str] = Field(
        default_factory=list, description="declared conflicts: proposal or organisation ids"
    )
    max_load: PositiveInt | None = Field(None, description="at most this many proposals")


class ReviewerPool(Strict):
    reviewers: list[Reviewer] = Field(min_length=1)

    @field_validator("reviewers")
    @classmethod
    def _unique(cls, reviewers: list[Reviewer]) -> list[Reviewer]:
        seen: dict[str, int] = {}
        for i, reviewer in enumerate(reviewers):
            if reviewer.id in seen:
                raise CallInputError(
                    f"[{i}].id", reviewer.id, f"a unique id ([{seen[reviewer.id]}] has it)"
                )
            seen[reviewer.id] = i
        return reviewers
