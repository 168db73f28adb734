"""The taxonomy: topic views and the topic tree."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from permedhub.graph.models import Topic
from permedhub.graph.queries.common import marks
from permedhub.graph.views import TopicView


def _topic_view(t: Topic) -> TopicView:
    return TopicView(id=t.id, name=t.name, kind=t.kind, parent_id=t.parent_id, **marks(t))


def topics_by_id(session: Session, ids: Sequence[str]) -> list[TopicView]:
    if not ids:
        return []
    found = {
        t.id: _topic_view(t)
        for t in session.execute(select(Topic).where(Topic.id.in_(ids))).scalars()
    }
    return [found[i] for i in ids if i in found]


def topic_tree(session: Session) -> list[TopicView]:
    """The taxonomy as a forest: documents with their areas, perspectives and pillars."""
    views = {
        t.id: _topic_view(t)
        for t in session.execute(select(Topic).order_by(Topic.position, Topic.name)).scalars()
    }
    roots: list[TopicView] = []
    for view in views.values():
        parent = views.get(view.parent_id or "")
        (parent.children if parent else roots).append(view)
    return roots
