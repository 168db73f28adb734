"""`permedhub trials ...`: a thin shell over `permedhub.trials`."""

from __future__ import annotations

import typer

app = typer.Typer(help="See permedhub.trials.", no_args_is_help=True)
