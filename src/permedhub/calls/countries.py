"""EU member states and the countries associated to Horizon 2020 and Horizon Europe: the
country sets the consortium rule `min_eu_associated_countries` counts in.

Calls write rules such as "at least two partners from two different EU Member States or
Associated Countries"; which countries those are depends on the framework programme the call
runs under (ERA PerMed is a Horizon 2020 ERA-NET Cofund, so all its calls count Horizon 2020's
associated countries) and on the date. The lists are therefore explicit data, each with the page
it was read on and the date it holds for; they change only by a new dated entry here, never by a
guess.

- EU member states come from `country_converter`'s classification table: its EU28 column for
  Horizon 2020 (the United Kingdom was a member state until 31 January 2020, and under the
  Withdrawal Agreement UK entities take part in Horizon 2020 as if from a member state for the
  lifetime of its grants), its EU27 column for Horizon Europe.
- Associated countries are the public lists cited in `ASSOCIATED`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Literal

import pycountry

from permedhub.graph.geography import classification_table

Programme = Literal["h2020", "horizon-europe"]
PROGRAMME_NAMES: dict[str, str] = {"h2020": "Horizon 2020", "horizon-europe": "Horizon Europe"}

# Kosovo has no ISO 3166-1 code; "XK" is the user-assigned code the EU and country_converter use.
# The partner schema accepts ISO codes only, so a partner from Kosovo cannot be entered yet.
NON_ISO_CODES = frozenset({"XK"})


def _codes(text: str) -> frozenset[str]:
    """Space-separated codes, so a list reads as one line."""
    return frozenset(text.split())


@dataclass(frozen=True)
class AssociatedList:
    programme: Programme
    codes: frozenset[str]  # ISO 3166-1 alpha-2 (and XK for Kosovo)
    as_of: dt.date  # the date the list holds for
    source: str
    note: str


ASSOCIATED: dict[str, AssociatedList] = {
    "h2020": AssociatedList(
        programme="h2020",
        # Iceland, Norway, Albania, Bosnia and Herzegovina, North Macedonia, Montenegro, Serbia,
        # Turkey, Israel, Moldova, Switzerland, Faroe Islands, Ukraine, Tunisia, Georgia, Armenia.
        codes=_codes("IS NO AL BA MK ME RS TR IL MD CH FO UA TN GE AM"),
        as_of=dt.date(2020, 12, 31),
        source="https://www.atmo-access.eu/faq/6-which-are-the-countries-associated-to-the-h2020-programme",
        note=(
            "the 16 countries associated to Horizon 2020 at its end (the last calls closed in "
            "2020); the page is undated. Switzerland was fully associated from 2017 (before: "
            "partially), before any ERA PerMed call. The UK counts as a member state (see "
            "eu_member_states)."
        ),
    ),
    "horizon-europe": AssociatedList(
        programme="horizon-europe",
        # Albania, Armenia, Bosnia and Herzegovina, Canada, Faroe Islands, Georgia, Iceland,
        # Israel, Kosovo, Moldova, Montenegro, New Zealand, North Macedonia, Norway, Serbia,
        # South Korea, Tunisia, Turkiye, Ukraine, United Kingdom.
        codes=_codes("AL AM BA CA FO GE IS IL XK MD ME NZ MK NO RS KR TN TR UA GB"),
        as_of=dt.date(2024, 11, 21),
        source="https://sciencebusiness.net/news/r-d-funding/horizon-europe/horizon-europe-goes-global-whos-whos-out-and-why",
        note=(
            "the 20 associated countries on 21 November 2024; Canada, New Zealand and South "
            "Korea are associated for Pillar II only (where the health cluster and its "
            "partnerships are). Associations after that date (e.g. Switzerland's) are not in "
            "this list."
        ),
    ),
}


@cache
def eu_member_states(programme: Programme) -> frozenset[str]:
    """ISO alpha-2 codes of the EU member states as `programme` counts them: EU28 (with the
    United Kingdom) for Horizon 2020, EU27 for Horizon Europe."""
    column = "EU28" if programme == "h2020" else "EU27"
    alpha2 = {c.alpha_3: c.alpha_2 for c in pycountry.countries}
    table = classification_table()
    members = table.loc[table[column] == column, "ISO3"]
    return frozenset(alpha2[code] for code in members)


def associated_countries(programme: Programme) -> frozenset[str]:
    return ASSOCIATED[programme].codes


@cache
def eu_or_associated(programme: Programme) -> frozenset[str]:
    """EU member states and associated countries of `programme` (alpha-2 codes)."""
    return eu_member_states(programme) | associated_countries(programme)


def describe(programme: Programme) -> str:
    """'EU member state or Horizon 2020 associated country' (for messages)."""
    return f"EU member state or {PROGRAMME_NAMES[programme]} associated country"
