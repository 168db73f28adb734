"""Simulation engines: the chunked Monte-Carlo runner and the per-design engines.

`runner` executes any block simulator over blocks of trials (serially, in processes or on Dask)
and turns per-trial outcomes into estimates with Monte-Carlo standard errors. The enrichment
engines come in two flavours that must agree: `enrichment_summary` draws sufficient statistics
per stage, arm and sub-population; `enrichment_patient` simulates individual patients.
"""
