"""The node's answer to one researcher's query, with every check in order. HTTP-free: the
node app (`node.py`) authenticates the caller and hands the body here.

Order: parse the cohort -> check its codes against the node's vocabulary -> rate limit and
budget -> repeat rule -> operator approval (if required) -> run the one SQL query -> apply
disclosure control -> differencing rule -> record and publish. Every outcome is audited.

**Repeat rule**: a cohort the same user already had answered (same `Cohort.fingerprint`) is
refused; the earlier answer stands (rounding makes it identical anyway, and refusing spares
the budget a flood of them).

**Differencing rule**: a query is refused when one of the counts it would publish and one
count an earlier answered query of the same user published (among the user's last
`history` answers) concern sets of people S and T that differ by a small set:
0 < |S symmetric-difference T| < k. The difference of the two published numbers would then
rest on fewer than k people (e.g. "everyone" and "everyone without heart failure", or a
breakdown cell "women" and a later total "women without heart failure"). The node
keeps each answered cohort's members (positions in its person index, never sent) for this.
Refusing does tell the user that the two sets differ by between 1 and k-1 people — the same
knowledge a suppressed cell gives — so refusals count against the rate limit and budget
too. Queries of one user are
checked and recorded one at a time (a lock per user), so two sent together cannot both pass.
Limits: the rule compares pairs of queries of one user; users who pool their answers (or
one person with several accounts), and chains of three or more queries solved together,
are outside it — the budget bounds how many such chains a user can try.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from permedhub.federation import breakdown as bd
from permedhub.federation import state as st
from permedhub.federation.cohort import Cohort, CohortError, parse_cohort
from permedhub.federation.compile import check_concepts, cohort_statement
from permedhub.federation.disclosure import Rules, published_table, with_margins
from permedhub.federation.store import Store, StoreError
from permedhub.federation.synthetic import SYNTHETIC_LABEL


@dataclass
class NodeConfig:
    name: str
    data_url: str
    state_dir: Path
    credentials: dict[str, str] = field(default_factory=dict)
    k: int = 10
    rounding: int = 10
    require_approval: bool = False
    per_minute: int = 30
    per_day: int = 500
    history: int = 50
    threads: int | None = None


class Refusal(Exception):
    """A query the node will not answer: HTTP status, a short code and the reason."""

    def __init__(self, status: int, code: str, detail: Any, query_id: str | None = None):
        self.status, self.code, self.detail, self.query_id = status, code, detail, query_id
        super().__init__(f"{code}: {detail}")

    def body(self) -> dict[str, Any]:
        return {"refused": self.code, "detail": self.detail, "query_id": self.query_id}


class Node:
    def __init__(self, config: NodeConfig) -> None:
        self.config = config
        self.rules = Rules(k=config.k, base=config.rounding)
        self.store = Store(config.data_url, threads=config.threads)
        try:
            self.index = self.store.person_index()
            self.domains = self.store.concept_domains()
            self.label = self.store.source_label()
        except Exception as exc:
            self.store.close()
            raise StoreError(
                f"data URL {config.data_url!r}: expected an OMOP CDM database with person, "
                f"concept and cdm_source tables ({type(exc).__name__}: {exc})"
            ) from None
        self.population = int(self.index.person_id.size)
        self.has_other_sex = bool(np.any(bd.sex_index(self.index.gender_concept_id) == 2))
        self.state = st.NodeState(config.state_dir / "node-state.sqlite")
        self._locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self._locks_guard = threading.Lock()

    @property
    def synthetic(self) -> bool:
        return self.label.startswith(SYNTHETIC_LABEL)

    # -- exact figures (node-internal; never served) ---------------------------------------
    def members(self, cohort: Cohort) -> np.ndarray:
        """The cohort's members as sorted positions in the node's person index."""
        (ids,) = self.store.arrays(cohort_statement(cohort))
        return self.index.positions(np.unique(ids))

    def exact_table(self, cohort: Cohort, members: np.ndarray) -> np.ndarray:
        if not cohort.breakdown:
            return np.array([members.size])
        cats = bd.categories(cohort, self.has_other_sex)
        finest = bd.finest_cells(self.index, members, cohort)
        return bd.cell_table(finest, list(cohort.breakdown), cats)

    # -- the answer -------------------------------------------------------------------------
    def _lock(self, user: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks[user]

    def submit(self, user: str, body: bytes | str | dict[str, Any]) -> dict[str, Any]:
        try:
            cohort = parse_cohort(body)
            check_concepts(cohort, self.domains)
        except CohortError as exc:
            problems = [vars(p) for p in exc.problems]
            self.state.audit("refused", user, reason="invalid cohort", problems=problems)
            raise Refusal(422, "invalid_cohort", problems) from None
        with self._lock(user):
            return self._submit_valid(user, cohort)

    def _submit_valid(self, user: str, cohort: Cohort) -> dict[str, Any]:
        fingerprint = cohort.fingerprint()
        text = cohort.model_dump_json(by_alias=True)
        self._check_limits(user, fingerprint, text)
        earlier = self.state.same_cohort(user, fingerprint)
        answered = [q for q in earlier if q.status == st.ANSWERED]
        if answered:
            refused_id = self.state.new_query(user, fingerprint, text, st.REFUSED)
            self.state.audit("refused", user, refused_id, reason="repeat", earlier=answered[0].id)
            raise Refusal(409, "repeat", f"this cohort was answered before (query "
                          f"{answered[0].id}); that answer stands", refused_id)  # fmt: skip
        if self.config.require_approval:
            waiting = [q for q in earlier if q.status in (st.PENDING, st.APPROVED, st.REJECTED)]
            if not waiting:
                query_id = self.state.new_query(user, fingerprint, text, st.PENDING)
                self.state.audit("awaiting approval", user, query_id, cohort=cohort.name)
                return self._pending(query_id)
            latest = waiting[0]
            if latest.status == st.PENDING:
                return self._pending(latest.id)
            if latest.status == st.REJECTED:
                raise Refusal(403, "rejected", "the node's operator rejected this query",
                              latest.id)  # fmt: skip
            query_id = latest.id
        else:
            query_id = self.state.new_query(user, fingerprint, text, st.PENDING)
        return self._answer(user, cohort, query_id)

    def _pending(self, query_id: str) -> dict[str, Any]:
        return {"node": self.config.name, "status": "pending_approval", "query_id": query_id,
                "data": self.label, "synthetic": self.synthetic}  # fmt: skip

    def _check_limits(self, user: str, fingerprint: str, text: str) -> None:
        now = time.time()
        for window, limit, what in ((60, self.config.per_minute, "per minute"),
                                    (86400, self.config.per_day, "per day")):  # fmt: skip
            if self.state.attempts_since(user, now - window) >= limit:
                query_id = self.state.new_query(user, fingerprint, text, st.REFUSED)
                reason = f"more than {limit} queries {what}"
                self.state.audit("refused", user, query_id, reason=reason)
                raise Refusal(429, "rate_limited" if window == 60 else "budget_exhausted",
                              f"this node answers at most {limit} queries {what} per user",
                              query_id)  # fmt: skip

    def _answer(self, user: str, cohort: Cohort, query_id: str) -> dict[str, Any]:
        started = time.perf_counter()
        members = self.members(cohort)
        answer = self._publishable(cohort, members, query_id)
        clash = self._differencing(user, cohort, members, answer)
        if clash is not None:
            self.state.set_status(query_id, st.REFUSED)
            self.state.audit("refused", user, query_id, reason="differencing", earlier=clash)
            raise Refusal(409, "differencing", f"a count of this query and one of your earlier "
                          f"query {clash} would differ by fewer than k={self.rules.k} people",
                          query_id)  # fmt: skip
        self.state.set_status(query_id, st.ANSWERED, members=members, answer=answer,
                              population=self.population)  # fmt: skip
        self.state.audit("answered", user, query_id, cohort=cohort.name, count=answer["count"],
                         breakdown=answer["breakdown"],
                         seconds=round(time.perf_counter() - started, 4))  # fmt: skip
        return answer

    def _publishable(self, cohort: Cohort, members: np.ndarray, query_id: str) -> dict[str, Any]:
        table = with_margins(self.exact_table(cohort, members))
        values, marks = published_table(table, self.rules)
        answer: dict[str, Any] = {
            "node": self.config.name, "status": "answered", "query_id": query_id,
            "data": self.label, "synthetic": self.synthetic,
            "disclosure": {"k": self.rules.k, "rounding": self.rules.base},
            "count": values.flat[-1], "count_suppressed": bool(marks.flat[-1]),
            "breakdown": None,
        }  # fmt: skip
        if cohort.breakdown:
            by: list[str] = list(cohort.breakdown)
            cats = bd.categories(cohort, self.has_other_sex)
            cells = [
                {**keys, "count": values[cell], "suppressed": marks[cell] or None}
                for keys, cell in zip(bd.cell_keys(by, cats), np.ndindex(table.shape), strict=True)
            ]
            answer["breakdown"] = {"by": by, "cells": cells}
        return answer

    def _differencing(self, user: str, cohort: Cohort, members: np.ndarray,
                      answer: dict[str, Any]) -> str | None:  # fmt: skip
        """The id of an earlier answered query this one would difference, or None."""
        new_cells = bd.published_vectors(answer).astype(np.int64)
        if not len(new_cells):
            return None
        k = self.rules.k
        outside = bd.FINEST
        new_finest = bd.finest_cells(self.index, members, cohort)
        earlier = self.state.answered_members(user, self.population, self.config.history)
        for query_id, old_members, old_text, old_answer in earlier:
            old_cells = bd.published_vectors(old_answer).astype(np.int64)
            if not len(old_cells):
                continue
            old_cohort = Cohort.model_validate(json.loads(old_text))
            # Work on the people in either cohort only, not on the whole population.
            either = np.union1d(members, old_members)
            label_new = np.full(either.size, outside)
            label_new[np.isin(either, members, assume_unique=True)] = new_finest
            label_old = np.full(either.size, outside)
            label_old[np.isin(either, old_members, assume_unique=True)] = bd.finest_cells(
                self.index, old_members, old_cohort)  # fmt: skip
            joint = np.bincount(
                label_new * (outside + 1) + label_old, minlength=(outside + 1) ** 2
            ).reshape(outside + 1, outside + 1)
            shared = new_cells @ joint[:outside, :outside] @ old_cells.T
            new_sizes = new_cells @ joint[:outside, :].sum(axis=1)
            old_sizes = old_cells @ joint[:, :outside].sum(axis=0)
            differ = new_sizes[:, None] + old_sizes[None, :] - 2 * shared
            if np.any((differ > 0) & (differ < k)):
                return query_id
        return None

    # -- the operator -----------------------------------------------------------------------
    def pending(self) -> list[st.QueryRecord]:
        return self.state.queries_with_status(st.PENDING)

    def close(self) -> None:
        self.store.close()
        self.state.close()


def decide(state: st.NodeState, query_id: str, approve: bool, operator: str) -> st.QueryRecord:
    """The operator approves or rejects a pending query (the researcher then asks again)."""
    record = state.query(query_id)
    if record is None:
        raise ValueError(f"query id (value {query_id!r}): expected the id of a query")
    if record.status != st.PENDING:
        raise ValueError(f"query {query_id} is {record.status}, expected a pending query")
    state.set_status(query_id, st.APPROVED if approve else st.REJECTED)
    state.audit("approved" if approve else "rejected", record.user, query_id, operator=operator)
    return record
