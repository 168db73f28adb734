"""permedhub.federation: federated feasibility counts over regional OMOP CDM nodes.

A *node* (`node.py`, served by `permedhub node serve`) runs next to a region's OMOP CDM v5.4
database, compiles a cohort definition (`cohort.py`) to one parametrised SQL query
(`compile.py`) and returns only disclosure-controlled aggregates (`disclosure.py`) to
authenticated researchers (`signing.py`), refusing repeated and differencing queries
(`guard.py`). The *hub* (`hub.py`) sends a cohort to every registered node at once and reports
each node's answer or failure. `synthetic.py` makes labelled synthetic regions for tests and
benchmarks.

The package imports no portal code (web/, cli/, graph/, db): a node is its own process.
"""
