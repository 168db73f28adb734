"""Questions the API, the CLI and the portal ask of the graph: one function each, one module
per question area (initiatives, organisations, places, networks, timelines, counting, topics,
calls; `common` holds what several share).

Every function takes a SQLAlchemy `Session` and returns a view from `graph.views`; a missing
record raises `NotFound`, a bad filter `InvalidFilter` (a ValueError naming the field).
"""

from __future__ import annotations

from permedhub.graph.queries.calls import list_calls
from permedhub.graph.queries.common import (
    MAX_PER_PAGE,
    ORGANISATION_COLUMNS,
    SUMMARY_COLUMNS,
    SUMMARY_ONLY,
    InvalidFilter,
    NotFound,
    OrgCountry,
    SubCountry,
    initiative_summary,
    status,
)
from permedhub.graph.queries.counting import counts
from permedhub.graph.queries.initiatives import (
    get_initiative,
    initiative_partners,
    list_initiatives,
)
from permedhub.graph.queries.networks import (
    NETWORK_MAX_NODES,
    NETWORK_TOP_INITIATIVES,
    OTHER_INITIATIVES,
    network,
)
from permedhub.graph.queries.organisations import (
    get_organisation,
    list_organisations,
)
from permedhub.graph.queries.places import (
    COUNTRY_INITIATIVES,
    COUNTRY_ORGANISATIONS_PER_PAGE,
    REGION_INITIATIVES,
    country_organisations,
    country_profile,
    list_regions,
    region_profile,
)
from permedhub.graph.queries.timelines import by_call as timeline_by_call
from permedhub.graph.queries.timelines import timeline
from permedhub.graph.queries.topics import topic_tree

__all__ = [
    "COUNTRY_INITIATIVES",
    "COUNTRY_ORGANISATIONS_PER_PAGE",
    "MAX_PER_PAGE",
    "NETWORK_MAX_NODES",
    "NETWORK_TOP_INITIATIVES",
    "ORGANISATION_COLUMNS",
    "OTHER_INITIATIVES",
    "REGION_INITIATIVES",
    "SUMMARY_COLUMNS",
    "SUMMARY_ONLY",
    "InvalidFilter",
    "NotFound",
    "OrgCountry",
    "SubCountry",
    "country_organisations",
    "country_profile",
    "counts",
    "get_initiative",
    "get_organisation",
    "initiative_partners",
    "initiative_summary",
    "list_calls",
    "list_initiatives",
    "list_organisations",
    "list_regions",
    "network",
    "region_profile",
    "status",
    "timeline",
    "timeline_by_call",
    "topic_tree",
]
