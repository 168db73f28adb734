"""A call and its proposals as pandas frames, the engines' input (amounts in integer cents).

One row per partner (`partners_frame`) and per funder (`funders_frame`); the engines work on
these with group-bys and array operations instead of looping over Pydantic objects.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from permedhub.calls.errors import CallInputError
from permedhub.calls.model import Call, ProposalSet


def cents(amount: Decimal) -> int:
    """EUR (at most two decimals, validated) as integer cents: exact sums."""
    return int(amount * 100)


def eur(amount_cents: int | float | np.integer) -> float:
    """Integer cents as EUR for output (JSON, frames)."""
    return float(amount_cents) / 100


def show_eur(amount_cents: int | float | np.integer) -> str:
    """'250,000 EUR' (cents shown only when there are some)."""
    value = float(amount_cents) / 100
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    return f"{text} EUR"


def country_of(code: str) -> str:
    """The country of a country or subdivision code ("ES-CT" -> "ES")."""
    return code.partition("-")[0]


def partners_frame(proposals: ProposalSet) -> pd.DataFrame:
    """One row per partner: proposal (position), proposal_id, partner (position in its
    proposal), organisation, country, kind, funder (None when own-funded), requested (cents),
    own_funded, coordinator, documents (a tuple)."""
    rows = []
    for i, proposal in enumerate(proposals.proposals):
        coordinator = proposal.coordinator_index()
        rows += [
            (
                i, proposal.id, j, partner.organisation, country_of(partner.country),
                partner.kind, partner.funder, cents(partner.requested_eur), partner.own_funded,
                j == coordinator, tuple(partner.documents),
            )
            for j, partner in enumerate(proposal.partners)
        ]  # fmt: skip
    columns = [
        "proposal", "proposal_id", "partner", "organisation", "country", "kind", "funder",
        "requested", "own_funded", "coordinator", "documents",
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype({"proposal": "int64", "partner": "int64", "requested": "int64",
                         "own_funded": bool, "coordinator": bool})  # fmt: skip


def funders_frame(call: Call) -> pd.DataFrame:
    """One row per funder, indexed by organisation id: country, budget (cents, NaN when the
    call document does not state it) and the national rules (limits in cents, NaN when
    absent)."""
    rows = []
    for funder in call.funders:
        rules = funder.rules
        rows.append({
            "funder": funder.organisation,
            "name": funder.name or funder.organisation,
            "country": country_of(funder.country),
            "budget": np.nan if funder.budget_eur is None else cents(funder.budget_eur),
            "eligible_kinds": None if rules.eligible_kinds is None else tuple(rules.eligible_kinds),
            "max_per_partner": np.nan if rules.max_request_per_partner_eur is None
            else cents(rules.max_request_per_partner_eur),
            "max_per_project": np.nan if rules.max_request_per_project_eur is None
            else cents(rules.max_request_per_project_eur),
            "own_funded_allowed": rules.own_funded_allowed,
            "extra_documents": tuple(rules.extra_documents),
        })  # fmt: skip
    return pd.DataFrame(rows).set_index("funder")


def demand_matrix(partners: pd.DataFrame, proposals: int, funder_ids: list[str]) -> np.ndarray:
    """(proposals x funders) integer cents each proposal asks from each funder, from
    `partners_frame` of `proposals` proposals."""
    funded = partners[partners["funder"].notna()]
    column = pd.Index(funder_ids).get_indexer(funded["funder"])
    if (column < 0).any():
        unknown = sorted(set(funded["funder"][column < 0]))
        raise CallInputError("partners.funder", unknown, "funders that take part in the call")
    demand = np.zeros((proposals, len(funder_ids)), dtype=np.int64)
    np.add.at(demand, (funded["proposal"].to_numpy(), column), funded["requested"].to_numpy())
    return demand


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as JSON-ready dicts: NumPy scalars as Python ones, NaN/NA as None."""
    out = []
    for row in frame.to_dict(orient="records"):
        clean = {}
        for key, value in row.items():
            if isinstance(value, np.generic):
                value = value.item()
            if value is pd.NA or (isinstance(value, float) and math.isnan(value)):
                value = None
            clean[str(key)] = value
        out.append(clean)
    return out
