"""Errors of `permedhub.match`: each names the field, the value and what was expected."""

from __future__ import annotations

from permedhub.validation import InputError


class MatchInputError(InputError):
    """One input of a partner search, an expert record or a working-group request."""
