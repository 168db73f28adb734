"""`permedhub serve`: run the web app with uvicorn."""

from __future__ import annotations

import typer


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    port: int = typer.Option(8000, help="TCP port."),
    reload: bool = typer.Option(False, help="Reload on code changes (development)."),
) -> None:
    """Serve PerMed Hub (portal + JSON API); migrates and seeds an empty database first.

    Behind a reverse proxy, name it in PERMEDHUB_TRUSTED_PROXIES so that the client address
    comes from its X-Forwarded-For header; no other peer's header is believed.
    """
    import uvicorn

    from permedhub import config

    proxies = config.trusted_proxies()
    uvicorn.run(
        "permedhub.web.app:create_app", factory=True, host=host, port=port, reload=reload,
        proxy_headers=bool(proxies), forwarded_allow_ips=proxies or None,
    )  # fmt: skip
