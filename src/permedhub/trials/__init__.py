"""`permedhub.trials`: trial design and simulation for personalised medicine (PERMIT).

A standalone library (it imports nothing else from `permedhub`).

Exact and numerical-integration parts:

* `gsd`: group-sequential designs (Pocock, O'Brien–Fleming, Wang–Tsiatis, Haybittle–Peto,
  Lan–DeMets spending, beta-spending futility) by recursive numerical integration;
* `fixed`: fixed two-arm sample size / power / detectable effect (binary, continuous, survival);
* `simon`: Simon two-stage optimal, minimax and admissible designs by exact enumeration;
* `biomarker`: targeted vs untargeted, marker-stratified and biomarker-strategy designs;
* `checklist`: the PERMIT checklist (verified published items) for a protocol.

Simulation parts: `enrichment` (adaptive enrichment), `basket` (incl. the exact Fujikawa design),
`platform` (multi-arm multi-stage), `simulate` (YAML design documents), `engines`.

Every bad input raises `TrialInputError` (a `ValueError`) naming the field, the value and the
valid range.
"""

from permedhub.trials.basket import (
    BhmPrior,
    FujikawaSettings,
    bhm_design,
    fujikawa_design,
    independent_baskets,
)
from permedhub.trials.biomarker import (
    Assay,
    BiomarkerDesign,
    CellOutcomes,
    TargetedComparison,
    binary_outcomes,
    biomarker_strategy,
    continuous_outcomes,
    marker_stratified_interaction,
    targeted_vs_untargeted,
)
from permedhub.trials.checklist import (
    ChecklistReport,
    evaluate_protocol,
    load_checklist,
    load_protocol,
    parse_protocol,
)
from permedhub.trials.design_spec import load_design, parse_design
from permedhub.trials.enrichment import EnrichmentDesign
from permedhub.trials.errors import TrialInputError
from permedhub.trials.fixed import (
    FixedDesign,
    PiecewiseExponential,
    binary_detectable_effect,
    binary_power,
    binary_sample_size,
    continuous_detectable_effect,
    continuous_power,
    continuous_sample_size,
    hazard_from_rates,
    probability_of_event,
    survival_detectable_hazard_ratio,
    survival_event_design,
    survival_events,
    survival_power,
    survival_sample_size,
)
from permedhub.trials.gsd import (
    GroupSequentialDesign,
    OperatingCharacteristics,
    crossing_probabilities,
    design_gsd,
    efficacy_bounds,
    operating_characteristics,
    spending_function,
)
from permedhub.trials.platform import PlatformDesign, dunnett_critical_value, simulate_platform
from permedhub.trials.simon import SimonDesign, SimonResult, simon_two_stage
from permedhub.trials.simulate import SimulationReport, simulate_design

__all__ = [
    "Assay",
    "BhmPrior",
    "BiomarkerDesign",
    "CellOutcomes",
    "ChecklistReport",
    "EnrichmentDesign",
    "FixedDesign",
    "FujikawaSettings",
    "GroupSequentialDesign",
    "OperatingCharacteristics",
    "PiecewiseExponential",
    "PlatformDesign",
    "SimonDesign",
    "SimonResult",
    "SimulationReport",
    "TargetedComparison",
    "TrialInputError",
    "bhm_design",
    "binary_detectable_effect",
    "binary_outcomes",
    "binary_power",
    "binary_sample_size",
    "biomarker_strategy",
    "continuous_detectable_effect",
    "continuous_outcomes",
    "continuous_power",
    "continuous_sample_size",
    "crossing_probabilities",
    "design_gsd",
    "dunnett_critical_value",
    "efficacy_bounds",
    "evaluate_protocol",
    "fujikawa_design",
    "hazard_from_rates",
    "independent_baskets",
    "load_checklist",
    "load_design",
    "load_protocol",
    "marker_stratified_interaction",
    "operating_characteristics",
    "parse_design",
    "parse_protocol",
    "probability_of_event",
    "simon_two_stage",
    "simulate_design",
    "simulate_platform",
    "spending_function",
    "survival_detectable_hazard_ratio",
    "survival_event_design",
    "survival_events",
    "survival_power",
    "survival_sample_size",
    "targeted_vs_untargeted",
]
