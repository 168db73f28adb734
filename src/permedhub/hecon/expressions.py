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

A model evaluates the same subexpressions many times: ``(1 + g) ** (model_time - 1)`` in the
cost of every state, a parameter that no strategy overrides once per strategy. A
:class:`Namespace` may carry an :class:`EvalCache` that keeps the values of such repeated
subtrees for one block of draws: a subtree is found again by its text *and the identity of
every value it reads*, so a hit is the same computation on the same arrays, never a stale
value, and the result is bit-identical to evaluating it again.
"""

from __future__ import annotations

import ast
import keyword
import operator
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
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


class EvalCache:
    """Values of repeated subexpressions for one block of draws (see the module doc).

    `shared` holds the texts (``ast.dump``) of the subtrees worth keeping: those that occur in
    several places of a model (:func:`repeated_subtrees`). Each entry also keeps the values it
    was computed from alive, so that their identities cannot be reused by other arrays."""

    def __init__(self, shared: frozenset[str]) -> None:
        self.shared = shared
        self.values: dict[tuple[str, tuple[int, ...]], tuple[Any, tuple[Any, ...]]] = {}
        self.leaves: dict[Any, Any] = {}  # base arrays shared by every namespace of the block
        self._stored: set[int] = set()  # ids of the values held in `values`
        self._checked: set[tuple[int, str]] = set()
        self._held: list[Any] = []

    def hold(self, value: Any) -> Any:
        """Keep `value` alive with the cache (so its identity stays unique) and return it."""
        self._held.append(value)
        self._stored.add(id(value))
        return value

    def holds(self, value: Any) -> bool:
        """Whether `value` is one of the cache's own values (its identity unique while the
        cache lives)."""
        return id(value) in self._stored

    def forget(self, key: tuple[str, tuple[int, ...]]) -> None:
        """Drop the value kept under `key` (see :meth:`Expression.cache_key`) once what its
        consumers made of it is kept instead: its memory is freed and, as its identity may
        then be reused, its marks go too. A later evaluation computes it again."""
        entry = self.values.pop(key, None)
        if entry is None:
            return
        value_id = id(entry[0])
        self._stored.discard(value_id)
        self._checked = {mark for mark in self._checked if mark[0] != value_id}

    def checked(self, value: Any, check: str) -> bool:
        """Whether `value` (a cached array) already passed `check` in this block."""
        return (id(value), check) in self._checked

    def mark_checked(self, value: Any, check: str) -> None:
        """Remember that `value` passed `check`; only for cached values, whose identity
        cannot be reused while the cache lives."""
        if id(value) in self._stored:
            self._checked.add((id(value), check))


class Namespace(dict[str, Any]):
    """Names -> values, optionally with an :class:`EvalCache`; `local` are the names whose
    values belong to one strategy (overrides and what reads them): subtrees reading them are
    not kept, as no other strategy can reuse them."""

    def __init__(
        self,
        values: Mapping[str, Any] | None = None,
        cache: EvalCache | None = None,
        local: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(values or {})
        self.cache = cache
        self.local = local


@dataclass(frozen=True)
class Expression:
    """A parsed, validated expression; `names` are the variables it reads."""

    source: str
    tree: ast.Expression
    names: frozenset[str]
    calls: frozenset[str]
    subtrees: dict[int, tuple[str, tuple[str, ...]]] = field(
        default_factory=dict, compare=False, repr=False
    )
    """id(node) -> (ast.dump(node), names the node reads) for every operation node."""

    def evaluate(
        self,
        namespace: Mapping[str, Any],
        context: str = "expression",
        check_finite: bool = True,
        out: Array | None = None,
    ) -> Array:
        """Evaluate element-wise; `namespace` maps names to arrays or callables (tables).
        With `check_finite` false the caller checks the value itself (a range check that
        passes implies it) and calls :meth:`check_finite` when that fails.

        With `out` the last operation writes into it when it is element-wise arithmetic
        (``+ - * /``), ``min``/``max`` or a one-argument ufunc (``exp``, ``log``, ...) whose
        result has exactly out's shape: `out` is then returned, and the value is not kept
        in the cache even if it is a repeated subexpression (the caller keeps what it makes
        of it). Otherwise the value is returned as usual and `out` is left untouched."""
        memo = None
        if isinstance(namespace, Namespace) and namespace.cache is not None:
            memo = _Memo(self.subtrees, namespace.cache, namespace.local)
        with np.errstate(all="ignore"):
            try:
                value = _eval(self.tree.body, namespace, self.source, memo, out)
            except ZeroDivisionError as exc:
                raise ExpressionError(f"{context}: division by zero in {self.source!r}") from exc
        value = np.asarray(value, dtype=float)
        cache = memo.cache if memo is not None else None
        if not check_finite or (cache is not None and cache.checked(value, "finite")):
            return value
        self.check_finite(value, context)
        if cache is not None:
            cache.mark_checked(value, "finite")
        return value

    def cache_key(self, namespace: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """What identifies this expression's value in `namespace`'s cache for the whole block:
        the key of its kept value (a repeated formula reading no strategy's own names), or
        for a bare name the identity of the cache's value of it; None when neither is kept.
        Lets a consumer keep what it derives from the value under the same identity."""
        if not isinstance(namespace, Namespace) or namespace.cache is None:
            return None
        body = self.tree.body
        if isinstance(body, ast.Name):
            value = namespace.get(body.id)
            if body.id in namespace.local or not namespace.cache.holds(value):
                return None
            return ("name", body.id, id(value))
        return _Memo(self.subtrees, namespace.cache, namespace.local).key(body, namespace)

    def check_finite(self, value: Array, context: str = "expression") -> None:
        """Raise ExpressionError if `value` (this expression's) has a NaN or infinity."""
        with np.errstate(over="ignore", invalid="ignore"):
            if np.isfinite(np.sum(value)):  # one pass; a NaN or inf anywhere makes it NaN/inf
                return
        if not np.all(np.isfinite(value)):  # the sum overflowed, or a value is not finite
            raise ExpressionError(f"{context}: {self._non_finite(value)}")

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
    return Expression(text, tree, frozenset(variables), frozenset(calls), _subtree_table(tree))


def _subtree_table(tree: ast.Expression) -> dict[int, tuple[str, tuple[str, ...]]]:
    table: dict[int, tuple[str, tuple[str, ...]]] = {}
    for node in ast.walk(tree.body):
        if not isinstance(node, ast.expr) or isinstance(node, ast.Constant | ast.Name):
            continue
        names = sorted({n.id for n in ast.walk(node) if isinstance(n, ast.Name)})
        table[id(node)] = (ast.dump(node), tuple(names))
    return table


def repeated_subtrees(
    expressions: Iterable[Expression], unstable: frozenset[str] = frozenset()
) -> frozenset[str]:
    """Texts of the subtrees worth caching among `expressions` (all that a model evaluates
    for one block of draws, once per strategy): those occurring at least twice and reading
    no `unstable` name (one whose value differs between strategies), except subtrees that
    only ever occur inside the same larger cached subtree (the larger one is found first, so
    keeping the inner one would only hold memory)."""
    counts: Counter[str] = Counter()
    parents: list[tuple[str, str | None]] = []
    stable: dict[str, bool] = {}
    for expr in expressions:
        for node in ast.walk(expr.tree.body):
            key = expr.subtrees.get(id(node))
            if key is None:
                continue
            counts[key[0]] += 1
            stable[key[0]] = unstable.isdisjoint(key[1])
            for child in ast.iter_child_nodes(node):
                child_key = expr.subtrees.get(id(child))
                if child_key is not None:
                    parents.append((child_key[0], key[0]))
            if node is expr.tree.body:
                parents.append((key[0], None))
    outer = {
        d
        for d, parent in parents
        if parent is None or not stable[parent] or counts[parent] < counts[d]
    }
    return frozenset(d for d in outer if counts[d] >= 2 and stable[d])


@dataclass
class _Memo:
    subtrees: dict[int, tuple[str, tuple[str, ...]]]
    cache: EvalCache
    local: frozenset[str]

    def key(self, node: ast.AST, ns: Mapping[str, Any]) -> tuple[str, tuple[int, ...]] | None:
        info = self.subtrees.get(id(node))
        if info is None or info[0] not in self.cache.shared or not self.local.isdisjoint(info[1]):
            return None
        return info[0], tuple(id(ns.get(n)) for n in info[1])

    def store(
        self,
        key: tuple[str, tuple[int, ...]],
        names: tuple[str, ...],
        ns: Mapping[str, Any],
        value: Any,
    ) -> None:
        if isinstance(value, np.ndarray):
            value.flags.writeable = False  # shared from now on: nobody may change it in place
        self.cache.values[key] = (value, tuple(ns.get(n) for n in names))
        self.cache._stored.add(id(value))


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


def _eval(
    node: ast.AST,
    ns: Mapping[str, Any],
    source: str,
    memo: _Memo | None = None,
    out: Array | None = None,
) -> Any:
    if memo is None or isinstance(node, ast.Constant | ast.Name):
        return _eval_node(node, ns, source, memo, out)
    key = memo.key(node, ns)
    if key is None:
        return _eval_node(node, ns, source, memo, out)
    hit = memo.cache.values.get(key)
    if hit is not None:
        return hit[0]
    value = _eval_node(node, ns, source, memo, out)
    if value is not out:
        memo.store(key, memo.subtrees[id(node)][1], ns, value)
    return value


_UFUNCS: dict[type, np.ufunc] = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.true_divide,
}
"""The binary operators whose ufunc is what the operator computes on arrays (``**`` is
not one: NumPy's ``a ** 2`` takes a faster path than ``np.power``, with other rounding)."""
_CALL_UFUNCS: dict[str, np.ufunc] = {
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "abs": np.absolute,
    "floor": np.floor,
    "ceil": np.ceil,
    "min": np.minimum,
    "max": np.maximum,
}


def _into(out: Array | None, ufunc: np.ufunc, args: list[Any]) -> Array | None:
    """``ufunc(*args)`` written into `out` when it has exactly the result's shape, else
    None."""
    if out is None or len(args) != ufunc.nin or not any(isinstance(a, np.ndarray) for a in args):
        return None
    if np.broadcast_shapes(*(np.shape(a) for a in args)) != out.shape:
        return None
    result: Array = ufunc(*args, out=out)
    return result


def _eval_node(
    node: ast.AST, ns: Mapping[str, Any], source: str, memo: _Memo | None, out: Array | None = None
) -> Any:
    if isinstance(node, ast.Constant):
        assert isinstance(node.value, int | float)
        return float(node.value)
    if isinstance(node, ast.Name):
        if node.id not in ns:
            raise UnknownNameError(f"unknown name {node.id!r} in expression {source!r}")
        return ns[node.id]
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, ns, source, memo), _eval(node.right, ns, source, memo)
        ufunc = _UFUNCS.get(type(node.op))
        written = _into(out, ufunc, [left, right]) if ufunc is not None else None
        return written if written is not None else _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, ns, source, memo)
        if isinstance(node.op, ast.USub):
            return -operand
        if isinstance(node.op, ast.Not):
            return np.logical_not(operand)
        return operand
    if isinstance(node, ast.Compare):
        left = _eval(node.left, ns, source, memo)
        result: Any = True
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval(comparator, ns, source, memo)
            result = np.logical_and(result, _COMPARE[type(op)](left, right))
            left = right
        return np.asarray(result, dtype=float)
    if isinstance(node, ast.BoolOp):
        values = [np.asarray(_eval(v, ns, source, memo)) != 0 for v in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        out = values[0]
        for v in values[1:]:
            out = combine(out, v)
        return np.asarray(out, dtype=float)
    if isinstance(node, ast.IfExp):
        cond = np.asarray(_eval(node.test, ns, source, memo)) != 0
        return np.where(
            cond, _eval(node.body, ns, source, memo), _eval(node.orelse, ns, source, memo)
        )
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
        args = [_eval(a, ns, source, memo) for a in node.args]
        ufunc = _CALL_UFUNCS.get(name) if func is FUNCTIONS.get(name) else None
        written = _into(out, ufunc, args) if ufunc is not None else None
        return written if written is not None else func(*args)
    raise ExpressionError(f"{type(node).__name__} not allowed in {source!r}")  # pragma: no cover
