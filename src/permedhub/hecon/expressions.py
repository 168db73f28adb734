"""A restricted, vectorised expression language for model parameters (no `eval`).

An expression is parsed with :mod:`ast` and only this node set is accepted: numbers, names,
``+ - * / **``, unary ``-``/``+``, comparisons (chained), ``and``/``or``/``not`` (element-wise),
``a if cond else b`` (element-wise :func:`numpy.where`) and calls of whitelisted functions
(:data:`FUNCTIONS`) or of lookup tables defined in the model. Anything else (attributes,
subscripts, lambdas, comprehensions, strings, keyword arguments, ...) is rejected with an
:class:`~permedhub.hecon.errors.ExpressionError` naming the offending construct. Python
keywords the language does not use may be names (a rate called ``lambda``); only
:data:`LANGUAGE_WORDS` may not.

Values are NumPy arrays that broadcast to ``(draws, model_time, state_time)``; evaluation is
element-wise so one call evaluates all PSA draws and all cycles at once.
"""

from __future__ import annotations

import ast
import keyword
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from permedhub.hecon.errors import ExpressionError, UnknownNameError
from permedhub.hecon.rates import prob_to_rate, rate_to_prob, rescale_prob

Array = np.ndarray

LANGUAGE_WORDS = frozenset({"and", "or", "not", "if", "else", "True", "False", "None"})
"""Python keywords the expression language itself uses: the only keywords that cannot name a
parameter (``lambda``, a textbook rate, can)."""
KEYWORD_NAMES = frozenset(keyword.kwlist) - LANGUAGE_WORDS
_KEYWORD_PLACEHOLDER = "__hecon_keyword_"
_KEYWORD_NAME = re.compile(r"\b(" + "|".join(sorted(KEYWORD_NAMES)) + r")\b")


def _where(cond: Any, a: Any, b: Any) -> Array:
    return np.where(cond, a, b)


def _min(*args: Any) -> Array:
    if len(args) < 2:
        raise ExpressionError("min() needs at least two arguments (element-wise minimum)")
    out = np.minimum(args[0], args[1])
    for a in args[2:]:
        out = np.minimum(out, a)
    return np.asarray(out)


def _max(*args: Any) -> Array:
    if len(args) < 2:
        raise ExpressionError("max() needs at least two arguments (element-wise maximum)")
    out = np.maximum(args[0], args[1])
    for a in args[2:]:
        out = np.maximum(out, a)
    return np.asarray(out)


def _weibull_cycle_prob(scale_rate: Any, shape: Any, t: Any, length: Any = 1.0) -> Array:
    """P(event in (t-length, t] | no event by t-length) for S(t) = exp(-lambda t^gamma)."""
    t = np.asarray(t, dtype=float)
    start = np.maximum(t - length, 0.0)
    return np.asarray(1.0 - np.exp(scale_rate * (start**shape - t**shape)))


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "floor": np.floor,
    "ceil": np.ceil,
    "min": _min,
    "max": _max,
    "where": _where,
    "clip": np.clip,
    "rate_to_prob": rate_to_prob,
    "prob_to_rate": prob_to_rate,
    "rescale_prob": rescale_prob,
    "weibull_cycle_prob": _weibull_cycle_prob,
}
"""Whitelisted functions: the only callables an expression may use (besides lookup tables)."""

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


@dataclass(frozen=True)
class Expression:
    """A parsed, validated expression; `names` are the variables it reads."""

    source: str
    tree: ast.Expression
    names: frozenset[str]
    calls: frozenset[str]

    def evaluate(self, namespace: Mapping[str, Any], context: str = "expression") -> Array:
        """Evaluate element-wise; `namespace` maps names to arrays or callables (tables)."""
        with np.errstate(all="ignore"):
            try:
                value = _eval(self.tree.body, namespace, self.source)
            except ZeroDivisionError as exc:
                raise ExpressionError(f"{context}: division by zero in {self.source!r}") from exc
        value = np.asarray(value, dtype=float)
        if not np.all(np.isfinite(value)):
            raise ExpressionError(f"{context}: {self._non_finite(value)}")
        return value

    def _non_finite(self, value: Array) -> str:
        """Why the value is not finite: the inputs it reads, or, reading none, the formula."""
        first = float(value[~np.isfinite(value)].flat[0])
        said = f"{self.source!r} gives a non-finite value ({first:g})"
        if self.names:
            return f"{said}; check the inputs it reads: {', '.join(sorted(self.names))}"
        return (
            f"{said} and reads no inputs, so the formula itself is undefined (e.g. the log of "
            "a negative number, 0/0 or an overflow); expected a formula with a finite value"
        )


def parse_expression(source: str | float | int, context: str = "expression") -> Expression:
    """Parse and validate `source`; raise :class:`ExpressionError` naming `context` if invalid."""
    text = str(source).strip()
    if not text:
        raise ExpressionError(f"{context}: empty expression; expected a number or a formula")
    tree = _parse(text, context)
    names: set[str] = set()
    calls: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise ExpressionError(
                    f"{context}: only plain function names may be called in {text!r}"
                )
            if node.keywords:
                raise ExpressionError(
                    f"{context}: keyword arguments are not allowed in {text!r}; "
                    "pass them by position"
                )
            calls.add(node.func.id)
        elif isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise ExpressionError(f"{context}: only numeric constants are allowed in {text!r}")
        elif not isinstance(
            node,
            ast.Expression
            | ast.BinOp
            | ast.UnaryOp
            | ast.Compare
            | ast.BoolOp
            | ast.IfExp
            | ast.Load
            | ast.operator
            | ast.unaryop
            | ast.cmpop
            | ast.boolop,
        ):
            raise ExpressionError(
                f"{context}: {type(node).__name__} is not allowed in {text!r}; allowed: numbers, "
                "names, + - * / **, comparisons, and/or/not, 'a if c else b', whitelisted calls"
            )
        if isinstance(node, ast.BinOp) and type(node.op) not in _BINARY:
            raise ExpressionError(
                f"{context}: operator {type(node.op).__name__} not allowed in {text!r}"
            )
        if isinstance(node, ast.Compare) and any(type(op) not in _COMPARE for op in node.ops):
            bad = next(type(op).__name__ for op in node.ops if type(op) not in _COMPARE)
            raise ExpressionError(
                f"{context}: comparison {bad} not allowed in {text!r}; allowed: < <= > >= == !="
            )
        if isinstance(node, ast.UnaryOp) and not isinstance(node.op, ast.USub | ast.UAdd | ast.Not):
            raise ExpressionError(
                f"{context}: operator {type(node.op).__name__} not allowed in {text!r}"
            )
    # Function names are not variables.
    variables = names - calls
    # A name used both as a call and a variable (e.g. table(x) and table) keeps both roles.
    variables |= {n for n in names & calls if _used_as_variable(tree, n)}
    return Expression(text, tree, frozenset(variables), frozenset(calls))


def _parse(text: str, context: str) -> ast.Expression:
    """The syntax tree of `text`. Python keywords the language does not use (``lambda``,
    ``in``, ``class``, ...) may name parameters: when `text` only parses with them read as
    names, they are parsed under a placeholder that the tree then names back, so the rest of
    the module (and every message) sees the name as written."""
    try:
        return ast.parse(text, mode="eval")
    except SyntaxError as exc:
        problem = exc
    protected = _KEYWORD_NAME.sub(lambda m: _KEYWORD_PLACEHOLDER + m.group(1), text)
    if protected != text:
        try:
            tree = ast.parse(protected, mode="eval")
        except SyntaxError:
            pass
        else:
            for node in ast.walk(tree):
                if isinstance(node, ast.Name) and _named_back(node.id) in KEYWORD_NAMES:
                    node.id = _named_back(node.id)
            return tree
    raise ExpressionError(f"{context}: cannot parse {text!r}: {problem.msg}") from problem


def _named_back(name: str) -> str:
    return name.removeprefix(_KEYWORD_PLACEHOLDER)


def _used_as_variable(tree: ast.AST, name: str) -> bool:
    call_funcs = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return any(
        isinstance(n, ast.Name) and n.id == name and id(n) not in call_funcs for n in ast.walk(tree)
    )


def _eval(node: ast.AST, ns: Mapping[str, Any], source: str) -> Any:
    if isinstance(node, ast.Constant):
        assert isinstance(node.value, int | float)
        return float(node.value)
    if isinstance(node, ast.Name):
        if node.id not in ns:
            raise UnknownNameError(f"unknown name {node.id!r} in expression {source!r}")
        return ns[node.id]
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](_eval(node.left, ns, source), _eval(node.right, ns, source))
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, ns, source)
        if isinstance(node.op, ast.USub):
            return -operand
        if isinstance(node.op, ast.Not):
            return np.logical_not(operand)
        return operand
    if isinstance(node, ast.Compare):
        left = _eval(node.left, ns, source)
        result: Any = True
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval(comparator, ns, source)
            result = np.logical_and(result, _COMPARE[type(op)](left, right))
            left = right
        return np.asarray(result, dtype=float)
    if isinstance(node, ast.BoolOp):
        values = [np.asarray(_eval(v, ns, source)) != 0 for v in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        out = values[0]
        for v in values[1:]:
            out = combine(out, v)
        return np.asarray(out, dtype=float)
    if isinstance(node, ast.IfExp):
        cond = np.asarray(_eval(node.test, ns, source)) != 0
        return np.where(cond, _eval(node.body, ns, source), _eval(node.orelse, ns, source))
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        name = node.func.id
        func = ns.get(name) if callable(ns.get(name)) else FUNCTIONS.get(name)
        if func is None:
            raise ExpressionError(
                f"unknown function {name!r} in {source!r}; allowed: "
                + ", ".join(sorted(FUNCTIONS))
                + " and the model's lookup tables"
            )
        return func(*[_eval(a, ns, source) for a in node.args])
    raise ExpressionError(f"{type(node).__name__} not allowed in {source!r}")  # pragma: no cover
