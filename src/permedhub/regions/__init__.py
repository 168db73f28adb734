"""Regional adoption of personalised medicine (SAPHIRe): regions as places with their innovation
group and population density, barrier and readiness surveys with a readiness index, and the
family's workshops and interregional events. A service on graph/ (DESIGN.md)."""
