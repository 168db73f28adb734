"""`permedhub hecon ...`: a thin shell over `permedhub.hecon`."""

from __future__ import annotations

import typer

app = typer.Typer(help="See permedhub.hecon.", no_args_is_help=True)
