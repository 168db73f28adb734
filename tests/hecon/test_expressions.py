"""The restricted expression language: vectorised, safe, explicit."""

from __future__ import annotations

import numpy as np
import pytest

from permedhub.hecon.errors import ExpressionError, ProbabilityError
from permedhub.hecon.expressions import EvalCache, Namespace, parse_expression, repeated_subtrees
from permedhub.hecon.rates import prob_to_rate, rate_to_prob, rescale_prob


def ev(text: str, **ns):
    return parse_expression(text).evaluate({k: np.asarray(v, dtype=float) for k, v in ns.items()})


def test_arithmetic_comparisons_and_conditionals_are_elementwise() -> None:
    t = np.arange(1, 6.0)
    np.testing.assert_allclose(ev("0.5 if t <= 2 else 1", t=t), [0.5, 0.5, 1, 1, 1])
    np.testing.assert_allclose(ev("where(t > 3, t ** 2, -t)", t=t), [-1, -2, -3, 16, 25])
    np.testing.assert_allclose(ev("min(t, 3, 2.5)", t=t), [1, 2, 2.5, 2.5, 2.5])
    np.testing.assert_allclose(ev("(t > 1) and (t < 4)", t=t), [0, 1, 1, 0, 0])
    np.testing.assert_allclose(ev("1 < t <= 3", t=t), [0, 1, 1, 0, 0])


def test_names_and_calls_are_collected_for_dependency_analysis() -> None:
    e = parse_expression("rate_to_prob(mu * hr, cycle_length) + table(age)")
    assert e.names == {"mu", "hr", "cycle_length", "age"}
    assert e.calls == {"rate_to_prob", "table"}


def test_rate_probability_round_trip() -> None:
    """p = 1 - exp(-r t) (Fleurence & Hollenbeak 2007)."""
    r = np.array([0.0, 0.1, 1.0])
    np.testing.assert_allclose(prob_to_rate(rate_to_prob(r)), r)
    assert rescale_prob(0.5, 1.0, 0.5) == pytest.approx(1 - np.sqrt(0.5))
    with pytest.raises(ProbabilityError):
        prob_to_rate(1.2)


@pytest.mark.parametrize(
    "text",
    ["open('x')", "a.b", "a[0]", "'text'", "f(x=1)", "[i for i in a]", "a @ b", "a // 2", "True"],
)
def test_disallowed_constructs(text: str) -> None:
    with pytest.raises(ExpressionError):
        parse_expression(text)


def test_weibull_cycle_probability() -> None:
    """P(event in cycle t | survived to t-1) for S(t) = exp(-lambda t^gamma), as in the
    Briggs THR revision risk: 1 - exp(lambda ((t-1)^gamma - t^gamma))."""
    t = np.arange(1, 6.0)
    lam, gam = 0.0012, 1.45
    np.testing.assert_allclose(
        ev("weibull_cycle_prob(lam, gam, t)", lam=lam, gam=gam, t=t),
        1 - np.exp(lam * ((t - 1) ** gam - t**gam)),
    )


def test_cache_shares_repeated_subtrees_but_never_across_different_inputs() -> None:
    """A cached subtree is found again only for the very same input arrays; other values of
    a name it reads are computed afresh, and shared results cannot be changed in place."""
    cost_a = parse_expression("c * (1 + g) ** t")
    cost_b = parse_expression("2 * c * (1 + g) ** t")
    shared = repeated_subtrees([cost_a, cost_b])
    assert any("Pow" in d for d in shared)
    assert not any(d.startswith("BinOp(left=Name(id='c'") for d in shared)  # occurs once
    cache = EvalCache(shared)
    t, g = np.arange(1.0, 4.0), np.array(0.1)
    ns = Namespace({"c": np.array(10.0), "g": g, "t": t}, cache)
    a = cost_a.evaluate(ns)
    b = cost_b.evaluate(ns)
    np.testing.assert_allclose(b, 2 * a)
    assert len(cache.values) == 1  # only (1 + g) ** t is kept
    other = Namespace({"c": np.array(10.0), "g": np.array(0.2), "t": t}, cache)
    np.testing.assert_allclose(cost_a.evaluate(other), 10 * 1.2**t)
    pow_value = next(iter(cache.values.values()))[0]
    with pytest.raises(ValueError, match="read-only"):
        pow_value += 1


def test_cache_skips_subtrees_of_strategy_local_names() -> None:
    """Names a strategy overrides (`local`) make a subtree strategy-specific: not cached."""
    expr = parse_expression("p * hr + p * hr")
    cache = EvalCache(repeated_subtrees([expr, expr]))
    ns = Namespace({"p": np.array([0.1, 0.2]), "hr": np.array(0.5)}, cache, frozenset({"hr"}))
    np.testing.assert_allclose(expr.evaluate(ns), [0.1, 0.2])
    assert not cache.values
    assert repeated_subtrees([expr, expr], frozenset({"hr"})) == frozenset()


def test_finite_values_whose_sum_overflows_are_accepted() -> None:
    """The finiteness check sums first; an overflowing sum of finite values is not an error."""
    np.testing.assert_allclose(ev("x * 1e308", x=[1.5, 1.5]), [1.5e308, 1.5e308])
    with pytest.raises(ExpressionError, match="non-finite"):
        ev("x * 1e308", x=[1.5, 2.0])


def test_evaluating_into_an_array_writes_the_last_operation_there() -> None:
    """With `out` of the value's shape, element-wise arithmetic and min/max write their
    result into it (bit for bit what evaluate() returns) instead of a new array."""
    rng = np.random.default_rng(3)
    ns = {"a": rng.random((4, 3)), "b": rng.random((4, 1)), "c": rng.random((1, 3))}
    for text in ("a * b + c", "a / b - c", "max(a - b, 0)", "min(a, c)", "exp(a * c)"):
        expr = parse_expression(text)
        out = np.full((4, 3), np.nan)
        value = expr.evaluate(ns, out=out)
        assert value is out, text
        assert np.array_equal(out, expr.evaluate(ns)), text


def test_evaluating_into_an_array_of_another_shape_leaves_it_alone() -> None:
    """A value of another shape than `out` (here constant along the first axis), a power
    (NumPy's ``a ** 2`` rounds unlike np.power) or a bare name is returned as usual; `out`
    keeps what it held."""
    ns = {"a": np.array([[0.5, 2.0, 3.0]]), "b": np.full((4, 3), 2.0)}
    for text in ("a * 2", "b ** 2", "b"):
        out = np.full((4, 3), -1.0)
        value = parse_expression(text).evaluate(ns, out=out)
        assert value is not out, text
        assert np.all(out == -1.0), text
        assert np.array_equal(value, parse_expression(text).evaluate(ns)), text


def test_a_repeated_subexpression_evaluated_into_an_array_is_not_cached() -> None:
    """The caller keeps what it makes of a value written into `out`: the cache does not
    also keep it (it would hold a view of the caller's buffer); evaluated without `out` it is
    kept as before."""
    cost = parse_expression("c * (1 + g) ** t + s")
    shared = repeated_subtrees([cost, cost])
    cache = EvalCache(shared)
    values = {"c": np.full((3, 1), 10.0), "g": np.array(0.1), "t": np.arange(3.0), "s": 1.0}
    ns = Namespace(values, cache)
    out = np.empty((3, 3))
    assert cost.evaluate(ns, out=out) is out
    assert not cache.values
    assert np.array_equal(cost.evaluate(ns), out)  # evaluated again, now kept
    assert len(cache.values) == 1
