"""`permedhub node ...`: run a federation node and operate it (approvals, audit log).

A thin shell over `permedhub.federation`; the node process loads no portal code.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from permedhub.cli.errors import fail

app = typer.Typer(help="A federated-feasibility node next to a region's OMOP data.",
                  no_args_is_help=True)  # fmt: skip
_err = Console(stderr=True, soft_wrap=True)
_out = Console()


@app.command("serve")
def serve(
    data: str = typer.Option(..., "--data", help="duckdb:///PATH, sqlite:///PATH or a "
                             "postgresql+psycopg:// URL of the OMOP CDM database"),
    credentials: Path = typer.Option(..., "--credentials", help="YAML: users: {NAME: {secret}}"),
    state: Path = typer.Option(..., "--state", help="folder for the audit log and query history"),
    port: int = typer.Option(8700, "--port", help="TCP port"),
    host: str = typer.Option("127.0.0.1", "--host", help="interface to bind"),
    name: str = typer.Option("node", "--name", help="the node's name in its answers"),
    k: int = typer.Option(10, "--k", min=1, help="minimum published cell size"),
    rounding: int = typer.Option(10, "--rounding", min=1, help="round counts up to a multiple"),
    require_approval: bool = typer.Option(False, "--require-approval",
                                          help="hold each query until the operator approves it"),
    per_minute: int = typer.Option(30, "--per-minute", min=1, help="queries per user a minute"),
    per_day: int = typer.Option(500, "--per-day", min=1, help="queries per user a day (budget)"),
    history: int = typer.Option(50, "--history", min=0,
                                help="earlier answers per user the differencing check sees"),
    threads: int | None = typer.Option(None, "--threads", min=1, help="DuckDB threads"),
    certfile: Path | None = typer.Option(None, "--certfile", help="TLS certificate (PEM)"),
    keyfile: Path | None = typer.Option(None, "--keyfile", help="TLS private key (PEM)"),
) -> None:  # fmt: skip
    """Serve the node: signed cohort queries in, disclosure-controlled counts out."""
    import uvicorn

    from permedhub.federation.answering import NodeConfig
    from permedhub.federation.node import create_node_app, load_credentials
    from permedhub.federation.store import StoreError

    if (certfile is None) != (keyfile is None):
        raise fail("--certfile and --keyfile go together")
    try:
        config = NodeConfig(
            name=name, data_url=data, state_dir=state, credentials=load_credentials(credentials),
            k=k, rounding=rounding, require_approval=require_approval, per_minute=per_minute,
            per_day=per_day, history=history, threads=threads,
        )  # fmt: skip
        node_app = create_node_app(config)
    except (ValueError, StoreError) as exc:
        raise fail(str(exc)) from None
    uvicorn.run(node_app, host=host, port=port, log_level="warning",
                ssl_certfile=str(certfile) if certfile else None,
                ssl_keyfile=str(keyfile) if keyfile else None)  # fmt: skip


@app.command("pending")
def pending(
    state: Path = typer.Option(..., "--state", help="the node's state folder"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable list on stdout"),
) -> None:
    """Queries waiting for the operator's approval."""
    from permedhub.federation.state import PENDING, NodeState

    records = NodeState(state / "node-state.sqlite").queries_with_status(PENDING)
    rows = [{"id": r.id, "user": r.user, "at": r.at, "cohort": json.loads(r.cohort)}
            for r in records]  # fmt: skip
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table("id", "user", "cohort")
    for row in rows:
        table.add_row(row["id"], row["user"], json.dumps(row["cohort"]))
    _out.print(table)


@app.command("approve")
def approve(
    query_id: str = typer.Argument(..., help="the pending query's id"),
    state: Path = typer.Option(..., "--state", help="the node's state folder"),
    reject: bool = typer.Option(False, "--reject", help="reject instead of approving"),
    operator: str = typer.Option("operator", "--operator", help="who decides (audited)"),
) -> None:
    """Approve (or --reject) a pending query; the researcher's next identical query is run."""
    from permedhub.federation.answering import decide
    from permedhub.federation.state import NodeState

    try:
        decide(NodeState(state / "node-state.sqlite"), query_id, not reject, operator)
    except ValueError as exc:
        raise fail(str(exc)) from None
    _err.print(f"{'rejected' if reject else 'approved'} {query_id}")


@app.command("audit")
def audit(
    state: Path = typer.Option(..., "--state", help="the node's state folder"),
    limit: int = typer.Option(100, "--limit", min=1, help="latest entries to show"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable log on stdout"),
) -> None:
    """The node's audit log: every query, answer, refusal and decision."""
    from permedhub.federation.state import NodeState

    entries = NodeState(state / "node-state.sqlite").audit_log(limit)
    if as_json:
        typer.echo(json.dumps(entries))
        return
    table = Table("at", "user", "event", "query", "detail")
    for e in entries:
        table.add_row(f"{e['at']:.0f}", str(e["user"]), e["event"], str(e["query_id"] or ""),
                      json.dumps(e["detail"])[:120])  # fmt: skip
    _out.print(table)
