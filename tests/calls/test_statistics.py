"""Statistics of calls: a small call run through the workflow (counts worked out by hand from
the example proposals), the seeded real calls against their files and the graph seed; the
decision report the secretariat reads; partners naming organisations the graph lacks."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
import yaml
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from calls_world import PDF, World, build_world, example_proposals
from permedhub.calls import statistics
from permedhub.calls.documents import seeded_call_files
from permedhub.calls.errors import NotAllowed, WorkflowError
from permedhub.calls.store import ProposalRecord, WorkflowAudit
from permedhub.graph.models import Initiative
from smtp_support import Mailbox as Inbox


@pytest.fixture
def world(engine: Engine, smtp: tuple[Inbox, Any]) -> World:
    return build_world(engine, smtp[1])


def _submit(world: World, applicant: str, form: dict[str, Any]) -> int:
    consortium, _ = world.workflow.register_consortium(
        world.call.id, world[applicant], form["acronym"]
    )
    return world.workflow.save(consortium, world[applicant], form, PDF, submit=True)


def _review_all(world: World, score: float = 4.0) -> None:
    for name in ("rev-nl", "rev-se", "rev-pl", "rev-at", "rev-be"):
        for item in world.workflow.review_queue(world.call.id, world[name]):
            world.workflow.submit_review(
                item["id"], world[name], {c: score for c in ("excellence", "impact",
                                                             "implementation")},
            )  # fmt: skip


def _decided_call(world: World) -> list[int]:
    """SYN-ONE, SYN-TWO and SYN-FIVE submitted; SYN-FIVE breaks the consortium rules, the
    French funder rejects SYN-TWO's French partner; SYN-ONE alone is reviewed and funded."""
    wf, call, sec = world.workflow, world.call.id, world["sec"]
    forms = example_proposals()
    ids = [_submit(world, f"app{i}", forms[n]) for i, n in enumerate((0, 1, 4))]
    wf.check_eligibility(call, sec)
    wf.national_check(ids[1], world["fun-fr"], 2, False, "not a hospital of our system")
    wf.assign_reviewers(call, sec, per_proposal=1)
    _review_all(world)
    assert wf.decide(call, sec).funded == [str(ids[0])]
    return ids


def _rows(table: Any, dimension: str) -> dict[str, dict[str, Any]]:
    return {r["value"]: r for r in table[table["dimension"] == dimension].to_dict("records")}


def test_statistics_of_a_call_run_in_permed_hub(world: World, engine: Engine) -> None:
    _decided_call(world)
    with Session(engine) as session:
        assert statistics.workflow_calls(session, decided_only=True) == [world.call.id]
        table = statistics.workflow_statistics(session, [world.call.id])
    assert set(table["stage"]) == {"pre-proposal"}
    whole = _rows(table, "all")["all"]
    # 3 submitted (3 + 3 + 4 partners), 1 eligible and funded (its 3 partners).
    assert [whole[k] for k in ("proposals_submitted", "proposals_eligible",
                               "proposals_funded")] == [3, 1, 1]  # fmt: skip
    assert [whole[k] for k in ("partners_submitted", "partners_eligible",
                               "partners_funded")] == [10, 3, 3]  # fmt: skip
    countries = _rows(table, "country")
    assert list(countries) == ["DE", "ES", "FR", "IT"]
    # DE: SYN-ONE's, SYN-TWO's and SYN-FIVE's two German universities.
    de = countries["DE"]
    assert (de["proposals_submitted"], de["partners_submitted"]) == (3, 4)
    assert (de["proposals_eligible"], de["proposals_funded"], de["partners_funded"]) == (1, 1, 1)
    assert de["proposal_success_rate"] == pytest.approx(1 / 3)
    it = countries["IT"]  # SYN-TWO only, rejected nationally
    assert (it["proposals_submitted"], it["proposals_eligible"], it["proposals_funded"]) == (
        1, 0, 0,
    )  # fmt: skip
    assert (countries["ES"]["proposals_submitted"], countries["ES"]["partners_submitted"]) == (
        2, 2,
    )  # fmt: skip
    funders = _rows(table, "funder")
    assert funders["own funded"]["partners_submitted"] == 1  # SYN-FIVE's Seville institute
    assert funders["syn-funder-de"]["partners_submitted"] == 4
    kinds = _rows(table, "organisation kind")
    assert (kinds["university"]["proposals_submitted"], kinds["university"]["partners_submitted"],
            kinds["university"]["partners_funded"]) == (3, 5, 1)  # fmt: skip
    modules = _rows(table, "module")
    assert (modules["syn-module-a"]["proposals_submitted"],
            modules["syn-module-a"]["proposals_funded"]) == (1, 1)  # fmt: skip
    assert (modules["syn-module-b"]["proposals_submitted"],
            modules["syn-module-b"]["proposals_eligible"]) == (2, 0)  # fmt: skip
    assert pd.isna(modules["syn-module-b"]["partners_submitted"])  # not counted by module


def test_a_call_in_the_workflow_is_public_only_once_decided(world: World, engine: Engine) -> None:
    wf, call, sec = world.workflow, world.call.id, world["sec"]
    _submit(world, "app0", example_proposals()[0])
    with Session(engine) as session:
        assert call not in statistics.known_calls(session, public=True)
        assert call in statistics.known_calls(session, public=False)
    wf.check_eligibility(call, sec)
    wf.assign_reviewers(call, sec, per_proposal=1)
    _review_all(world)
    wf.decide(call, sec)
    with Session(engine) as session:
        assert call in statistics.known_calls(session, public=True)
        summary = statistics.call_summary(session, [call]).to_dict("records")[0]
    assert summary["run_in_permed_hub"]
    assert (summary["hub_proposals_submitted"], summary["hub_proposals_funded"]) == (1, 1)


def _seed_file(call_id: str) -> dict[str, Any]:
    path = next(p for p in seeded_call_files() if p.stem == call_id)
    return yaml.safe_load(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_the_seeded_calls_success_rates_come_from_their_files_only() -> None:
    calls = list(statistics.seeded_calls().values())
    published = statistics.published_outcomes(calls).set_index("call")
    stated = _seed_file("erapermed-jtc2021")["outcome"]
    jtc2021 = published.loc["erapermed-jtc2021"]
    assert (jtc2021["pre_proposals_eligible"], jtc2021["projects_funded"]) == (
        stated["pre_proposals_eligible"], stated["projects_funded"],
    )  # fmt: skip
    assert jtc2021["success_rate"] == pytest.approx(22 / 217)
    assert jtc2021["success_rate_of"] == "eligible pre-proposals"
    assert jtc2021["source"].startswith("https://")
    # JTC2018's announcement gives the projects funded but no proposal count: no rate.
    jtc2018 = published.loc["erapermed-jtc2018"]
    assert (
        jtc2018["projects_funded"] == _seed_file("erapermed-jtc2018")["outcome"]["projects_funded"]
    )
    assert jtc2018["success_rate"] != jtc2018["success_rate"]  # NaN
    # The others state no outcome: every figure unknown.
    for call_id in ("erapermed-jtc2019", "erapermed-jtc2020", "erapermed-jtc2022"):
        assert "outcome" not in _seed_file(call_id)
        assert published.loc[call_id, statistics.PUBLISHED_FIELDS].isna().all(), call_id


def test_the_seeded_calls_projects_and_partners_from_the_graph(engine: Engine) -> None:
    ids = [f"erapermed-jtc{year}" for year in range(2018, 2023)]
    with Session(engine) as session:
        table = statistics.graph_statistics(session, ids)
        found = dict(
            session.execute(
                select(Initiative.call_topic, func.count())
                .where(Initiative.kind == "project", Initiative.call_topic.in_(ids))
                .group_by(Initiative.call_topic)
            ).all()
        )
        summary = statistics.call_summary(session, ids).set_index("call")
    whole = table[table["dimension"] == "all"].set_index("call")["projects"].to_dict()
    assert whole == found and sum(found.values()) >= 10
    for call_id in ids:
        mine = table[table["call"] == call_id]
        partners = int(mine.loc[mine["dimension"] == "all", "partners"].sum())
        # Each partner is counted once by country and once by organisation kind.
        for dimension in ("country", "organisation kind"):
            assert int(mine.loc[mine["dimension"] == dimension, "partners"].sum()) == partners
        assert summary.loc[call_id, "graph_projects"] == found.get(call_id, 0)
        # Never more projects found than the call's announcement says it funded.
        stated = summary.loc[call_id, "published_projects_funded"]
        if not pd.isna(stated):
            assert found.get(call_id, 0) <= stated
    jtc2021 = table[(table["call"] == "erapermed-jtc2021") & (table["dimension"] == "country")]
    assert {"IT", "DE"} <= set(jtc2021["value"])
    assert summary.loc["erapermed-jtc2021", "published_success_rate"] == pytest.approx(22 / 217)


def test_the_secretariat_reads_the_decision_it_made(world: World, engine: Engine) -> None:
    wf, call, sec = world.workflow, world.call.id, world["sec"]
    assert wf.decision_report(call, sec) is None  # no decision yet
    ids = _decided_call(world)
    with pytest.raises(NotAllowed):
        wf.decision_report(call, world["app0"])
    with pytest.raises(NotAllowed):
        wf.decision_report(call, world["fun-de"])
    found = wf.decision_report(call, sec)
    assert found is not None and found.decision.funded == [str(ids[0])]
    # A decision with a top-up is read back with it; the audit trail keeps the amount.
    wf.decide(call, sec, top_up_eur=Decimal("1000.50"))
    again = wf.decision_report(call, sec)
    assert again is not None and again.decision.mode == "mixed"
    assert again.decision.top_up_eur == 1000.5
    with Session(engine) as session:
        detail = session.execute(
            select(WorkflowAudit.detail)
            .where(WorkflowAudit.action == "decide")
            .order_by(WorkflowAudit.id.desc())
        ).scalars().first()  # fmt: skip
    assert detail is not None and detail["top_up_eur"] == "1000.50"


def test_a_report_on_a_ranking_changed_since_the_decision_is_refused(world: World) -> None:
    wf, call, sec = world.workflow, world.call.id, world["sec"]
    forms = example_proposals()
    first = _submit(world, "app0", forms[0])
    second = _submit(world, "app1", forms[3])  # SYN-FOUR: FR, IT, DE and own-funded CH
    wf.check_eligibility(call, sec)
    wf.assign_reviewers(call, sec, per_proposal=1)
    _review_all(world)
    # Both fit the budgets; the decision funds both whatever their order.
    assert sorted(wf.decide(call, sec).funded) == sorted([str(first), str(second)])
    assert wf.decision_report(call, sec) is not None
    # A panel adjustment that fails a threshold changes who is funded: the stored decision
    # no longer is what a rerun gives.
    threshold = next(c for c in world.call.evaluation.criteria if c.threshold is not None)  # type: ignore[union-attr]
    wf.adjust(second, sec, threshold.id, threshold.scale_min, "a recount of the panel")
    with pytest.raises(WorkflowError) as refused:
        wf.decision_report(call, sec)
    assert refused.value.field == "decision" and "decide again" in refused.value.expected


def test_a_partner_naming_an_organisation_the_graph_lacks_is_refused(
    world: World, engine: Engine
) -> None:
    form = example_proposals()[0]
    form["partners"][1] = {**form["partners"][1], "organisation": "syn-nowhere-institute"}
    consortium, _ = world.workflow.register_consortium(world.call.id, world["app0"], "SYN-ONE")
    for submit in (False, True):  # neither a draft nor a submission
        with pytest.raises(WorkflowError) as refused:
            world.workflow.save(consortium, world["app0"], form, PDF, submit=submit)
        assert refused.value.field == "partners[1].organisation"
        assert refused.value.value == "syn-nowhere-institute"
        assert "organisation in the knowledge graph" in refused.value.expected
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(ProposalRecord)).scalar_one() == 0
    # The live check says so while the applicant types.
    live = world.workflow.live_check(world.call.id, form)
    assert not live.ok
    assert [p["field"] for p in live.problems] == ["partners[1].organisation"]
    assert "'syn-nowhere-institute' is not the id of an organisation" in live.problems[0]["message"]
    # A real graph organisation (from the family seed) is taken.
    form["partners"][1] = {**form["partners"][1], "organisation": "anr"}
    assert world.workflow.save(consortium, world["app0"], form, PDF) > 0
    assert world.workflow.live_check(world.call.id, form).problems == []
