"""Modules the commands load on first use, so that `permedhub --help` starts at once."""

from __future__ import annotations

import warnings
from types import ModuleType

import lazy_loader


def lazy_module(name: str) -> ModuleType:
    """A module proxy that imports `name` when an attribute is first read.

    lazy_loader warns that a submodule's parent package is imported eagerly; our parents
    (`permedhub.hecon`, `permedhub.trials`) are themselves lazy, so that import is cheap.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "subpackages can technically be lazily loaded")
        return lazy_loader.load(name)
