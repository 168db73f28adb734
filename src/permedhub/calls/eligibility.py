"""The consortium and national eligibility rules, evaluated by one engine.

Every rule of a call document (a field of `ConsortiumRules` or `FunderRules`) has one
evaluator here, registered under its name; the engine runs the evaluators of the rules a call
sets, all proposals at once (group-bys over the partner table), and returns one row per broken
rule with a message saying how to fix it. A rule added to the schema without an evaluator is
caught by a test.

Definitions used by the rules: a partner is *eligible* when it is not own-funded, asks a
funder that takes part in the call, and is of a kind that funder funds (`eligible_kinds`).
Countries are counted by country (a subdivision such as ES-CT counts as ES). The coordinator
is the partner flagged `coordinator`, else the first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from permedhub.calls.countries import describe, eu_or_associated
from permedhub.calls.model import (
    Call,
    ConsortiumRules,
    EuAssociatedRule,
    FunderRules,
    ProposalSet,
)
from permedhub.calls.tables import funders_frame, partners_frame, records, show_eur

BROKEN_COLUMNS = ["proposal_id", "partner", "organisation", "rule", "value", "limit", "message"]


@dataclass(frozen=True)
class Context:
    call: Call
    partners: pd.DataFrame  # partners_frame + funder_known, eligible
    funders: pd.DataFrame  # funders_frame
    proposal_ids: pd.Index  # position -> id
    modules: list[set[str]]  # position -> the modules the proposal addresses


@dataclass(frozen=True)
class EligibilityReport:
    """`broken`: one row per broken rule (columns BROKEN_COLUMNS; partner is the partner's
    position, or <NA> for a rule on the whole consortium). `proposals`: one row per proposal
    with `eligible` (no rule broken) and `broken` (how many)."""

    broken: pd.DataFrame
    proposals: pd.DataFrame

    def eligible_ids(self) -> list[str]:
        return self.proposals.index[self.proposals["eligible"]].tolist()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: per proposal, eligible or not and each broken rule with its fix."""
        by_proposal: dict[str, list[dict[str, Any]]] = {pid: [] for pid in self.proposals.index}
        for row in records(self.broken):
            by_proposal[row.pop("proposal_id")].append(row)
        return {
            "eligible": int(self.proposals["eligible"].sum()),
            "proposals": [
                {"id": pid, "eligible": not broken, "broken": broken}
                for pid, broken in by_proposal.items()
            ],
        }


Evaluator = Callable[[Context, Any], pd.DataFrame]
CONSORTIUM_RULES: dict[str, Evaluator] = {}
FUNDER_RULES: dict[str, Evaluator] = {}


def _rule(registry: dict[str, Evaluator], name: str) -> Callable[[Evaluator], Evaluator]:
    def register(evaluator: Evaluator) -> Evaluator:
        registry[name] = evaluator
        return evaluator

    return register


def check(
    call: Call, proposals: ProposalSet, partners: pd.DataFrame | None = None
) -> EligibilityReport:
    """Every broken rule of every proposal, in proposal order then rule order. `partners`:
    `partners_frame(proposals)` when the caller has it already."""
    context = _context(call, proposals, partners_frame(proposals) if partners is None else partners)
    found = [_unknown_funders(context)]
    rules = call.consortium
    for name, evaluator in CONSORTIUM_RULES.items():
        value = getattr(rules, name)
        if value not in (None, False, []):
            found.append(evaluator(context, value))
    for name, evaluator in FUNDER_RULES.items():
        found.append(evaluator(context, name))
    broken = (
        pd.concat([f for f in found if len(f)], ignore_index=True)
        if any(len(f) for f in found)
        else pd.DataFrame(columns=BROKEN_COLUMNS)
    )
    order = pd.Series(np.arange(len(context.proposal_ids)), index=context.proposal_ids)
    broken = (
        broken.assign(_order=order.reindex(broken["proposal_id"]).to_numpy())
        .sort_values(["_order", "partner"], kind="stable", na_position="first")
        .drop(columns="_order")
        .reset_index(drop=True)
    )
    broken["partner"] = broken["partner"].astype("Int64")
    counts = broken.groupby("proposal_id").size().reindex(context.proposal_ids, fill_value=0)
    summary = pd.DataFrame(
        {"eligible": (counts == 0).to_numpy(), "broken": counts.to_numpy()},
        index=context.proposal_ids,
    )
    summary.index.name = "proposal_id"
    return EligibilityReport(broken=broken[BROKEN_COLUMNS], proposals=summary)


def _context(call: Call, proposals: ProposalSet, partners: pd.DataFrame) -> Context:
    funders = funders_frame(call)
    known = partners["funder"].isin(funders.index)
    kind_ok = pd.Series(True, index=partners.index)
    restricted = funders["eligible_kinds"].dropna()
    if len(restricted):
        allowed = {(f, k) for f, kinds in restricted.items() for k in kinds}
        pairs = partners.loc[known, ["funder", "kind"]]
        limited = pairs["funder"].isin(restricted.index)
        ok = [pair in allowed for pair in zip(pairs["funder"], pairs["kind"], strict=True)]
        kind_ok.loc[pairs.index] = ~limited.to_numpy() | np.asarray(ok, dtype=bool)
    partners = partners.assign(
        funder_known=known, kind_ok=kind_ok, eligible=~partners["own_funded"] & known & kind_ok
    )
    ids = pd.Index([p.id for p in proposals.proposals], name="proposal_id")
    modules = [set(p.modules) for p in proposals.proposals]
    return Context(call, partners, funders, ids, modules)


def _rows(
    ids: Any, partner: Any, organisation: Any, rule: str, value: Any, limit: Any, message: Any
) -> pd.DataFrame:
    frame = pd.DataFrame({
        "proposal_id": ids, "partner": partner, "organisation": organisation, "rule": rule,
        "value": value, "limit": limit, "message": message,
    })  # fmt: skip
    return frame.astype({"value": object, "limit": object})


def _consortium_rows(
    context: Context, where: pd.Series, rule: str, value: pd.Series, limit: Any,
    message: Callable[[Any, Any], str],
) -> pd.DataFrame:  # fmt: skip
    """Rows for the proposals (positions) where a per-proposal rule is broken."""
    hit = where[where]
    values = value.reindex(hit.index)
    ids = context.proposal_ids[hit.index.to_numpy()]
    texts = [message(v, limit) for v in values]
    return _rows(ids, pd.NA, None, f"consortium.{rule}", values.to_numpy(), limit, texts)


def _per_proposal(context: Context, mask: pd.Series) -> pd.Series:
    """How many partners per proposal (position) satisfy `mask`, zeros included."""
    counts = mask.groupby(context.partners["proposal"]).sum()
    return counts.reindex(range(len(context.proposal_ids)), fill_value=0)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


# ---------------------------------------------------------------- consortium rules


@_rule(CONSORTIUM_RULES, "min_eligible_partners")
def _min_eligible(context: Context, minimum: int) -> pd.DataFrame:
    count = _per_proposal(context, context.partners["eligible"])
    return _consortium_rows(
        context, count < minimum, "min_eligible_partners", count, minimum,
        lambda n, m: f"{_plural(n, 'eligible partner')}, the call asks for at least {m}: add "
        f"{m - n} partner(s) eligible for funding by a participating funder",
    )  # fmt: skip


@_rule(CONSORTIUM_RULES, "min_countries")
def _min_countries(context: Context, minimum: int) -> pd.DataFrame:
    eligible = context.partners[context.partners["eligible"]]
    count = eligible.groupby("proposal")["country"].nunique()
    count = count.reindex(range(len(context.proposal_ids)), fill_value=0)
    return _consortium_rows(
        context, count < minimum, "min_countries", count, minimum,
        lambda n, m: f"eligible partners from {n} {'country' if n == 1 else 'countries'}, at "
        f"least {m} needed: add eligible partners from {m - n} more participating "
        "country/countries",
    )  # fmt: skip


@_rule(CONSORTIUM_RULES, "max_partners")
def _max_partners(context: Context, maximum: int) -> pd.DataFrame:
    count = _per_proposal(context, pd.Series(True, index=context.partners.index))
    return _consortium_rows(
        context,
        count > maximum,
        "max_partners",
        count,
        maximum,
        lambda n, m: f"{n} partners, at most {m} allowed: remove {n - m} partner(s)",
    )


@_rule(CONSORTIUM_RULES, "max_per_country")
def _max_per_country(context: Context, maximum: int) -> pd.DataFrame:
    sizes = context.partners.groupby(["proposal", "country"]).size()
    over = sizes[sizes > maximum]
    proposal = over.index.get_level_values("proposal").to_numpy()
    country = over.index.get_level_values("country")
    texts = [
        f"{n} partners from {c}, at most {maximum} per country: remove {n - maximum} of them "
        f"or replace them by partners from another country"
        for n, c in zip(over, country, strict=True)
    ]
    return _rows(
        context.proposal_ids[proposal], pd.NA, None, "consortium.max_per_country",
        [f"{c}: {n}" for n, c in zip(over, country, strict=True)], maximum, texts,
    )  # fmt: skip


@_rule(CONSORTIUM_RULES, "max_own_funded")
def _max_own_funded(context: Context, maximum: int) -> pd.DataFrame:
    count = _per_proposal(context, context.partners["own_funded"])
    return _consortium_rows(
        context, count > maximum, "max_own_funded", count, maximum,
        lambda n, m: f"{n} own-funded partners, at most {m} allowed: remove {n - m} of them or "
        "have them ask a participating funder",
    )  # fmt: skip


@_rule(CONSORTIUM_RULES, "coordinator_eligible")
def _coordinator(context: Context, _: bool) -> pd.DataFrame:
    partners = context.partners
    bad = partners[partners["coordinator"] & ~partners["eligible"]]
    why = np.where(
        bad["own_funded"], "own-funded",
        np.where(~bad["funder_known"], "its funder takes no part in the call",
                 "its funder does not fund a " + bad["kind"].astype(str)),
    )  # fmt: skip
    texts = [
        f"the coordinator {o} is not eligible ({w}): make an eligible partner the coordinator"
        for o, w in zip(bad["organisation"], why, strict=True)
    ]
    return _rows(
        bad["proposal_id"], bad["partner"], bad["organisation"], "consortium.coordinator_eligible",
        why, True, texts,
    )  # fmt: skip


@_rule(CONSORTIUM_RULES, "required_modules")
def _required_modules(context: Context, required: list[str]) -> pd.DataFrame:
    missing = [[m for m in required if m not in modules] for modules in context.modules]
    hit = [i for i, m in enumerate(missing) if m]
    return _rows(
        context.proposal_ids[hit], pd.NA, None, "consortium.required_modules",
        [", ".join(missing[i]) for i in hit], ", ".join(required),
        [f"does not address the required module(s) {', '.join(missing[i])}: add them to the "
         "proposal's modules" for i in hit],
    )  # fmt: skip


@_rule(CONSORTIUM_RULES, "modules_one_of")
def _modules_one_of(context: Context, choices: list[str]) -> pd.DataFrame:
    wanted = set(choices)
    hit = [i for i, modules in enumerate(context.modules) if not modules & wanted]
    return _rows(
        context.proposal_ids[hit], pd.NA, None, "consortium.modules_one_of", "none",
        ", ".join(choices),
        f"addresses none of the modules {', '.join(choices)}: name at least one of them",
    )  # fmt: skip


@_rule(CONSORTIUM_RULES, "modules_one_of_each")
def _modules_one_of_each(context: Context, groups: list[list[str]]) -> pd.DataFrame:
    """One row per group of modules a proposal addresses none of."""
    hits = [
        (i, group)
        for i, modules in enumerate(context.modules)
        for group in groups
        if not modules & set(group)
    ]
    return _rows(
        context.proposal_ids[[i for i, _ in hits]], pd.NA, None, "consortium.modules_one_of_each",
        "none", [", ".join(g) for _, g in hits],
        [f"addresses none of the modules {', '.join(g)}: name at least one of them (the call "
         "asks for one module of each group)" for _, g in hits],
    )  # fmt: skip


@_rule(CONSORTIUM_RULES, "min_eu_associated_countries")
def _min_eu_associated(context: Context, rule: EuAssociatedRule) -> pd.DataFrame:
    """Distinct EU member states / associated countries among the eligible partners."""
    members = eu_or_associated(rule.programme)
    partners = context.partners
    inside = partners.loc[
        partners["eligible"] & partners["country"].isin(members), ["proposal", "country"]
    ].drop_duplicates()
    count = (
        inside.groupby("proposal").size().reindex(range(len(context.proposal_ids)), fill_value=0)
    )
    hit = count.index[count < rule.countries].tolist()
    # The countries found, for the messages of the proposals that break the rule only.
    found: dict[int, list[str]] = {i: [] for i in hit}
    for i, country in (
        inside[inside["proposal"].isin(hit)].sort_values("country").itertuples(index=False)
    ):
        found[i].append(country)
    what = describe(rule.programme)
    texts = [
        f"eligible partners from {len(found[i])} different {what} "
        f"({', '.join(found[i]) or 'none'}), at least {rule.countries} needed: add eligible "
        f"partners from {rule.countries - len(found[i])} more {what} (another country each)"
        for i in hit
    ]
    return _rows(
        context.proposal_ids[hit], pd.NA, None, "consortium.min_eu_associated_countries",
        [len(found[i]) for i in hit], rule.countries, texts,
    )  # fmt: skip


# ---------------------------------------------------------------- national (funder) rules


def _funded(context: Context) -> pd.DataFrame:
    """Partners asking a participating funder, with that funder's rules alongside."""
    partners = context.partners[context.partners["funder_known"]]
    return partners.join(context.funders.drop(columns=["country", "name"]), on="funder")


def _funder_rule(name: str) -> str:
    return f"funders.rules.{name}"


@_rule(FUNDER_RULES, "eligible_kinds")
def _eligible_kinds(context: Context, name: str) -> pd.DataFrame:
    partners = context.partners
    bad = partners[partners["funder_known"] & ~partners["kind_ok"]]
    kinds = context.funders["eligible_kinds"].reindex(bad["funder"])
    texts = [
        f"{o} is a {k}; {f} funds only {', '.join(allowed)}: ask another participating funder "
        f"or join as an own-funded partner"
        for o, k, f, allowed in zip(bad["organisation"], bad["kind"], bad["funder"], kinds,
                                    strict=True)
    ]  # fmt: skip
    return _rows(
        bad["proposal_id"], bad["partner"], bad["organisation"], _funder_rule(name), bad["kind"],
        [", ".join(k) for k in kinds], texts,
    )  # fmt: skip


@_rule(FUNDER_RULES, "max_request_per_partner_eur")
def _max_per_partner(context: Context, name: str) -> pd.DataFrame:
    funded = _funded(context)
    bad = funded[funded["requested"] > funded["max_per_partner"]]
    texts = [
        f"{o} asks {show_eur(r)} from {f}, at most {show_eur(m)} per partner: reduce the "
        f"request by {show_eur(r - m)}"
        for o, r, f, m in zip(bad["organisation"], bad["requested"], bad["funder"],
                              bad["max_per_partner"], strict=True)
    ]  # fmt: skip
    return _rows(
        bad["proposal_id"], bad["partner"], bad["organisation"], _funder_rule(name),
        bad["requested"] / 100, bad["max_per_partner"] / 100, texts,
    )  # fmt: skip


@_rule(FUNDER_RULES, "max_request_per_project_eur")
def _max_per_project(context: Context, name: str) -> pd.DataFrame:
    funded = _funded(context)
    totals = funded.groupby(["proposal_id", "funder"], sort=False).agg(
        requested=("requested", "sum"), limit=("max_per_project", "first")
    )
    bad = totals[totals["requested"] > totals["limit"]]
    proposal_ids = bad.index.get_level_values("proposal_id")
    funder = bad.index.get_level_values("funder")
    texts = [
        f"the partners funded by {f} ask {show_eur(r)} in total, at most {show_eur(m)} per "
        f"project: reduce their requests by {show_eur(r - m)}"
        for f, r, m in zip(funder, bad["requested"], bad["limit"], strict=True)
    ]
    return _rows(
        proposal_ids, pd.NA, list(funder), _funder_rule(name),
        (bad["requested"] / 100).to_numpy(), (bad["limit"] / 100).to_numpy(), texts,
    )  # fmt: skip


@_rule(FUNDER_RULES, "own_funded_allowed")
def _own_funded(context: Context, name: str) -> pd.DataFrame:
    refusing = context.funders[~context.funders["own_funded_allowed"]]
    by_country = refusing.reset_index().groupby("country")["funder"].agg(", ".join)
    partners = context.partners
    bad = partners[partners["own_funded"] & partners["country"].isin(by_country.index)]
    names = by_country.reindex(bad["country"]).to_numpy()
    texts = [
        f"{o} ({c}) joins with its own funding, which {f} does not allow for partners from "
        f"{c}: ask {f} for funding or replace the partner"
        for o, c, f in zip(bad["organisation"], bad["country"], names, strict=True)
    ]
    return _rows(
        bad["proposal_id"], bad["partner"], bad["organisation"], _funder_rule(name),
        "own-funded", False, texts,
    )  # fmt: skip


@_rule(FUNDER_RULES, "extra_documents")
def _extra_documents(context: Context, name: str) -> pd.DataFrame:
    funded = _funded(context)
    funded = funded[funded["extra_documents"].map(len) > 0]
    rows = [
        (p, j, o, doc, f)
        for p, j, o, f, have, need in zip(
            funded["proposal_id"], funded["partner"], funded["organisation"], funded["funder"],
            funded["documents"], funded["extra_documents"], strict=True,
        )
        for doc in need
        if doc not in have
    ]  # fmt: skip
    return _rows(
        [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], _funder_rule(name),
        "missing", [r[3] for r in rows],
        [f"{o} lacks the document {d!r} that {f} requires: provide it" for _, _, o, d, f in rows],
    )  # fmt: skip


def _unknown_funders(context: Context) -> pd.DataFrame:
    partners = context.partners
    bad = partners[partners["funder"].notna() & ~partners["funder_known"]]
    funders = ", ".join(context.funders.index)
    return _rows(
        bad["proposal_id"], bad["partner"], bad["organisation"], "partners.funder", bad["funder"],
        funders,
        [f"{o} asks {f}, which takes no part in the call: ask one of {funders}"
         for o, f in zip(bad["organisation"], bad["funder"], strict=True)],
    )  # fmt: skip


def evaluated_rules() -> dict[str, set[str]]:
    """The rule names the engine evaluates, per section (for the completeness test)."""
    return {"consortium": set(CONSORTIUM_RULES), "rules": set(FUNDER_RULES)}


def schema_rules() -> dict[str, set[str]]:
    return {"consortium": set(ConsortiumRules.model_fields), "rules": set(FunderRules.model_fields)}
