"""JSON API routers, one per area."""
