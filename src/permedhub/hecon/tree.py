"""Decision trees rolled back over PSA draws, and the reusable test-and-treat construct.

A tree is built from :class:`Chance`, :class:`Decision` and :class:`Terminal` nodes joined by
:class:`Branch` edges. Costs and effects may sit on nodes (incurred on reaching the node) and on
branches (incurred on taking the branch). Every number may be a scalar or an array over PSA
draws; roll-back is element-wise, so one pass evaluates all draws.

A chance node's branch probabilities must lie in [0, 1] and sum to 1; one branch may have
probability ``"C"`` (the complement). The root must be a :class:`Decision` (its options are the
strategies); a nested decision chooses, in every draw, the option with the highest *expected*
(mean over draws) net monetary benefit at the willingness-to-pay given to :meth:`evaluate`, so
one policy is applied to all draws as in a real decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from permedhub.hecon.errors import HeconError, ProbabilityError

Value = float | np.ndarray
PROB_TOL = 1e-9


@dataclass
class Terminal:
    name: str
    cost: Value = 0.0
    effect: Value = 0.0


@dataclass
class Branch:
    node: Node
    probability: Value | Literal["C"] | None = None  # None on decision options
    cost: Value = 0.0
    effect: Value = 0.0
    label: str = ""


@dataclass
class Chance:
    name: str
    branches: list[Branch]
    cost: Value = 0.0
    effect: Value = 0.0


@dataclass
class Decision:
    name: str
    branches: list[Branch]
    cost: Value = 0.0
    effect: Value = 0.0


Node = Terminal | Chance | Decision


@dataclass
class _Rolled:
    cost: np.ndarray
    effect: np.ndarray
    leaves: dict[str, np.ndarray] = field(default_factory=dict)  # leaf name -> path probability


def _arr(v: Value) -> np.ndarray:
    return np.atleast_1d(np.asarray(v, dtype=float))


def _probabilities(node: Chance) -> list[np.ndarray]:
    known = [b.probability for b in node.branches if not _is_complement(b.probability)]
    if any(p is None for p in known):
        raise HeconError(f"chance node {node.name!r}: every branch needs a probability")
    comps = [b for b in node.branches if _is_complement(b.probability)]
    if len(comps) > 1:
        raise HeconError(f"chance node {node.name!r}: at most one complement 'C' branch")
    total = sum((_arr(p) for p in known if p is not None), np.zeros(1))  # type: ignore[arg-type]
    probs: list[np.ndarray] = []
    for b in node.branches:
        p = 1.0 - total if _is_complement(b.probability) else _arr(b.probability)  # type: ignore[arg-type]
        label = b.label or _name(b.node)
        if np.any((p < -PROB_TOL) | (p > 1 + PROB_TOL)):
            bad = float(p[np.argmax((p < -PROB_TOL) | (p > 1 + PROB_TOL))])
            raise ProbabilityError(
                f"chance node {node.name!r}, branch {label!r}: probability {bad:.6g} is outside "
                "[0, 1]"
                + (" (complement of the other branches)" if _is_complement(b.probability) else "")
            )
        probs.append(np.clip(p, 0.0, 1.0))
    if not comps and np.any(np.abs(total - 1) > PROB_TOL):
        bad = float(total[np.argmax(np.abs(total - 1))])
        raise ProbabilityError(
            f"chance node {node.name!r}: branch probabilities sum to {bad:.10g}; expected 1 "
            "(use 'C' for the complement)"
        )
    return probs


def _is_complement(p: object) -> bool:
    return isinstance(p, str) and p.strip() == "C"


def _name(node: Node) -> str:
    return node.name


def _rollback(node: Node, wtp: float) -> _Rolled:
    if isinstance(node, Terminal):
        return _Rolled(_arr(node.cost), _arr(node.effect), {node.name: np.ones(1)})
    if isinstance(node, Chance):
        if not node.branches:
            raise HeconError(f"chance node {node.name!r} has no branches")
        cost, effect = _arr(node.cost), _arr(node.effect)
        leaves: dict[str, np.ndarray] = {}
        for b, p in zip(node.branches, _probabilities(node), strict=True):
            sub = _rollback(b.node, wtp)
            cost = cost + p * (_arr(b.cost) + sub.cost)
            effect = effect + p * (_arr(b.effect) + sub.effect)
            for leaf, lp in sub.leaves.items():
                leaves[leaf] = leaves.get(leaf, 0.0) + p * lp
        return _Rolled(cost, effect, leaves)
    options = _options(node, wtp)
    best = max(options, key=lambda o: float(np.mean(wtp * o.effect - o.cost)))
    return _Rolled(_arr(node.cost) + best.cost, _arr(node.effect) + best.effect, best.leaves)


def _options(node: Decision, wtp: float) -> list[_Rolled]:
    if not node.branches:
        raise HeconError(f"decision node {node.name!r} has no options")
    out = []
    for b in node.branches:
        if b.probability is not None:
            raise HeconError(
                f"decision node {node.name!r}: option {b.label or _name(b.node)!r} must not have "
                "a probability"
            )
        sub = _rollback(b.node, wtp)
        out.append(_Rolled(_arr(b.cost) + sub.cost, _arr(b.effect) + sub.effect, sub.leaves))
    return out


@dataclass
class DecisionTree:
    """A decision tree whose root decision's options are the strategies."""

    root: Decision

    def evaluate(self, wtp: float = 0.0) -> pd.DataFrame:
        """Tidy frame: strategy, draw, cost, effect (expected values per draw)."""
        rolled = _options(self.root, wtp)
        n = max(max(r.cost.size, r.effect.size) for r in rolled)
        frames = []
        for b, r in zip(self.root.branches, rolled, strict=True):
            frames.append(
                pd.DataFrame(
                    {
                        "strategy": b.label or _name(b.node),
                        "draw": np.arange(n),
                        "cost": np.broadcast_to(r.cost + _arr(self.root.cost), (n,)),
                        "effect": np.broadcast_to(r.effect + _arr(self.root.effect), (n,)),
                    }
                )
            )
        out = pd.concat(frames, ignore_index=True)
        if not np.all(np.isfinite(out[["cost", "effect"]].to_numpy())):
            raise HeconError("decision tree produced non-finite costs or effects; check inputs")
        return out

    def leaf_probabilities(self, wtp: float = 0.0) -> dict[str, dict[str, np.ndarray]]:
        """Per strategy: probability of ending in each terminal (same-named leaves summed).
        Use these to seed a Markov model's initial state distribution."""
        rolled = _options(self.root, wtp)
        return {
            b.label or _name(b.node): r.leaves
            for b, r in zip(self.root.branches, rolled, strict=True)
        }


# --- test and treat ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DiagnosticTest:
    """A test (e.g. a companion diagnostic) with sensitivity, specificity and cost per use."""

    name: str
    sensitivity: Value
    specificity: Value
    cost: Value = 0.0

    def __post_init__(self) -> None:
        for what in ("sensitivity", "specificity"):
            v = _arr(getattr(self, what))
            if np.any((v < 0) | (v > 1)):
                raise ProbabilityError(f"test {self.name!r}: {what} must be in [0, 1], got {v}")


TestRule = Literal["single", "serial", "parallel"]


def combined_accuracy(tests: Sequence[DiagnosticTest], rule: TestRule) -> tuple[Value, Value]:
    """Sensitivity and specificity of a test sequence, tests conditionally independent given
    the true status. serial (confirm positives; positive only if all are): sens = prod(sens_i),
    spec = 1 - prod(1 - spec_i). parallel (re-test negatives; positive if any is):
    sens = 1 - prod(1 - sens_i), spec = prod(spec_i)."""
    if not tests:
        raise HeconError("test-and-treat needs at least one test")
    if rule == "single":
        if len(tests) != 1:
            raise HeconError(f"rule 'single' needs exactly one test, got {len(tests)}")
        return tests[0].sensitivity, tests[0].specificity
    sens = [_arr(t.sensitivity) for t in tests]
    spec = [_arr(t.specificity) for t in tests]
    if rule == "serial":
        return np.prod(sens, axis=0), 1 - np.prod([1 - s for s in spec], axis=0)
    if rule == "parallel":
        return 1 - np.prod([1 - s for s in sens], axis=0), np.prod(spec, axis=0)
    raise HeconError(f"unknown test rule {rule!r}; expected single, serial or parallel")


@dataclass(frozen=True)
class Outcome:
    cost: Value = 0.0
    effect: Value = 0.0


OUTCOME_KEYS = ("positive_treated", "positive_untreated", "negative_treated", "negative_untreated")


def _test_branches(
    tests: Sequence[DiagnosticTest],
    rule: TestRule,
    diseased: bool,
    treated: Terminal,
    untreated: Terminal,
    depth: int = 0,
) -> Node:
    """Chance sub-tree of the test sequence for one true status; each further test is done
    only when needed (serial: after a positive; parallel: after a negative)."""
    test = tests[depth]
    p_pos: Value | Literal["C"] = test.sensitivity if diseased else 1 - _arr(test.specificity)
    last = depth == len(tests) - 1
    if rule == "serial":
        pos: Node = (
            treated
            if last
            else _test_branches(tests, rule, diseased, treated, untreated, depth + 1)
        )
        neg: Node = untreated
    else:
        pos = treated
        neg = (
            untreated
            if last
            else _test_branches(tests, rule, diseased, treated, untreated, depth + 1)
        )
    return Chance(
        f"{test.name} ({'biomarker+' if diseased else 'biomarker-'})",
        [Branch(pos, p_pos, label=f"{test.name}+"), Branch(neg, "C", label=f"{test.name}-")],
        cost=test.cost,
    )


def test_and_treat(
    prevalence: Value,
    tests: Sequence[DiagnosticTest],
    outcomes: Mapping[str, Outcome],
    rule: TestRule = "single",
    treatment_cost: Value = 0.0,
    strategies: Sequence[str] = ("test_and_treat", "treat_all", "treat_none"),
) -> DecisionTree:
    """Decision tree comparing test-guided treatment with treating everyone or no one.

    `outcomes` gives cost/effect for the four combinations of true biomarker status and
    treatment (keys :data:`OUTCOME_KEYS`); `treatment_cost` is added whenever treatment is
    given. Terminal names are ``TP``, ``FN``, ``FP``, ``TN`` (test strategy) and
    ``positive_treated`` etc. (others), so :meth:`DecisionTree.leaf_probabilities` can seed a
    Markov model's initial state distribution.
    """
    missing = [k for k in OUTCOME_KEYS if k not in outcomes]
    if missing:
        raise HeconError(f"test_and_treat: outcomes missing {missing}; expected {OUTCOME_KEYS}")
    prev = _arr(prevalence)
    if np.any((prev < 0) | (prev > 1)):
        raise ProbabilityError(f"test_and_treat: prevalence must be in [0, 1], got {prevalence}")
    tc = _arr(treatment_cost)

    def leaf(name: str, key: str, treated: bool) -> Terminal:
        o = outcomes[key]
        return Terminal(name, _arr(o.cost) + (tc if treated else 0.0), o.effect)

    options: list[Branch] = []
    for s in strategies:
        if s == "test_and_treat":
            pos = _test_branches(
                tests,
                rule,
                True,
                leaf("TP", "positive_treated", True),
                leaf("FN", "positive_untreated", False),
            )
            neg = _test_branches(
                tests,
                rule,
                False,
                leaf("FP", "negative_treated", True),
                leaf("TN", "negative_untreated", False),
            )
        elif s in ("treat_all", "treat_none"):
            treated = s == "treat_all"
            suffix = "treated" if treated else "untreated"
            pos = leaf(f"positive_{suffix}", f"positive_{suffix}", treated)
            neg = leaf(f"negative_{suffix}", f"negative_{suffix}", treated)
        else:
            raise HeconError(
                f"test_and_treat: unknown strategy {s!r}; expected test_and_treat, treat_all, "
                "treat_none"
            )
        options.append(
            Branch(Chance(f"biomarker ({s})", [Branch(pos, prev), Branch(neg, "C")]), label=s)
        )
    return DecisionTree(Decision("strategy", options))


def pauker_kassirer_thresholds(
    sensitivity: float, specificity: float, benefit: float, harm: float
) -> tuple[float, float]:
    """Testing and test-treatment thresholds for a riskless test (Pauker & Kassirer, N Engl J
    Med 1980;302:1109-17): below the first, treat no one; above the second, treat everyone;
    between, test and treat positives. benefit = gain from treating a diseased patient,
    harm = loss from treating a non-diseased patient."""
    p_test = (1 - specificity) * harm / ((1 - specificity) * harm + sensitivity * benefit)
    p_treat = specificity * harm / (specificity * harm + (1 - sensitivity) * benefit)
    return p_test, p_treat


test_and_treat.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
