"""regions/' seed: region profiles and the family's events, from the package's YAML.

Validated by regions.schemas, then upserted by key in one transaction (a problem anywhere
stores nothing). Events name graph initiatives and topics, so the family seed
(graph.seed.seed) must be in the database first.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import Engine, select

from permedhub.db import writing
from permedhub.graph.models import Initiative, Topic
from permedhub.regions.models import RegionEvent, RegionProfile
from permedhub.regions.schemas import SeedDocument


class SeedError(Exception):
    pass


@dataclass(frozen=True)
class SeedReport:
    profiles: int
    events: int


def seed_files() -> list[Path]:
    folder = Path(str(resources.files("permedhub.regions") / "seed"))
    return sorted(folder.glob("*.yaml"))


def read(paths: list[Path]) -> SeedDocument:
    merged: dict[str, list[Any]] = {"profiles": [], "events": []}
    for path in paths:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, records in data.items():
            merged.setdefault(key, []).extend(records or [])
    try:
        return SeedDocument.model_validate(merged)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:20]
        )
        raise SeedError(f"regions seed: {problems}") from None


def seed(engine: Engine, paths: list[Path] | None = None) -> SeedReport:
    """Upsert the seed's profiles and events; safe to run again."""
    document = read(paths or seed_files())
    with writing(engine) as session:
        initiatives = set(session.scalars(select(Initiative.id)))
        topics = set(session.scalars(select(Topic.id)))
        problems = [
            f"event {e.id}: initiative {e.initiative!r} is not in the graph"
            for e in document.events
            if e.initiative and e.initiative not in initiatives
        ] + [
            f"event {e.id}: topic {t!r} is not in the graph"
            for e in document.events
            for t in e.topics
            if t not in topics
        ]
        if problems:
            raise SeedError("; ".join(problems))
        for profile in document.profiles:
            session.merge(RegionProfile(**profile.model_dump()))
        for event in document.events:
            values = event.model_dump(exclude={"initiative"})
            values["initiative_id"] = event.initiative
            existing = session.get(RegionEvent, event.id)
            if existing is None:
                session.add(RegionEvent(**values))
            else:
                values.pop("registration_open")  # a curator's choice survives a re-seed
                for key, value in values.items():
                    setattr(existing, key, value)
    return SeedReport(len(document.profiles), len(document.events))


def ensure_seeded(engine: Engine) -> bool:
    """Seed profiles and events into a database that has none yet; True when it seeded."""
    with engine.connect() as connection:
        has_any = connection.execute(select(RegionEvent.id).limit(1)).first() is not None
    if has_any:
        return False
    seed(engine)
    return True
