"""The clinical-trials helpdesk (EULAC-PerMed's Virtual Helpdesk, for every region of the family):
a knowledge base of regulatory bodies, clinical-trial rules, funders and FAQ entries, each sourced
and dated (schemas, models, loading, seed)."""
