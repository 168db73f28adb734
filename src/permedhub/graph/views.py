"""What the queries return: Pydantic models that the API serialises and the portal renders."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")
Status = Literal["planned", "ongoing", "ended", "unknown"]


class Marks(BaseModel):
    """Where a record's facts were read, and which of its values are in doubt."""

    source: str | None = None
    # field -> citation, where a field was read elsewhere than `source`
    sources: dict[str, str] = Field(default_factory=dict)
    uncertain: dict[str, str] = Field(default_factory=dict)
    approximate: dict[str, str] = Field(default_factory=dict)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


class CountryRef(BaseModel):
    code: str
    name: str


class OrganisationSummary(Marks):
    id: str
    name: str
    acronym: str | None = None
    kind: str | None = None
    country: CountryRef | None = None
    subdivision: CountryRef | None = None
    city: str | None = None
    website: str | None = None
    synthetic: bool = False


class InitiativeSummary(Marks):
    id: str
    acronym: str | None = None
    name: str
    kind: str
    programme: str | None = None
    grant_id: str | None = None
    start: str | None = Field(None, description="ISO date; see start_precision")
    start_precision: str | None = None
    end: str | None = Field(None, description="ISO date (last day of its period)")
    end_precision: str | None = None
    status: Status
    eu_contribution_eur: float | None = None
    total_budget_eur: float | None = None
    website: str | None = None
    summary: str | None = None


class PartnerView(Marks):
    organisation: OrganisationSummary
    role: str
    start: str | None = None
    end: str | None = None


class LinkView(Marks):
    direction: Literal["outgoing", "incoming"]
    kind: str
    initiative_id: str
    initiative_label: str


class TopicView(Marks):
    id: str
    name: str
    kind: str
    parent_id: str | None = None
    children: list[TopicView] = Field(default_factory=list)


class CallView(Marks):
    id: str
    initiative_id: str
    title: str
    year: int | None = None
    ec_cofunded: bool | None = None
    funders_count: int | None = None
    budget_eur: float | None = None
    opening: str | None = None
    pre_proposal_deadline: str | None = None
    full_proposal_deadline: str | None = None
    secretariat: OrganisationSummary | None = None
    funders: list[OrganisationSummary] = Field(default_factory=list)
    procedure: str | None = None
    countries: list[CountryRef] = Field(default_factory=list)
    rules: dict[str, Any] = Field(default_factory=dict)
    proposals_submitted: int | None = None
    projects_funded: int | None = None


class InitiativeCountry(CountryRef):
    via: list[Literal["partner", "declared"]]
    partners: int = 0


class ProjectView(InitiativeSummary):
    call_id: str


class InitiativeDetail(InitiativeSummary):
    call_topic: str | None = None
    aims: list[str] = Field(default_factory=list)
    target_regions: list[str] = Field(default_factory=list)
    topics: list[TopicView] = Field(default_factory=list)
    facts: dict[str, Any] = Field(default_factory=dict)
    coordinators: list[OrganisationSummary] = Field(default_factory=list)
    partners: list[PartnerView] = Field(
        default_factory=list,
        description="one page of the partners: coordinators first, then by name",
    )
    partners_total: int = 0
    partners_page: int = 1
    partners_per_page: int = 500
    roles: list[str] = Field(default_factory=list, description="roles of all the partners")
    countries: list[InitiativeCountry] = Field(default_factory=list)
    links: list[LinkView] = Field(default_factory=list)
    calls: list[CallView] = Field(default_factory=list)
    call: CallView | None = Field(
        None, description="a project's call: the one its call_topic names"
    )
    call_funders_here: list[OrganisationSummary] = Field(
        default_factory=list,
        description="a project's call's funders in the countries of its partners (each funds "
        "partners of its own country; the sources name no project's funders directly)",
    )
    projects: list[ProjectView] = Field(
        default_factory=list, description="the funded projects of its calls, by call then name"
    )

    @property
    def partners_pages(self) -> int:
        return max(1, -(-self.partners_total // self.partners_per_page))


class ParticipationView(Marks):
    initiative: InitiativeSummary
    role: str
    start: str | None = None
    end: str | None = None


class OrganisationDetail(OrganisationSummary):
    latitude: float | None = None
    longitude: float | None = None
    ror_id: str | None = None
    expertise: list[str] = Field(default_factory=list)
    notes: str | None = None
    participations: list[ParticipationView] = Field(default_factory=list)


class RegionRef(BaseModel):
    id: str
    name: str


class CountryInitiative(BaseModel):
    initiative: InitiativeSummary
    roles: list[str] = Field(description="roles of this country's organisations")
    organisations: int
    declared: bool = Field(description="the initiative lists this country as taking part")


class SubdivisionActivity(CountryRef):
    organisations: int


class CountryProfile(CountryRef):
    official_name: str | None = None
    alpha3: str | None = None
    parent: CountryRef | None = None
    regions: list[RegionRef] = Field(default_factory=list)
    subdivisions: list[SubdivisionActivity] = Field(default_factory=list)
    organisations_total: int = 0
    organisations: list[OrganisationSummary] = Field(
        default_factory=list, description="one page of the organisations, by name"
    )
    organisations_page: int = 1
    organisations_per_page: int = 50
    participations_total: int = 0
    initiatives_total: int = 0
    initiatives: list[CountryInitiative] = Field(
        default_factory=list,
        description="the initiatives with most organisations here (at most 50), by start date",
    )

    @property
    def organisations_pages(self) -> int:
        return max(1, -(-self.organisations_total // self.organisations_per_page))


class RegionMemberActivity(CountryRef):
    organisations: int
    participations: int
    initiatives_total: int = Field(
        description="initiatives the country takes part in or is declared in (listed on its "
        "country page)"
    )
    declared_only: int = Field(
        0,
        description="of those, initiatives whose sources name the country as taking part "
        "while no partner organisation there is recorded",
    )

    @property
    def takes_part(self) -> bool:
        return self.initiatives_total > 0


class RegionProfile(RegionRef):
    rule: str
    members: list[RegionMemberActivity] = Field(
        description="most participations first, then most initiatives, organisations, by name"
    )
    taking_part: int
    not_yet: int
    initiatives: list[InitiativeSummary] = Field(
        default_factory=list,
        description="the initiatives with most participations in the region (at most 100), "
        "by start date",
    )
    initiatives_total: int = 0


class NetworkNode(BaseModel):
    id: str = Field(
        description="'initiative:ID', 'organisation:ID', 'country:CODE' or 'aggregate:CODE'"
    )
    type: Literal["initiative", "organisation", "country", "aggregate"]
    label: str
    kind: str | None = None
    country: str | None = None
    weight: int = 1
    url: str | None = None


class NetworkEdge(BaseModel):
    source: str
    target: str
    type: Literal["participation", "link", "location"]
    label: str | None = None
    weight: int = 1


class Network(BaseModel):
    nodes: list[NetworkNode]
    edges: list[NetworkEdge]
    aggregated: str | None = Field(
        None, description="what was aggregated to keep the graph drawable, if anything"
    )


class TimelineItem(BaseModel):
    id: str
    label: str
    kind: str
    start: str | None
    end: str | None
    start_precision: str | None = None
    end_precision: str | None = None
    status: Status
    uncertain: dict[str, str] = Field(default_factory=dict)
    # A project: the id of the call it was funded under, when its `call_topic` names one.
    call: str | None = None
    # A call's projects drawn as one bar (`timelines.by_call`): how many; 0 for an initiative.
    projects: int = 0


class Timeline(BaseModel):
    today: str
    items: list[TimelineItem]


class CountCountry(CountryRef):
    organisations: int
    participations: int
    initiatives: int


class CountRegion(RegionRef):
    countries_taking_part: int
    countries_total: int
    organisations: int
    participations: int


class Counts(BaseModel):
    initiatives: int
    organisations: int
    participations: int
    countries: int
    by_country: list[CountCountry]
    by_region: list[CountRegion]
