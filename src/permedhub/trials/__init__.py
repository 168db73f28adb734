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

# Importing the package must stay cheap (the CLI starts in well under a second): each name is
# imported from its module the first time it is used.
import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
