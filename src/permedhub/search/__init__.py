"""Indexing and retrieval: what text each entity is found by, and ranked full-text search."""
