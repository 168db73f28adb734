"""A call in the workflow for the tests: the synthetic example call published, a secretariat,
two funders, five reviewers and applicants, all with their own mail address, on a clock the
test moves, against a real SMTP server."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, select

from permedhub.calls.documents import load_call
from permedhub.calls.model import Call
from permedhub.calls.workflow import Workflow
from permedhub.calls.workflow_base import Actor
from permedhub.db import writing
from permedhub.graph.loading import load
from permedhub.graph.models import UserAccount

EXAMPLES = Path(__file__).parents[1] / "src" / "permedhub" / "calls" / "examples"
CALL_FILE = EXAMPLES / "synthetic-call.yaml"
PROPOSALS_FILE = EXAMPLES / "synthetic-proposals.yaml"
# The example proposals' partners, as graph organisations (a proposal must name known ones).
ORGANISATIONS_FILE = EXAMPLES / "synthetic-organisations.yaml"
# The example call's pre-proposal stage: opens 2026-01-12 09:00+01:00, closes 2026-03-05
# 14:00+01:00; the full-proposal stage closes 2026-06-18 14:00+02:00.
BEFORE_PRE_DEADLINE = dt.datetime(2026, 2, 1, 12, 0, tzinfo=dt.UTC)
PRE_DEADLINE = dt.datetime(2026, 3, 5, 13, 0, tzinfo=dt.UTC)
BEFORE_FULL_DEADLINE = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
REVIEWERS = {  # countries and organisations none of the example's partners share
    "rev-nl": ("syn-uni-utrecht", "NL", ["genomics", "oncology"]),
    "rev-se": ("syn-inst-lund", "SE", ["data-science", "cardiology"]),
    "rev-pl": ("syn-uni-krakow", "PL", ["oncology", "health-economics"]),
    "rev-at": ("syn-uni-vienna", "AT", ["genomics", "rare-diseases"]),
    "rev-be": ("syn-uni-ghent", "BE", ["cardiology"]),
}


class Clock:
    """The server clock the workflow reads; the test sets it."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def example_proposals() -> list[dict[str, Any]]:
    """The example's proposals as applicants would type them (no scores, no id)."""
    document = yaml.safe_load(PROPOSALS_FILE.read_text(encoding="utf-8"))
    forms = []
    for proposal in document["proposals"]:
        forms.append(
            {
                "acronym": proposal["acronym"],
                "title": f"{proposal['acronym']} (synthetic)",
                "modules": proposal["modules"],
                "topics": proposal["topics"],
                "partners": proposal["partners"],
            }
        )
    return forms


def add_users(engine: Engine, names: list[str]) -> dict[str, Actor]:
    """Portal accounts (no usable password: the library tests never log in)."""
    with writing(engine) as session:
        for name in names:
            session.add(UserAccount(name=name, password_hash="!", role="viewer"))
    with writing(engine) as session:
        rows = session.execute(
            select(UserAccount.id, UserAccount.name).where(UserAccount.name.in_(names))
        ).all()
    return {name: Actor(user_id, name) for user_id, name in rows}


def mail_of(name: str) -> str:
    return f"{name}@example.test"


@dataclass
class World:
    workflow: Workflow
    clock: Clock
    call: Call
    people: dict[str, Actor]

    def __getitem__(self, name: str) -> Actor:
        return self.people[name]


def add_example_organisations(engine: Engine) -> None:
    load(engine, [ORGANISATIONS_FILE], actor="tests")


def build_world(engine: Engine, smtp: Any, applicants: int = 6) -> World:
    call = load_call(CALL_FILE)
    add_example_organisations(engine)
    names = [
        "sec",
        "fun-de",
        "fun-fr",
        *REVIEWERS,
        *[f"app{i}" for i in range(applicants)],
        "outsider",
    ]
    people = add_users(engine, names)
    clock = Clock(BEFORE_PRE_DEADLINE)
    workflow = Workflow(engine, clock=clock, smtp=smtp)
    workflow.publish(call, "operator", secretariat=[("sec", mail_of("sec"))])
    sec = people["sec"]
    for funder in ("de", "fr"):
        workflow.grant(
            call.id,
            sec,
            {
                "user": f"fun-{funder}",
                "role": "funder",
                "email": mail_of(f"fun-{funder}"),
                "funder": f"syn-funder-{funder}",
            },
        )
    for name, (organisation, country, expertise) in REVIEWERS.items():
        workflow.grant(
            call.id,
            sec,
            {
                "user": name,
                "role": "reviewer",
                "email": mail_of(name),
                "profile": {
                    "organisation": organisation,
                    "country": country,
                    "expertise": expertise,
                },
            },
        )
    for i in range(applicants):
        workflow.register_applicant(call.id, people[f"app{i}"], mail_of(f"app{i}"))
    return World(workflow, clock, call, people)
