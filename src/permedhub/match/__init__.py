"""Partner and expert matching on the family's graph: the expert register (consented listings)
and working-group selection by MILP (`working_group`)."""
