"""How every command reports a problem: one line on stderr, exit code 2."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

_err = Console(stderr=True)


def fail(message: str) -> typer.Exit:
    """Print `message` as an error on stderr (unwrapped, so it can be grepped; brackets in it
    are text, not markup) and return the exit (code 2) to raise."""
    _err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)
