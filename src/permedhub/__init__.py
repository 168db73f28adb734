"""PerMed Hub: the ICPerMed family's knowledge graph, its portal and a tool per initiative."""

__version__ = "0.1.0"
