"""permedhub.hecon: health-economic evaluation of personalised medicine (standalone library).

Models (model documents, Markov cohort engine, decision trees and test-and-treat, partitioned
survival, microsimulation, DSA, payment schemes) and analyses (incremental tables, CEAC/CEAF,
value of information, budget impact, plots). Imports nothing else from ``permedhub``.
"""

# Importing the package must stay cheap (the CLI starts in well under a second): each name is
# imported from its module the first time it is used.
import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
