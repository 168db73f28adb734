"""`permedhub db ...`: migrations, loading and export of the knowledge graph."""

from __future__ import annotations

import typer

app = typer.Typer(help="The knowledge graph's database.", no_args_is_help=True)
