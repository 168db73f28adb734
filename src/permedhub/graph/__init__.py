"""The family's knowledge graph: tables, validation, loading, queries and export."""
