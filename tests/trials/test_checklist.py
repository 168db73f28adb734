"""PERMIT checklist: only verified items, each with its citation; protocol evaluation.

Sources (see the header of src/permedhub/trials/data/permit_checklist.yaml):
  Fosse et al. (2023) BMC Med 21:14, Table 2 (recommendations 1-10, quoted);
  Superchi et al. (2022) BMJ Open 12:e052926, abstract and Table 2 (design classification);
  Garcia et al. (2024) Sci Rep 14:27894, abstract only.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from permedhub.cli.main import app
from permedhub.trials.checklist import evaluate_protocol, load_checklist, parse_protocol
from permedhub.trials.errors import TrialInputError


def test_every_item_cites_a_source_with_a_doi_and_ids_are_unique() -> None:
    checklist = load_checklist()
    ids = [item.id for item in checklist.items]
    assert len(ids) == len(set(ids))
    for item in checklist.items:
        assert item.source in checklist.sources
        assert checklist.sources[item.source].doi.startswith("10.")
        assert item.locator


def test_fosse_recommendations_are_the_published_table_2_texts() -> None:
    items = {item.id: item for item in load_checklist().items}
    assert items["FOSSE2023-R8"].text.startswith("Pre-registration of preclinical study protocols")
    assert "Several models must be used" in items["FOSSE2023-R3"].text
    # Only recommendations 1-10 were verified; 11-15 are deliberately absent.
    assert "FOSSE2023-R11" not in items
    assert all(items[f"FOSSE2023-R{k}"].verified == "text" for k in range(1, 11))


def test_superchi_core_categories_are_the_four_published_families() -> None:
    item = {i.id: i for i in load_checklist().items}["SUPERCHI2022-CORE-CATEGORY"]
    for family in ("master protocol", "randomise-all", "biomarker strategy", "enrichment"):
        assert family in item.text


def test_gsd_protocol_is_satisfied_by_its_computed_design() -> None:
    protocol = parse_protocol(
        {
            "title": "GSD",
            "design": {
                "kind": "gsd",
                "parameters": {"looks": 3, "boundary": "ld-obf", "alpha": 0.025, "beta": 0.1},
            },
            "addressed": [{"id": "FOSSE2023-R7", "evidence": "Data sharing plan, section 12"}],
        }
    )
    report = evaluate_protocol(protocol)
    status = {item.id: item.status for item in report.items}
    assert status["GARCIA2024-SAMPLE-SIZE"] == "satisfied-by-design"
    assert status["SUPERCHI2022-GENERIC-ADAPTIVE"] == "satisfied-by-design"
    assert status["FOSSE2023-R7"] == "addressed"
    assert status["FOSSE2023-R1"] == "not-applicable"  # preclinical item, clinical protocol
    assert status["SUPERCHI2022-CORE-CATEGORY"] == "not-addressed"  # a GSD has no PM category
    generic = next(i for i in report.items if i.id == "SUPERCHI2022-GENERIC-ADAPTIVE")
    assert "0.025000" in (generic.design_evidence or "")


def test_core_category_is_derived_from_the_biomarker_design_kind() -> None:
    protocol = parse_protocol(
        {
            "title": "strategy",
            "design": {"kind": "biomarker-strategy", "parameters": {"marker_in_control": False}},
        }
    )
    status = {item.id: item for item in evaluate_protocol(protocol).items}
    assert status["SUPERCHI2022-CORE-CATEGORY"].status == "satisfied-by-design"
    assert "biomarker-strategy" in (status["SUPERCHI2022-CORE-CATEGORY"].design_evidence or "")
    assessment = status["SUPERCHI2022-BIOMARKER-ASSESSMENT"]
    assert "not-in-control-arm" in (assessment.design_evidence or "")
    assert status["GARCIA2024-SAMPLE-SIZE"].status == "not-addressed"


def test_fixed_and_simon_designs_justify_the_sample_size() -> None:
    for design in (
        {"kind": "fixed", "parameters": {"endpoint": "binary", "p_control": 0.5,
                                         "p_treatment": 0.75, "beta": 0.1}},
        {"kind": "simon", "parameters": {"p0": 0.1, "p1": 0.3}},
    ):  # fmt: skip
        report = evaluate_protocol(parse_protocol({"title": "x", "design": design}))
        sample = next(i for i in report.items if i.id == "GARCIA2024-SAMPLE-SIZE")
        assert sample.status == "satisfied-by-design"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": "x", "addressed": [{"id": "NOPE", "evidence": "e"}]}, "addressed[0].id"),
        ({"title": "x", "addressed": [{"id": "FOSSE2023-R7", "evidence": ""}]},
         "protocol.addressed.0.evidence"),
        ({"title": "x", "stages": ["marketing"]}, "protocol.stages.0"),
        ({"title": "x", "design": {"kind": "gsd", "parameters": {"looks": 3}}},
         "design.parameters"),
        ({"title": "x", "design": {"kind": "gsd",
                                   "parameters": {"looks": 3, "boundary": "obf", "alpha": 0.9}}},
         "alpha"),
    ],
)  # fmt: skip
def test_bad_protocols_name_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(TrialInputError) as error:
        evaluate_protocol(parse_protocol(data))
    assert error.value.field == field


def test_cli_checklist_json(tmp_path: Path) -> None:
    protocol = tmp_path / "protocol.yaml"
    protocol.write_text(
        yaml.safe_dump(
            {
                "title": "CLI",
                "design": {"kind": "basket"},
                "addressed": [{"id": "SUPERCHI2022-CONTROL-GROUP", "evidence": "shared control"}],
            }
        )
    )
    result = CliRunner().invoke(app, ["trials", "checklist", str(protocol), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    status = {item["id"]: item["status"] for item in payload["items"]}
    assert status["SUPERCHI2022-CORE-CATEGORY"] == "satisfied-by-design"
    assert status["SUPERCHI2022-CONTROL-GROUP"] == "addressed"
    assert payload["counts"]["addressed"] == 1


def test_cli_checklist_reports_a_missing_file_on_stderr(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["trials", "checklist", str(tmp_path / "none.yaml")])
    assert result.exit_code == 2
    assert "protocol" in result.stderr
