"""Consortium builder: complete a partial consortium so that it meets a call's consortium rules,
choosing among scored candidate organisations by a MILP (scipy.optimize.milp, HiGHS).

A candidate is *eligible* under the call when a participating funder would fund it: a funder
of its subdivision (a regional funder such as ES-CT) or of its country, whose
`eligible_kinds` admit its kind (`funder_for`). Candidates no funder would fund are left
out, unless `own_funded` is allowed: then they may join as own-funded partners, within the
call's `max_own_funded`.

The model, over candidates j (x[j] in {0, 1}) and the countries c not yet among the
consortium's eligible countries (y[c], v[c] in {0, 1}):

    n0 + sum_j x[j] = size               (when a size is asked; else <= max_partners)
    el0 + sum_{j eligible} x[j] >= min_eligible_partners
    y[c] <= sum_{j eligible in c} x[j];   |C0| + sum_c y[c] >= min_countries
    v[c] <= sum_{j eligible in c} x[j];   |EU0| + sum_{c EU or associated} v[c] >= min EU/assoc.
    n0[c] + sum_{j in c} x[j] <= max_per_country     for every country c
    own0 + sum_{j own-funded} x[j] <= max_own_funded
    objective, no size asked:  minimise  FEW * sum_j x[j] - sum_j score[j] x[j]
               size asked:     maximise  sum_j score[j] x[j]

FEW exceeds the sum of all scores, so without a size the goals are strictly ordered: the
fewest partners that meet the rules, then the best total score. The completed consortium is
then checked by the call's own rule engine (`calls.eligibility.check`): its report is part of
the result, so the builder and the rules cannot drift apart unnoticed. Module rules are the
proposal's, not its partners': they are checked when the proposal names its modules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from permedhub.calls.countries import eu_or_associated
from permedhub.calls.eligibility import EligibilityReport, check
from permedhub.calls.model import Call, Partner, Proposal, ProposalSet
from permedhub.calls.tables import country_of
from permedhub.match.errors import MatchInputError

CANDIDATE_COLUMNS = ("organisation", "name", "country", "kind", "score")
PARTNER_RULES = ("min_eligible_partners", "min_countries", "max_partners", "max_per_country",
                 "max_own_funded", "min_eu_associated_countries")  # fmt: skip


@dataclass(frozen=True)
class Completion:
    """added: the chosen candidates (organisation, name, country, kind, funder, own_funded,
    score); consortium: every partner of the completed consortium; check: the call's rule
    engine on it."""

    added: pd.DataFrame
    consortium: list[Partner]
    check: EligibilityReport
    objective: str

    @property
    def meets_consortium_rules(self) -> bool:
        """No consortium rule broken. What may remain are the partners' own tasks under their
        funders' rules (extra documents, requests within limits): `check.broken` lists them."""
        return not self.check.broken["rule"].str.startswith("consortium.").any()


class CannotComplete(ValueError):
    """No choice of candidates meets the call's rules; `binding` names the rules at fault."""

    def __init__(self, binding: list[str]) -> None:
        self.binding = binding
        super().__init__("the consortium cannot be completed: " + "; ".join(binding))


def funder_for(call: Call, country: str, subdivision: str | None, kind: str) -> str | None:
    """The participating funder that would fund an organisation of this place and kind: one
    of its subdivision first, else one of its country; None when no funder would."""
    for place in (subdivision, country):
        if not place:
            continue
        for funder in call.funders:
            kinds = funder.rules.eligible_kinds
            if funder.country == place and (kinds is None or kind in kinds):
                return funder.organisation
    return None


def _candidates(call: Call, frame: pd.DataFrame, partial: Sequence[Partner],
                own_funded: bool) -> pd.DataFrame:  # fmt: skip
    missing = [c for c in CANDIDATE_COLUMNS if c not in frame.columns]
    if missing:
        raise MatchInputError("candidates", list(frame.columns), f"the columns {missing} too")
    if (frame["score"] < 0).any() or frame["score"].isna().any():
        bad = frame.loc[(frame["score"] < 0) | frame["score"].isna(), "organisation"].iloc[0]
        raise MatchInputError(f"candidates[{bad}].score", "negative or missing", "a score >= 0")
    taken = {p.organisation for p in partial}
    frame = frame[~frame["organisation"].isin(taken)].drop_duplicates("organisation")
    subdivisions = frame["subdivision"] if "subdivision" in frame.columns else [None] * len(frame)
    funders = [funder_for(call, country_of(c), s, k) for c, s, k in
               zip(frame["country"], subdivisions, frame["kind"], strict=True)]  # fmt: skip
    frame = frame.assign(funder=funders, own_funded=[f is None for f in funders],
                         country=frame["country"].map(country_of))  # fmt: skip
    if not own_funded:
        frame = frame[~frame["own_funded"]]
    return frame.reset_index(drop=True)


def _partial_counts(call: Call, partial: Sequence[Partner]) -> dict[str, object]:
    funders = {f.organisation: f for f in call.funders}

    def eligible(p: Partner) -> bool:
        funder = funders.get(p.funder or "")
        kinds = funder.rules.eligible_kinds if funder else None
        return not p.own_funded and funder is not None and (kinds is None or p.kind in kinds)

    eligible_countries = {country_of(p.country) for p in partial if eligible(p)}
    per_country: dict[str, int] = {}
    for p in partial:
        per_country[country_of(p.country)] = per_country.get(country_of(p.country), 0) + 1
    return {
        "n": len(partial), "eligible": sum(eligible(p) for p in partial),
        "own": sum(not eligible(p) for p in partial), "countries": eligible_countries,
        "per_country": per_country,
    }  # fmt: skip


def _solve(call: Call, cands: pd.DataFrame, counts: dict[str, object], size: int | None,
           drop: str | None = None) -> np.ndarray | None:  # fmt: skip
    rules = call.consortium
    n = len(cands)
    eligible = ~cands["own_funded"].to_numpy()
    country = cands["country"].to_numpy()
    have: set[str] = counts["countries"]  # type: ignore[assignment]
    new_countries = sorted(set(country[eligible]) - have)
    eu_rule = rules.min_eu_associated_countries
    eu_set = eu_or_associated(eu_rule.programme) if eu_rule else set()
    new_eu = [c for c in new_countries if c in eu_set]
    width = n + len(new_countries) + len(new_eu)
    rows: list[tuple[np.ndarray, float, float]] = []

    def row(entries: dict[int, float], low: float, high: float) -> None:
        vector = np.zeros(width)
        for column, value in entries.items():
            vector[column] = value
        rows.append((vector, low, high))

    picks = {j: 1.0 for j in range(n)}
    n0, el0, own0 = int(counts["n"]), int(counts["eligible"]), int(counts["own"])  # type: ignore[call-overload]
    if size is not None and drop != "size":
        row(picks, size - n0, size - n0)
    if rules.max_partners is not None and drop != "max_partners":
        row(picks, -np.inf, rules.max_partners - n0)
    if rules.min_eligible_partners is not None and drop != "min_eligible_partners":
        needed = rules.min_eligible_partners - el0
        row({int(j): 1.0 for j in np.flatnonzero(eligible)}, needed, np.inf)
    for offset, chosen_countries, minimum, name in (
        (n, new_countries, rules.min_countries, "min_countries"),
        (n + len(new_countries), new_eu, eu_rule.countries if eu_rule else None,
         "min_eu_associated_countries"),
    ):  # fmt: skip
        if minimum is None or drop == name:
            continue
        already = len(have) if name == "min_countries" else len(have & eu_set)
        for k, c in enumerate(chosen_countries):
            members = np.flatnonzero(eligible & (country == c))
            row({offset + k: 1.0, **{int(j): -1.0 for j in members}}, -np.inf, 0.0)
        row({offset + k: 1.0 for k in range(len(chosen_countries))}, minimum - already, np.inf)
    if rules.max_per_country is not None and drop != "max_per_country":
        per_country: dict[str, int] = counts["per_country"]  # type: ignore[assignment]
        for c in sorted(set(country) | set(per_country)):
            members = np.flatnonzero(country == c)
            row(
                {int(j): 1.0 for j in members},
                -np.inf,
                rules.max_per_country - per_country.get(c, 0),
            )
    if rules.max_own_funded is not None and drop != "max_own_funded":
        row({int(j): 1.0 for j in np.flatnonzero(~eligible)}, -np.inf, rules.max_own_funded - own0)
    scores = cands["score"].to_numpy(dtype=float)
    cost = np.zeros(width)
    cost[:n] = -scores if size is not None else (scores.sum() + 1.0) - scores
    constraints = []
    if rows:
        matrix = sparse.csr_matrix(np.vstack([r[0] for r in rows]))
        constraints.append(LinearConstraint(matrix, [r[1] for r in rows], [r[2] for r in rows]))
    result = milp(cost, constraints=constraints, bounds=Bounds(0, 1),
                  integrality=np.ones(width), options={"disp": False})  # fmt: skip
    if result.status == 2:
        return None
    if result.x is None:
        raise RuntimeError(f"the MILP solver stopped without a solution: {result.message}")
    return np.asarray(result.x[:n] > 0.5)


OBJECTIVE_FEWEST = "the fewest added partners that meet the rules, then the highest total score"
OBJECTIVE_SIZE = "the highest total score of the added partners at the asked size"


def complete_consortium(
    call: Call,
    partial: Sequence[Partner],
    candidates: pd.DataFrame,
    *,
    size: int | None = None,
    own_funded: bool = False,
    modules: Sequence[str] = (),
) -> Completion:
    """The partners to add to `partial` (see the module's model). `candidates` has one row per
    organisation: organisation, name, country, kind, score (>= 0), optionally subdivision."""
    if size is not None and size < len(partial):
        raise MatchInputError("size", size, f"at least the {len(partial)} partners already in")
    cands = _candidates(call, candidates, partial, own_funded)
    counts = _partial_counts(call, partial)
    chosen = _solve(call, cands, counts, size)
    if chosen is None:
        drops = ["size", *PARTNER_RULES] if size is not None else list(PARTNER_RULES)
        binding = [d for d in drops if _solve(call, cands, counts, size, drop=d) is not None]
        raise CannotComplete(
            [f"{d}: without it the consortium could be completed" for d in binding]
            or ["several rules together (no single one is the cause)"]
        )
    added = cands.loc[chosen].sort_values("score", ascending=False).reset_index(drop=True)
    new_partners = [
        Partner(organisation=r.organisation, name=r.name, country=r.country, kind=r.kind,
                funder=None if r.own_funded else r.funder, own_funded=bool(r.own_funded))
        for r in added.itertuples()
    ]  # fmt: skip
    consortium = [*partial, *new_partners]
    proposal = Proposal(id="consortium", partners=consortium, modules=list(modules))
    report = check(call, ProposalSet(proposals=[proposal]))
    return Completion(
        added=added[["organisation", "name", "country", "kind", "funder", "own_funded", "score"]],
        consortium=consortium,
        check=report,
        objective=OBJECTIVE_SIZE if size is not None else OBJECTIVE_FEWEST,
    )
