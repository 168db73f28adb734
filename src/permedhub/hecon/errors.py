"""Errors raised by `permedhub.hecon`: all are `ValueError`s naming the model element at fault."""

from __future__ import annotations


class HeconError(ValueError):
    """Base class: invalid model input; names the element, the value and what was expected."""


class ExpressionError(HeconError):
    """An expression uses syntax, a name or a function outside the restricted language."""


class CircularDefinitionError(HeconError):
    """Parameters depend on each other in a cycle."""


class UnknownNameError(HeconError):
    """A state, strategy or parameter name that the model does not define."""


class ProbabilityError(HeconError):
    """A probability outside [0, 1] or a transition-matrix row that does not sum to 1."""


class DistributionError(HeconError):
    """A distribution with impossible parameters (e.g. a beta with a negative shape)."""


class ConventionError(HeconError):
    """A counting/discounting convention that cannot be applied (e.g. Simpson with odd cycles)."""
