"""The bulk writer moved to `permedhub.bulk` (search/ uses it too and imports nothing from
graph/); `graph.preparing` still names it here."""

from permedhub.bulk import dumps_bytes as dumps_bytes
