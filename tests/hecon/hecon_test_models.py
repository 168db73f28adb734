"""Small model documents used across tests (plain dicts, as a YAML file would load)."""

from __future__ import annotations

import copy
import math
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


def gompertz_table(path: Any) -> Any:
    """Write a synthetic life table (ages 0-110, m_x = 2e-4 exp(0.085 x)) to `path`."""
    rows = "\n".join(f"{age},{2e-4 * math.exp(0.085 * age):.6g}" for age in range(111))
    path.write_text("Age,Total\n" + rows + "\n", encoding="utf-8")
    return path


def user_style(life_table: Any, stages: int = 5, cycles: int = 30, **settings: Any) -> dict:
    """The PSA benchmark's user-style model (benchmarks/hecon_psa.py), smaller: mortality
    looked up by age in a life table, PSA hazard ratios per stage, costs growing with the
    cycle plus a first-two-cycles surcharge, utilities falling with age, a one-off cost of
    dying. `settings` replace entries of the settings (e.g. counting, discount_method)."""
    names = [f"stage{i}" for i in range(1, stages + 1)]
    params: dict[str, Any] = {
        "mx": {"file": str(life_table), "key": "Age", "column": "Total", "method": "step"},
        "age0": 50,
        "hr": 1.0,
        "age": "age0 + (model_time - 1) * cycle_length",
        "growth": {"distribution": "normal", "mean": 0.02, "sd": 0.005},
    }
    transitions: dict[str, dict[str, Any]] = {}
    costs: dict[str, Any] = {}
    utilities: dict[str, Any] = {}
    for i, s in enumerate(names, start=1):
        params[f"p{i}"] = {"distribution": "beta", "alpha": 10 + i, "beta": 90}
        params[f"hr_d{i}"] = {"distribution": "lognormal", "mean": 1 + 0.1 * i, "se": 0.05}
        params[f"c{i}"] = {"distribution": "gamma", "mean": 1000 * i, "se": 200 * i}
        params[f"u{i}"] = {"distribution": "beta", "mean": 0.95 - 0.07 * i, "se": 0.02}
        params[f"pd{i}"] = f"rate_to_prob(mx(age) * hr_d{i}, cycle_length)"
        row: dict[str, Any] = {s: "C", "dead": f"pd{i}"}
        if i < stages:
            row[names[i]] = f"(1 - pd{i}) * p{i} * hr"
        transitions[s] = row
        costs[s] = f"c{i} * (1 + growth) ** (model_time - 1) + (500 if model_time <= 2 else 0)"
        utilities[s] = f"max(u{i} - 0.004 * (age - age0), 0)"
    return {
        "name": "user-style",
        "settings": {
            "cycles": cycles,
            "cycle_length": 1,
            "discount_costs": 0.035,
            "discount_outcomes": 0.035,
            "discount_method": "cycle_end",
            "counting": "half_cycle",
            "effect": "qaly",
            **settings,
        },
        "states": [{"name": s} for s in names] + [{"name": "dead", "dead": True}],
        "parameters": params,
        "strategies": {
            name: {"parameters": {"hr": hr}, "initial_costs": {"drug": 5000 * (1 - hr)}}
            for name, hr in {"usual": 1.0, "drug_a": 0.85, "drug_b": 0.65}.items()
        },
        "transitions": transitions,
        "initial": {"stage1": 1},
        "state_costs": {"medical": costs},
        "state_utilities": utilities,
        "initial_costs": {"drug": 0},
        "transition_rewards": [
            {"from": s, "to": "dead", "costs": {"medical": 3000}} for s in names
        ],
    }


def user_style_tunnel(life_table: Any) -> dict:
    """user_style with a 3-cycle tunnel on stage2 whose cost and utility read state_time."""
    doc = user_style(life_table)
    doc["states"][1]["tunnel"] = 3
    doc["state_costs"]["medical"]["stage2"] = (
        "c2 * (1 + growth) ** (model_time - 1) + 400 / state_time"
    )
    doc["state_utilities"]["stage2"] = "max(u2 - 0.01 * state_time, 0)"
    return doc
