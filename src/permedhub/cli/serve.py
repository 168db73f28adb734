"""`permedhub serve`: run the web app with uvicorn."""

from __future__ import annotations

import typer


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    port: int = typer.Option(8000, help="TCP port."),
    reload: bool = typer.Option(False, help="Reload on code changes (development)."),
) -> None:
    """Serve PerMed Hub (portal + JSON API); migrates and seeds an empty database first."""
    import uvicorn

    uvicorn.run("permedhub.web.app:create_app", factory=True, host=host, port=port, reload=reload)
