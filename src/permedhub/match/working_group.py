"""Working-group selection: N experts that cover the wanted topics with a balance of regions and
sectors, chosen by a MILP (scipy.optimize.milp, HiGHS) — not a greedy pick.

The model, for experts i with topics T_i, region r(i) and sector s(i), wanted topics W:

    x[i] in {0, 1};  u_region, u_sector >= 0
    sum_i x[i] = N                                       the group's size
    sum_{i: t in T_i} x[i] >= cover[t]        for t in W  every wanted topic covered
    sum_{i: r(i) = r} x[i] >= region_min[r]               regions that must be present
    sum_{i: s(i) = s} x[i] >= sector_min[s]               sectors that must be present
    sum_{i: r(i) = r} x[i] <= max_per_region   for all r  (when given)
    u_region >= sum_{i: r(i) = r} x[i]         for all r  the largest region's share
    u_sector >= sum_{i: s(i) = s} x[i]         for all s  the largest sector's share
    maximise  - BALANCE * (u_region + u_sector) + sum_i |T_i ∩ W| x[i]

BALANCE exceeds the largest possible topic-match total (N * |W|) + 1, so the goals are
strictly ordered: first the most even spread over regions and sectors (the smallest largest
group), then the most wanted-topic expertise in the group. Experts listed in `exclude` are
not variables; those in `include` are fixed to 1.

When no group meets every constraint, `explain_infeasible` names the constraints that bind:
first counts that are impossible on their face (a topic fewer experts hold than it must be
covered by, a region with fewer experts than its minimum, minimums that add up to more than
N, a minimum for a region or sector nobody in the register belongs to), then each constraint
group whose removal alone makes the model feasible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from permedhub.match.errors import MatchInputError

EXPERT_COLUMNS = ("expert_id", "region", "sector", "topics")


@dataclass(frozen=True)
class GroupRequest:
    """What the working group must be: its size, the topics it covers and its balance."""

    size: int
    topics: Sequence[str]
    cover: int = 1  # experts per wanted topic, at least
    region_min: Mapping[str, int] = field(default_factory=dict)
    sector_min: Mapping[str, int] = field(default_factory=dict)
    max_per_region: int | None = None
    include: Sequence[str] = ()
    exclude: Sequence[str] = ()

    def check(self) -> None:
        if self.size < 1:
            raise MatchInputError("size", self.size, "a whole number of experts, at least 1")
        if self.cover < 1:
            raise MatchInputError("cover", self.cover, "at least 1 expert per topic")
        for name, mins in (("region_min", self.region_min), ("sector_min", self.sector_min)):
            for key, value in mins.items():
                if value < 0:
                    raise MatchInputError(f"{name}.{key}", value, "a count of 0 or more")
        if self.max_per_region is not None and self.max_per_region < 1:
            raise MatchInputError("max_per_region", self.max_per_region, "at least 1")
        both = set(self.include) & set(self.exclude)
        if both:
            raise MatchInputError("include", sorted(both), "experts not also excluded")


@dataclass(frozen=True)
class WorkingGroup:
    """members: the chosen experts (expert_id, region, sector, topics, matched); coverage:
    topic, experts, needed; balance: by (region|sector), group, members."""

    members: pd.DataFrame
    coverage: pd.DataFrame
    balance: pd.DataFrame
    objective: str
    largest_region: int
    largest_sector: int
    topic_matches: int


class Infeasible(ValueError):
    """No group satisfies the request; `binding` names the constraints responsible."""

    def __init__(self, binding: list[str]) -> None:
        self.binding = binding
        super().__init__("no working group meets every constraint: " + "; ".join(binding))


OBJECTIVE = (
    "first the smallest largest region group plus the smallest largest sector group, then "
    "the most wanted-topic expertise (sum over members of their wanted topics)"
)


@dataclass(frozen=True)
class _Model:
    experts: pd.DataFrame  # the candidates (exclusions removed), in column order
    has_topic: sparse.csr_matrix  # wanted topics x candidates
    regions: list[str]
    sectors: list[str]
    region_of: np.ndarray  # code of each candidate's region in `regions`
    sector_of: np.ndarray
    matches: np.ndarray  # wanted topics each candidate holds


def _validated(experts: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in EXPERT_COLUMNS if c not in experts.columns]
    if missing:
        raise MatchInputError("experts", list(experts.columns), f"the columns {missing} too")
    if experts["expert_id"].duplicated().any():
        dup = experts.loc[experts["expert_id"].duplicated(), "expert_id"].iloc[0]
        raise MatchInputError("experts.expert_id", dup, "each expert once")
    return experts.reset_index(drop=True)


def _model(experts: pd.DataFrame, request: GroupRequest) -> _Model:
    request.check()
    experts = _validated(experts)
    unknown = set(request.include) - set(experts["expert_id"])
    if unknown:
        raise MatchInputError("include", sorted(unknown), "ids of experts in the register")
    candidates = experts[~experts["expert_id"].isin(set(request.exclude))].reset_index(drop=True)
    wanted = list(dict.fromkeys(request.topics))
    position = {topic: row for row, topic in enumerate(wanted)}
    rows, cols = [], []
    for col, topics in enumerate(candidates["topics"]):
        for topic in set(topics):
            if topic in position:
                rows.append(position[topic])
                cols.append(col)
    has_topic = sparse.csr_matrix(
        (np.ones(len(rows)), (rows, cols)), shape=(len(wanted), len(candidates))
    )
    region_codes, regions = pd.factorize(candidates["region"], sort=True)
    sector_codes, sectors = pd.factorize(candidates["sector"], sort=True)
    return _Model(
        candidates, has_topic, list(regions), list(sectors), region_codes, sector_codes,
        np.asarray(has_topic.sum(axis=0)).ravel(),
    )  # fmt: skip


def _indicator(codes: np.ndarray, groups: int) -> sparse.csr_matrix:
    n = codes.size
    return sparse.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(groups, n))


def _constraints(
    model: _Model, request: GroupRequest, drop: str | None = None
) -> tuple[list[LinearConstraint], Bounds]:
    """The model's constraints over [x..., u_region, u_sector]; `drop` names a group to leave
    out (for the infeasibility analysis)."""
    n = len(model.experts)
    by_region = _indicator(model.region_of, len(model.regions))
    by_sector = _indicator(model.sector_of, len(model.sectors))

    def rows(block: sparse.spmatrix, extra: np.ndarray | None = None) -> sparse.csr_matrix:
        tail = sparse.csr_matrix((block.shape[0], 2)) if extra is None else extra
        return sparse.hstack([block, tail], format="csr")

    constraints = []
    if drop != "size":
        constraints.append(LinearConstraint(rows(sparse.csr_matrix(np.ones((1, n)))),
                                            request.size, request.size))  # fmt: skip
    if drop != "topics" and model.has_topic.shape[0]:
        constraints.append(LinearConstraint(rows(model.has_topic), request.cover, np.inf))
    for name, mins, groups, indicator in (
        ("region_min", request.region_min, model.regions, by_region),
        ("sector_min", request.sector_min, model.sectors, by_sector),
    ):
        if drop == name or not mins:
            continue
        lower = np.array([mins.get(g, 0) for g in groups], dtype=float)
        constraints.append(LinearConstraint(rows(indicator), lower, np.inf))
    if request.max_per_region is not None and drop != "max_per_region":
        constraints.append(LinearConstraint(rows(by_region), -np.inf, request.max_per_region))
    for column, indicator in ((0, by_region), (1, by_sector)):
        tail = np.zeros((indicator.shape[0], 2))
        tail[:, column] = -1.0
        constraints.append(LinearConstraint(rows(indicator, sparse.csr_matrix(tail)),
                                            -np.inf, 0.0))  # fmt: skip
    lower = np.zeros(n + 2)
    included = model.experts["expert_id"].isin(set(request.include)).to_numpy()
    lower[:n][included] = 1.0
    return constraints, Bounds(lower, np.r_[np.ones(n), np.inf, np.inf])


def _solve(model: _Model, request: GroupRequest, drop: str | None = None) -> np.ndarray | None:
    n = len(model.experts)
    constraints, bounds = _constraints(model, request, drop)
    balance = request.size * max(len(request.topics), 1) + 1.0
    cost = np.r_[-model.matches, balance, balance]  # milp minimises
    integrality = np.r_[np.ones(n), 0, 0]
    result = milp(cost, constraints=constraints, bounds=bounds, integrality=integrality,
                  options={"disp": False})  # fmt: skip
    if result.status == 2:  # infeasible
        return None
    if result.x is None:
        raise RuntimeError(f"the MILP solver stopped without a solution: {result.message}")
    return np.asarray(result.x[:n] > 0.5)


def _obvious_conflicts(model: _Model, request: GroupRequest) -> list[str]:
    """Constraints that no group can meet, visible from counts alone."""
    problems = []
    n = len(model.experts)
    if request.size > n:
        problems.append(f"size: {request.size} experts asked, {n} available")
    if len(request.include) > request.size:
        problems.append(f"include: {len(request.include)} experts must be in a group of "
                        f"{request.size}")  # fmt: skip
    holders = np.asarray(model.has_topic.sum(axis=1)).ravel()
    for topic, count in zip(dict.fromkeys(request.topics), holders, strict=True):
        if count < request.cover:
            problems.append(f"topics: '{topic}' is held by {int(count)} available expert(s), "
                            f"{request.cover} needed")  # fmt: skip
    for name, mins, column in (("region_min", request.region_min, "region"),
                               ("sector_min", request.sector_min, "sector")):  # fmt: skip
        available = model.experts[column].value_counts()
        for group, needed in mins.items():
            if available.get(group, 0) < needed:
                problems.append(f"{name}: {group} needs {needed}, {available.get(group, 0)} "
                                "available")  # fmt: skip
        if sum(mins.values()) > request.size:
            problems.append(f"{name}: the minimums add up to {sum(mins.values())}, more than "
                            f"the size {request.size}")  # fmt: skip
    if request.max_per_region is not None:
        room = request.max_per_region * len(model.regions)
        if room < request.size:
            problems.append(
                f"max_per_region: {request.max_per_region} per region x "
                f"{len(model.regions)} regions = {room} < size {request.size}"
            )
    return problems


def explain_infeasible(model: _Model, request: GroupRequest) -> list[str]:
    """The constraint groups whose removal alone makes the (count-wise possible) model
    feasible."""
    groups = ["topics", "region_min", "sector_min", "max_per_region"]
    binding = [g for g in groups if _solve(model, request, drop=g) is not None]
    if binding:
        return [f"{g}: without it a group exists" for g in binding]
    return ["no single constraint: several bind together (topics, region and sector minimums, "
            "max_per_region and the size)"]  # fmt: skip


def select_working_group(experts: pd.DataFrame, request: GroupRequest) -> WorkingGroup:
    """The best group under `request` (see the module's model), or Infeasible naming what
    binds. `experts` has one row per expert: expert_id, region, sector, topics (a list)."""
    model = _model(experts, request)
    # Counts alone can rule a request out, and a minimum for a group nobody belongs to has no
    # row in the model: both are reported before solving.
    obvious = _obvious_conflicts(model, request)
    if obvious:
        raise Infeasible(obvious)
    chosen = _solve(model, request)
    if chosen is None:
        raise Infeasible(explain_infeasible(model, request))
    wanted = set(request.topics)
    members = model.experts.loc[chosen, list(EXPERT_COLUMNS)].copy()
    members["matched"] = [sorted(wanted & set(t)) for t in members["topics"]]
    members = members.reset_index(drop=True)
    held = np.asarray(model.has_topic[:, chosen].sum(axis=1)).ravel().astype(int)
    coverage = pd.DataFrame({"topic": list(dict.fromkeys(request.topics)), "experts": held,
                             "needed": request.cover})  # fmt: skip
    balance = pd.concat([
        members.groupby(column).size().rename("members").reset_index()
        .rename(columns={column: "group"}).assign(by=column)
        for column in ("region", "sector")
    ], ignore_index=True)[["by", "group", "members"]]  # fmt: skip
    return WorkingGroup(
        members=members,
        coverage=coverage,
        balance=balance,
        objective=OBJECTIVE,
        largest_region=int(members["region"].value_counts().max()),
        largest_sector=int(members["sector"].value_counts().max()),
        topic_matches=int(members["matched"].map(len).sum()),
    )
