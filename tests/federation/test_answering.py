"""The node's answer, in process: what is published, and which queries are refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from federation_support import Region, make_node

from permedhub.federation.answering import Node, Refusal, decide
from permedhub.federation.cohort import parse_cohort

REF = "2024-01-01"


def cohort(**fields: object) -> str:
    return json.dumps({"name": "q", "reference_date": REF, **fields})


def T2DM(**fields: object) -> str:
    return cohort(inclusion=[{"domain": "condition", "concept_ids": [201826]}], **fields)


def exact(node: Node, text: str) -> int:
    return int(node.members(parse_cohort(text)).size)


def refusal(node: Node, text: str, user: str = "alice") -> Refusal:
    with pytest.raises(Refusal) as caught:
        node.submit(user, text)
    return caught.value


def test_a_count_is_rounded_up_to_a_multiple_of_ten(north: Node) -> None:
    text = T2DM(age={"min": 40, "max": 70})
    answer = north.submit("alice", text)
    true = exact(north, text)
    assert true % 10 != 0  # the planted data make rounding visible
    assert answer["count"] == -(-true // 10) * 10
    assert answer["synthetic"] is True and answer["data"].startswith("SYNTHETIC")


def test_a_small_count_is_suppressed(north: Node) -> None:
    text = cohort(inclusion=[{"domain": "condition", "concept_ids": [316139]}])
    assert 0 < exact(north, text) < 10  # 7 planted heart-failure patients
    answer = north.submit("alice", text)
    assert answer["count"] is None and answer["count_suppressed"] is True


def test_a_breakdown_never_leaves_a_suppressed_cell_derivable(north: Node) -> None:
    text = cohort(age={"min": 50, "max": 79}, breakdown=["sex", "age_band"],
                  inclusion=[{"domain": "condition", "concept_ids": [255573]}])  # fmt: skip
    answer = north.submit("alice", text)
    cells = answer["breakdown"]["cells"]
    hidden = [c for c in cells if c["count"] is None]
    assert any(c["suppressed"] == "primary" for c in hidden)
    assert any(c["suppressed"] == "secondary" for c in hidden)
    for variable in ("sex", "age_band"):
        for value in {c[variable] for c in cells}:
            line = [c for c in cells if c[variable] == value]
            assert sum(c["count"] is None for c in line) != 1, (variable, value)
    total = next(c for c in cells if c["sex"] == "all" and c["age_band"] == "all")
    assert total["count"] == answer["count"]


def test_asking_the_same_cohort_again_is_refused(north: Node) -> None:
    north.submit("alice", T2DM())
    renamed = json.dumps({**json.loads(T2DM()), "name": "same people, another name"})
    assert refusal(north, renamed).code == "repeat"
    # another researcher has her own history
    assert north.submit("bob", T2DM())["status"] == "answered"


def test_differencing_two_cohorts_to_isolate_a_few_people_is_refused(north: Node) -> None:
    everyone = cohort()
    without_hf = cohort(exclusion=[{"domain": "condition", "concept_ids": [316139]}])
    assert 0 < exact(north, everyone) - exact(north, without_hf) < 10
    north.submit("alice", everyone)
    caught = refusal(north, without_hf)
    assert caught.code == "differencing" and caught.status == 409
    # a cohort that differs by many people is answered
    without_t2dm = cohort(exclusion=[{"domain": "condition", "concept_ids": [201826]}])
    assert north.submit("alice", without_t2dm)["status"] == "answered"


def test_differencing_a_breakdown_cell_against_a_total_is_refused(north: Node) -> None:
    by_sex = cohort(breakdown=["sex"])
    no_hf = [{"domain": "condition", "concept_ids": [316139]}]
    women_without_hf = cohort(sex=["female"], exclusion=no_hf)
    women = parse_cohort(cohort(sex=["female"]))
    hf_women = int(north.members(women).size) - exact(north, women_without_hf)
    assert 0 < hf_women < 10
    assert north.submit("alice", by_sex)["breakdown"]["cells"][0]["count"] is not None
    assert refusal(north, women_without_hf).code == "differencing"


def test_rate_limit_and_budget(regions: dict[str, Region], tmp_path: Path) -> None:
    node = make_node(regions["north"], tmp_path / "a", per_minute=2)
    node.submit("alice", cohort(age={"min": 0, "max": 50}))
    node.submit("alice", cohort(age={"min": 51, "max": 130}))
    caught = refusal(node, cohort(age={"min": 20, "max": 130}))
    assert (caught.status, caught.code) == (429, "rate_limited")
    node.close()
    node = make_node(regions["north"], tmp_path / "b", per_day=1)
    node.submit("alice", cohort())
    assert refusal(node, T2DM()).code == "budget_exhausted"
    node.close()


def test_queries_wait_for_the_operators_approval(
    regions: dict[str, Region], tmp_path: Path
) -> None:
    node = make_node(regions["north"], tmp_path, require_approval=True)
    first = node.submit("alice", T2DM())
    assert first["status"] == "pending_approval" and "count" not in first
    assert node.submit("alice", T2DM())["status"] == "pending_approval"
    decide(node.state, first["query_id"], approve=True, operator="olga")
    answer = node.submit("alice", T2DM())
    assert answer["status"] == "answered" and answer["query_id"] == first["query_id"]
    other = node.submit("alice", cohort(sex=["male"]))
    decide(node.state, other["query_id"], approve=False, operator="olga")
    assert refusal(node, cohort(sex=["male"])).code == "rejected"
    with pytest.raises(ValueError, match="expected a pending query"):
        decide(node.state, other["query_id"], approve=True, operator="olga")
    events = [(e["event"], e["query_id"]) for e in node.state.audit_log()]
    assert ("approved", first["query_id"]) in events and ("rejected", other["query_id"]) in events
    node.close()


def test_bad_cohorts_and_unknown_codes_are_refused_naming_the_field(north: Node) -> None:
    caught = refusal(north, cohort(inclusion=[{"domain": "drug", "concept_ids": [123]}]))
    assert caught.status == 422
    assert caught.detail == [{"field": "inclusion[0].concept_ids[0]", "value": 123,
                              "expected": "a concept id this node knows"}]  # fmt: skip
    assert refusal(north, "{not json").code == "invalid_cohort"


def test_every_outcome_is_audited(north: Node) -> None:
    north.submit("alice", T2DM())
    refusal(north, T2DM())
    refusal(north, "{}")
    log = north.state.audit_log()
    assert [e["event"] for e in log] == ["answered", "refused", "refused"]
    assert log[0]["detail"]["count"] == north.submit("bob", T2DM())["count"]
    assert log[1]["detail"]["reason"] == "repeat"
    assert log[2]["detail"]["reason"] == "invalid cohort"
    assert np.all([e["user"] == "alice" for e in log[:3]])
