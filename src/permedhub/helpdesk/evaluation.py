"""Measuring the helpdesk's answers against labelled questions: recall@k and MRR.

A labelled question names the facts that answer it (`answers`) and the part of the set it
belongs to (`tuning` or `held-out`, see tests/helpdesk/eval/questions.yaml). For one question:
- recall@k: the share of its answering facts among the first k answers;
- reciprocal rank: 1 / the rank of the first answering fact (0 when none is among the answers
  `ask` returns).
Both are averaged over the questions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from permedhub.helpdesk.asking import Mode, ask

Split = Literal["tuning", "held-out"]


class LabelledQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1)
    region: Literal["europe", "lac", "africa", "china"]
    language: Literal["en", "es", "pt"]
    split: Split
    answers: list[str] = Field(min_length=1)


def read_questions(path: Path | str) -> list[LabelledQuestion]:
    document = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return [LabelledQuestion.model_validate(q) for q in document.get("questions", [])]


@dataclass(frozen=True)
class Outcome:
    question: LabelledQuestion
    ranked: list[str]  # the ids `ask` returned, best first
    recall: float
    reciprocal_rank: float


@dataclass(frozen=True)
class Scores:
    mode: str
    questions: int
    recall_at_k: float
    mrr: float
    k: int
    outcomes: list[Outcome]

    @property
    def misses(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.recall < 1.0]


def evaluate(
    session: Session,
    questions: Sequence[LabelledQuestion],
    mode: Mode = "hybrid",
    k: int = 5,
    depth: int = 20,
) -> Scores:
    """Ask every question (ranking `depth` answers, for MRR) and score the first `k`."""
    outcomes = []
    for labelled in questions:
        ranked = [a.id for a in ask(session, labelled.question, limit=depth, mode=mode).answers]
        wanted = set(labelled.answers)
        found = len(wanted & set(ranked[:k]))
        first = next((n for n, i in enumerate(ranked, start=1) if i in wanted), None)
        outcomes.append(
            Outcome(labelled, ranked, found / len(wanted), 1.0 / first if first else 0.0)
        )
    count = len(outcomes) or 1
    return Scores(
        mode=mode,
        questions=len(outcomes),
        recall_at_k=sum(o.recall for o in outcomes) / count,
        mrr=sum(o.reciprocal_rank for o in outcomes) / count,
        k=k,
        outcomes=outcomes,
    )
