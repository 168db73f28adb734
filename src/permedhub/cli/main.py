"""The `permedhub` command: one sub-command group per area (`permedhub AREA VERB`)."""

from __future__ import annotations

import typer

from permedhub.cli import atlas as atlas_cli
from permedhub.cli import calls as calls_cli
from permedhub.cli import db as db_cli
from permedhub.cli import federation as federation_cli
from permedhub.cli import hecon as hecon_cli
from permedhub.cli import helpdesk as helpdesk_cli
from permedhub.cli import match as match_cli
from permedhub.cli import node as node_cli
from permedhub.cli import regions as regions_cli
from permedhub.cli import serve as serve_cli
from permedhub.cli import trials as trials_cli
from permedhub.cli import users as users_cli

app = typer.Typer(
    name="permedhub",
    help="PerMed Hub: the ICPerMed family's knowledge graph and tools.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(atlas_cli.app, name="atlas")
app.add_typer(calls_cli.app, name="calls")
app.add_typer(db_cli.app, name="db")
app.add_typer(hecon_cli.app, name="hecon")
app.add_typer(helpdesk_cli.app, name="helpdesk")
app.add_typer(federation_cli.app, name="federation")
app.add_typer(match_cli.app, name="match")
app.add_typer(node_cli.app, name="node")
app.add_typer(regions_cli.app, name="regions")
app.add_typer(trials_cli.app, name="trials")
app.command("serve")(serve_cli.serve)
app.add_typer(users_cli.app, name="users")


if __name__ == "__main__":  # pragma: no cover
    app()
