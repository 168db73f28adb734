"""Simulate an adaptive enrichment design from Python with both engines.

Run: .venv/bin/python examples/trials/enrichment_from_python.py
The same design as a YAML document: src/permedhub/trials/examples/enrichment_simes_epsilon.yaml
(`permedhub trials simulate <that file> --n-sim 100000 --seed 1 --out report.html`).
"""

from __future__ import annotations

from permedhub.trials.engines.enrichment_patient import PatientLevelEngine, PatientOptions
from permedhub.trials.engines.enrichment_summary import SummaryStatisticEngine
from permedhub.trials.engines.runner import run_simulation
from permedhub.trials.enrichment import EnrichmentDesign, EnrichmentSimulator, NormalScenario

design = EnrichmentDesign(
    stage_sample_sizes=(150, 150),
    prevalences=(0.4, 0.6),
    intersection_test="simes",
    selection="epsilon",
    epsilon=0.1,
)
scenario = NormalScenario(effect_s=0.4, effect_r=0.1)
engines = {
    "summary": SummaryStatisticEngine(design, scenario),
    "patient": PatientLevelEngine(design, scenario, PatientOptions(dropout=0.05)),
}
for label, engine in engines.items():
    summary = run_simulation(EnrichmentSimulator(design, scenario, engine), 20_000, seed=1)
    print(f"--- {label}-level engine")
    print(summary.to_frame().to_string(index=False))
