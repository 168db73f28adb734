"""Alembic environment: migrations run on a connection handed over by `permedhub.db.upgrade`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

# Importing the model modules registers their tables on the one metadata.
from permedhub.atlas import models as _atlas_models  # noqa: F401
from permedhub.calls import store as _calls_store  # noqa: F401
from permedhub.db import Base
from permedhub.graph import models as _graph_models  # noqa: F401
from permedhub.helpdesk import models as _helpdesk_models  # noqa: F401
from permedhub.match import models as _match_models  # noqa: F401
from permedhub.regions import models as _regions_models  # noqa: F401
from permedhub.search import models as _search_models  # noqa: F401

target_metadata = Base.metadata
config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        context.configure(
            connection=conn,
            target_metadata=target_metadata,
            render_as_batch=conn.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
