"""Persistence with SQLAlchemy 2 (async): SQLite by default, PostgreSQL in production."""

from segway_gateway.gateway.store.db import Database, normalize_url

__all__ = ["Database", "normalize_url"]
