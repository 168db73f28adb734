"""Decision-tree model documents (YAML/JSON), evaluated with :mod:`permedhub.hecon.tree`.

```yaml
name: ...
effect: qaly                    # label of the effect (for reports)
parameters: {...}               # as in Markov documents (numbers, expressions, distributions)
tree:
  decision: drug                # the root is a decision; its options are the strategies
  options:
    - label: sumatriptan
      cost: c_sumatriptan       # on the option edge
      node:
        chance: first dose
        branches:
          - {probability: p_relief, node: {terminal: relief, effect: 1.0}}
          - {probability: C, cost: c_ed, node: {terminal: no relief, effect: -0.3}}
```

Nodes are ``{terminal: name}``, ``{chance: name, branches: [...]}`` or
``{decision: name, options: [...]}``, each with optional ``cost`` and ``effect``; branches and
options carry optional ``probability`` (chance only; ``C`` = complement), ``cost``, ``effect``
and ``label``. Expressions may not use ``model_time``/``state_time``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from permedhub.hecon.errors import HeconError
from permedhub.hecon.expressions import parse_expression
from permedhub.hecon.parameters import ParameterEvaluator, check_names, compile_parameters
from permedhub.hecon.spec import Expr, ParameterSpec, dispatch_parameters, validate_document
from permedhub.hecon.tree import Branch, Chance, Decision, DecisionTree, Node, Terminal


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EdgeSpec(_Strict):
    node: NodeSpec
    probability: Expr | None = None
    cost: Expr = 0
    effect: Expr = 0
    label: str = ""


class NodeSpec(_Strict):
    terminal: str | None = None
    chance: str | None = None
    decision: str | None = None
    branches: list[EdgeSpec] | None = None
    options: list[EdgeSpec] | None = None
    cost: Expr = 0
    effect: Expr = 0

    @model_validator(mode="after")
    def _one_kind(self) -> NodeSpec:
        kinds = [k for k in ("terminal", "chance", "decision") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"a node needs exactly one of terminal/chance/decision, got {kinds}")
        if self.chance is not None and not self.branches:
            raise ValueError(f"chance node {self.chance!r} needs 'branches'")
        if self.decision is not None and not self.options:
            raise ValueError(f"decision node {self.decision!r} needs 'options'")
        if self.terminal is not None and (self.branches or self.options):
            raise ValueError(f"terminal {self.terminal!r} cannot have branches or options")
        return self


class TreeModelSpec(_Strict):
    name: str
    description: str = ""
    source: str = ""
    effect: str = Field(default="effect", description="label of the effect measure")
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict)
    tree: NodeSpec

    @field_validator("parameters", mode="before")
    @classmethod
    def _dispatch(cls, value: Any) -> Any:
        return dispatch_parameters(value)

    @model_validator(mode="after")
    def _root_is_decision(self) -> TreeModelSpec:
        if self.tree.decision is None:
            raise HeconError(
                "the root of the tree must be a decision node (its options are the strategies)",
                location=("tree",),
            )
        return self


def is_tree_document(data: Any) -> bool:
    return isinstance(data, dict) and "tree" in data


def load_tree_model(source: str | Path | dict[str, Any]) -> TreeModelSpec:
    """Load and validate a decision-tree document from a YAML/JSON file or a dict."""
    return validate_document(TreeModelSpec, source, "decision-tree document")


class TreeModel:
    """A compiled decision-tree document; `evaluate` rolls it back for base case or PSA."""

    def __init__(self, spec: TreeModelSpec) -> None:
        self.spec = spec
        self.params = compile_parameters(spec.parameters)
        self.evaluator = ParameterEvaluator(self.params, 1, 1, 1.0)
        self._known = self.params.all_names()

    def _value(self, value: Any, ns: dict[str, Any], where: str, d: int) -> np.ndarray:
        e = parse_expression(value, where)
        check_names(e, self._known, where)
        if {"model_time", "state_time"} & e.names:
            raise HeconError(f"{where}: decision trees have no model_time/state_time")
        v = e.evaluate(ns, where).reshape(-1)
        return np.broadcast_to(v, (d,)) if v.size == 1 else v

    def _build(self, node: NodeSpec, ns: dict[str, Any], d: int) -> Node:
        name = node.terminal or node.chance or node.decision or ""
        cost = self._value(node.cost, ns, f"node {name!r} cost", d)
        effect = self._value(node.effect, ns, f"node {name!r} effect", d)
        if node.terminal is not None:
            return Terminal(name, cost, effect)
        edges = []
        for i, edge in enumerate(node.branches or node.options or []):
            where = f"node {name!r} branch {edge.label or i + 1}"
            prob: Any = None
            if edge.probability is not None:
                is_comp = isinstance(edge.probability, str) and edge.probability.strip() == "C"
                prob = "C" if is_comp else self._value(edge.probability, ns, f"{where} p", d)
            edges.append(
                Branch(
                    self._build(edge.node, ns, d),
                    prob,
                    self._value(edge.cost, ns, f"{where} cost", d),
                    self._value(edge.effect, ns, f"{where} effect", d),
                    edge.label,
                )
            )
        if node.chance is not None:
            return Chance(name, edges, cost, effect)
        return Decision(name, edges, cost, effect)

    def evaluate(
        self, n_draws: int | None = None, seed: int | None = None, wtp: float = 0.0
    ) -> pd.DataFrame:
        """strategy, draw, cost, effect; base case when `n_draws` is None."""
        if n_draws is None:
            sampled, d = self.params.base_values(), 1
        else:
            if seed is None:
                raise HeconError("a PSA needs a seed (same seed => identical results)")
            sampled, d = self.params.sample(n_draws, seed), n_draws
        ns = self.evaluator.namespace(sampled)
        root = self._build(self.spec.tree, ns, d)
        assert isinstance(root, Decision)
        return DecisionTree(root).evaluate(wtp)


EdgeSpec.model_rebuild()
