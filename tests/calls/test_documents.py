"""Call and proposal documents: the example loads; malformed ones are refused naming the
field, the value, what was expected and the line."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from permedhub.calls.documents import load_call, load_proposals, parse_call
from permedhub.calls.errors import CallDocumentError, CallInputError

EXAMPLES = Path(__file__).parents[2] / "src" / "permedhub" / "calls" / "examples"
CALL = yaml.safe_load((EXAMPLES / "synthetic-call.yaml").read_text())
PROPOSALS = yaml.safe_load((EXAMPLES / "synthetic-proposals.yaml").read_text())


def _write(tmp_path: Path, data: Any, name: str = "doc.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _problems(error: pytest.ExceptionInfo[CallDocumentError]) -> list[str]:
    return [str(p) for p in error.value.problems]


def test_the_example_call_and_proposals_load() -> None:
    call = load_call(EXAMPLES / "synthetic-call.yaml")
    assert call.synthetic and call.id.startswith("syn-")
    assert [s.deadline.utcoffset().total_seconds() for s in call.stages] == [3600, 7200]
    proposals = load_proposals(EXAMPLES / "synthetic-proposals.yaml", call)
    assert len(proposals.proposals) == 6
    assert all(p.id.startswith("syn-") for p in proposals.proposals)


def test_unknown_rule_names_the_rule_the_known_ones_and_the_line(tmp_path: Path) -> None:
    data = copy.deepcopy(CALL)
    data["consortium"]["max_partnerz"] = 6
    data["funders"][1]["rules"]["max_per_partner"] = 1
    with pytest.raises(CallDocumentError) as error:
        load_call(_write(tmp_path, data))
    problems = _problems(error)
    text = _write(tmp_path, data).read_text().splitlines()
    assert len(problems) == 2
    national, consortium = problems
    assert "funders[1].rules.max_per_partner = 1" in national
    assert (
        "unknown rule 'max_per_partner'" in national and "max_request_per_partner_eur" in national
    )
    assert "consortium.max_partnerz = 6" in consortium and "min_countries" in consortium
    line = int(consortium.split(":")[0].removeprefix("line "))
    assert text[line - 1].strip() == "max_partnerz: 6"


def test_negative_budget_and_badly_written_amounts(tmp_path: Path) -> None:
    data = copy.deepcopy(CALL)
    data["funders"][0]["budget_eur"] = -5
    data["funders"][1]["budget_eur"] = "1,000,000"
    data["funders"][2]["budget_eur"] = True
    data["funders"][3]["budget_eur"] = 10.005
    with pytest.raises(CallDocumentError) as error:
        load_call(_write(tmp_path, data))
    problems = _problems(error)
    assert (
        "funders[0].budget_eur = -5 is invalid: expected a number greater than or equal to 0"
        in problems[0]
    )
    assert "funders[1].budget_eur = '1,000,000'" in problems[1] and "plain number" in problems[1]
    assert "funders[2].budget_eur = True" in problems[2]
    assert "funders[3].budget_eur = 10.005" in problems[3] and "decimal places" in problems[3]
    assert all(p.startswith("line ") for p in problems)


def test_deadlines_out_of_order_and_without_time_zone(tmp_path: Path) -> None:
    data = copy.deepcopy(CALL)
    data["stages"][1]["deadline"] = "2026-02-01T14:00:00+01:00"
    with pytest.raises(CallDocumentError) as error:
        load_call(_write(tmp_path, data))
    (problem,) = _problems(error)
    assert "stages[1].deadline = '2026-02-01T14:00:00+01:00'" in problem
    assert "after that of stage 'pre-proposal'" in problem
    data["stages"][1]["deadline"] = "2026-07-01T14:00:00"
    with pytest.raises(CallDocumentError, match=r"stages\[1\]\.deadline.*timezone"):
        load_call(_write(tmp_path, data))


def test_call_consistency_rules(tmp_path: Path) -> None:
    data = copy.deepcopy(CALL)
    data["funders"][1]["organisation"] = data["funders"][0]["organisation"]
    with pytest.raises(CallDocumentError, match=r"funders\[1\]\.organisation.*each funder once"):
        parse_call(data)
    data = copy.deepcopy(CALL)
    data["consortium"]["required_modules"] = ["syn-module-z"]
    with pytest.raises(CallDocumentError, match=r"required_modules\[0\] = 'syn-module-z'"):
        parse_call(data)
    data = copy.deepcopy(CALL)
    data["evaluation"]["tie_breaks"] = ["criterion:beauty"]
    with pytest.raises(CallDocumentError, match=r"tie_breaks\[0\] = 'criterion:beauty'"):
        parse_call(data)
    data = copy.deepcopy(CALL)
    data["funding"]["mode"] = "lottery"
    with pytest.raises(CallDocumentError, match="'virtual', 'real' or 'mixed'"):
        parse_call(data)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: syn-x\nfunders: [ {organisation: a\n")
    with pytest.raises(CallInputError, match=r"valid YAML: line 3, column 1"):
        load_call(path)
    with pytest.raises(CallInputError, match="no such file"):
        load_call(tmp_path / "absent.yaml")
    path.write_text("- just\n- a list\n")
    with pytest.raises(CallDocumentError, match="a mapping"):
        load_call(path)


def test_proposals_naming_unknown_funders_or_modules(tmp_path: Path) -> None:
    call = load_call(EXAMPLES / "synthetic-call.yaml")
    data = copy.deepcopy(PROPOSALS)
    data["proposals"][2]["partners"][1]["funder"] = "syn-funder-xx"
    data["proposals"][3]["modules"] = ["syn-module-q"]
    path = _write(tmp_path, data)
    with pytest.raises(CallDocumentError) as error:
        load_proposals(path, call)
    funder, module = _problems(error)
    assert "proposals[2].partners[1].funder = 'syn-funder-xx'" in funder
    assert "a funder of call 'syn-jtc-example'" in funder
    line = int(funder.split(":")[0].removeprefix("line "))
    assert "syn-funder-xx" in path.read_text().splitlines()[line - 1]
    assert "proposals[3].modules[0] = 'syn-module-q'" in module


def test_proposal_field_rules(tmp_path: Path) -> None:
    call = load_call(EXAMPLES / "synthetic-call.yaml")
    cases = [
        (("partners", 3, "requested_eur"), 5000, "0 for an own-funded partner"),
        (("partners", 0, "funder"), None, "the participating funder asked"),
        (("partners", 0, "country"), "XX", "ISO 3166-1"),
        (("partners", 0, "kind"), "pub", "'university'"),
        (("partners", 0, "requested_eur"), "250k", "plain number"),
    ]
    for (key, index, field), value, expected in cases:
        data = copy.deepcopy(PROPOSALS)
        data["proposals"][3][key][index][field] = value
        with pytest.raises(CallDocumentError) as error:
            load_proposals(_write(tmp_path, data), call)
        (problem,) = _problems(error)
        assert f"proposals[3].partners[{index}]" in problem and expected in problem, problem
    data = copy.deepcopy(PROPOSALS)
    data["proposals"][1]["id"] = data["proposals"][0]["id"]
    with pytest.raises(CallDocumentError, match=r"proposals\[1\]\.id = 'syn-p1'.*unique"):
        load_proposals(_write(tmp_path, data), call)
    data = copy.deepcopy(PROPOSALS)
    data["proposals"][0]["partners"][1]["coordinator"] = True
    with pytest.raises(CallDocumentError, match=r"partners\[1\]\.coordinator.*one coordinator"):
        load_proposals(_write(tmp_path, data), call)
    data = copy.deepcopy(PROPOSALS)
    data["call"] = "syn-other-call"
    with pytest.raises(CallDocumentError, match="call = 'syn-other-call'"):
        load_proposals(_write(tmp_path, data), call)


def test_a_bare_list_of_proposals_reads_as_well(tmp_path: Path) -> None:
    call = load_call(EXAMPLES / "synthetic-call.yaml")
    proposals = load_proposals(_write(tmp_path, PROPOSALS["proposals"]), call)
    assert [p.id for p in proposals.proposals][:2] == ["syn-p1", "syn-p2"]
    data = copy.deepcopy(PROPOSALS["proposals"])
    data[0]["score"] = "high"
    with pytest.raises(CallDocumentError, match=r"line \d+: \[0\]\.score = 'high'"):
        load_proposals(_write(tmp_path, data), call)
