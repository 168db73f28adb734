"""The atlas: mapping records (policies, programmes, infrastructures, biobanks, standards,
training programmes) and the analyses over them and the graph: coverage, gaps, mutual interest,
networks and region reports."""
