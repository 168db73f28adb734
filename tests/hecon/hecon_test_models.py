"""Small model documents used across tests (plain dicts, as a YAML file would load)."""

from __future__ import annotations

import copy
from typing import Any

THREE_STATE: dict[str, Any] = {
    "name": "healthy-sick-dead",
    "settings": {
        "cycles": 10,
        "cycle_length": 1,
        "discount_costs": 0.03,
        "discount_outcomes": 0.03,
        "discount_method": "cycle_end",
        "counting": "end",
        "effect": "qaly",
    },
    "states": [{"name": "healthy"}, {"name": "sick"}, {"name": "dead", "dead": True}],
    "parameters": {"p_hs": 0.1, "p_hd": 0.02, "p_sd": 0.2, "c_sick": 1000, "u_sick": 0.6},
    "strategies": {"usual": {}, "new": {"parameters": {"p_hs": 0.05}}},
    "transitions": {
        "healthy": {"healthy": "C", "sick": "p_hs", "dead": "p_hd"},
        "sick": {"sick": "C", "dead": "p_sd"},
    },
    "initial": {"healthy": 1},
    "state_costs": {"medical": {"sick": "c_sick"}},
    "state_utilities": {"healthy": 1, "sick": "u_sick"},
}


def three_state(**changes: Any) -> dict[str, Any]:
    """A deep copy of THREE_STATE with top-level keys replaced."""
    doc = copy.deepcopy(THREE_STATE)
    doc.update(copy.deepcopy(changes))
    return doc
