"""`permedhub users ...`: accounts for the portal's curator area (argon2-hashed passwords)."""

from __future__ import annotations

import json
import sys
from enum import StrEnum

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Portal user accounts.", no_args_is_help=True)
err = Console(stderr=True)


class RoleName(StrEnum):
    viewer = "viewer"
    curator = "curator"
    admin = "admin"


@app.command("add")
def add(
    name: str = typer.Argument(..., help="login name"),
    role: RoleName = typer.Option(..., "--role", help="viewer < curator < admin"),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="read the password from the first line of stdin"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the new account as JSON"),
) -> None:
    """Create an account; the password is prompted for (twice) unless --password-stdin."""
    from permedhub import db
    from permedhub.graph.curation import CurationError, create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    engine = db.make_engine()
    db.ensure_ready(engine)
    try:
        user = create_user(engine, name, password, role.value)
    except CurationError as exc:
        for problem in exc.problems:
            err.print(
                f"[red]error:[/] {problem.field} (value {problem.value!r}): {problem.expected}"
            )
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps({"id": user.id, "name": user.name, "role": user.role}))
    else:
        err.print(f"created {user.role} [bold]{user.name}[/]")


@app.command("list")
def list_accounts(
    as_json: bool = typer.Option(False, "--json", help="machine-readable list on stdout"),
) -> None:
    """List the accounts and their roles."""
    from sqlalchemy.orm import Session

    from permedhub import db
    from permedhub.graph.curation import list_users

    engine = db.make_engine()
    db.ensure_ready(engine)
    with Session(engine) as session:
        users = list_users(session)
    if as_json:
        typer.echo(json.dumps([{"id": u.id, "name": u.name, "role": u.role} for u in users]))
        return
    table = Table("name", "role")
    for u in users:
        table.add_row(u.name, u.role)
    Console().print(table)
